"""The one ISO 8601 writer: module results in ``+00:00``, the report in ``Z``, both in UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from dateutil.tz import tzutc

from ansible_collections.rotator.aws_iam.plugins.module_utils._common.times import iso

WHEN = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
PARIS_SUMMER = timezone(timedelta(hours=2))


def test_nothing_is_none():
    assert iso(None) is None
    assert iso(None, zulu=True) is None


@pytest.mark.parametrize("value, text", [
    pytest.param(WHEN, "2025-06-01T12:00:00+00:00", id="utc"),
    # botocore's dates carry dateutil's tzutc(): written as the results have always shown them.
    pytest.param(datetime(2025, 6, 1, 12, 0, 0, tzinfo=tzutc()), "2025-06-01T12:00:00+00:00", id="botocore-tzutc"),
    pytest.param(WHEN.replace(microsecond=250000), "2025-06-01T12:00:00.250000+00:00", id="fraction-kept"),
    pytest.param(datetime(2025, 6, 1, 14, 0, 0, tzinfo=PARIS_SUMMER), "2025-06-01T12:00:00+00:00", id="other-zone"),
    pytest.param(datetime(2025, 6, 1, 12, 0, 0), "2025-06-01T12:00:00+00:00", id="naive-is-utc"),
])
def test_module_results_end_in_an_offset(value, text):
    assert iso(value) == text


@pytest.mark.parametrize("value, text", [
    pytest.param(WHEN, "2025-06-01T12:00:00Z", id="utc"),
    pytest.param(WHEN.replace(microsecond=250000), "2025-06-01T12:00:00.250000Z", id="fraction-kept"),
    pytest.param(datetime(2025, 6, 1, 14, 0, 0, tzinfo=PARIS_SUMMER), "2025-06-01T12:00:00Z", id="other-zone"),
])
def test_the_report_ends_in_z(value, text):
    assert iso(value, zulu=True) == text

"""The password rotation tag: round trip within IAM's limits on tag values, and refusing what it cannot read."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import StateFormatError
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.state_tag import decode_password_state, encode_password_state

TAG_VALUE = re.compile(r"^[A-Za-z0-9 _.:/=+\-@]*$")
WHEN = datetime(2024, 6, 1, 12, 30, 45, tzinfo=timezone.utc)

times = st.datetimes(min_value=datetime(2006, 1, 1), max_value=datetime(2099, 12, 31),
                     timezones=st.just(timezone.utc)).map(lambda value: value.replace(microsecond=0))


@settings(max_examples=100, deadline=None)
@given(rotated_at=times)
def test_password_state_round_trip(rotated_at):
    value = encode_password_state(rotated_at)
    assert len(value) <= 256 and TAG_VALUE.match(value)
    assert decode_password_state(value) == rotated_at


def test_password_state_encoding():
    assert encode_password_state(WHEN) == "v1 rotated=20240601T123045Z"
    assert decode_password_state(None) is None


@pytest.mark.parametrize("value", [
    pytest.param("", id="empty"),
    pytest.param("v1", id="version-only"),
    pytest.param("v2 rotated=20240601T123045Z", id="unknown-version"),
    pytest.param("v1 changed=20240601T123045Z", id="other-field"),
    pytest.param("v1 rotated=20240601T123045Z new=AKIAAAAAAAAAAAAAAAAA", id="extra-field"),
    pytest.param("v1 rotated=yesterday", id="bad-time"),
])
def test_malformed_password_state_is_refused(value):
    with pytest.raises(StateFormatError):
        decode_password_state(value)

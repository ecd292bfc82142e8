"""Fetching the credential report through the gateway, against botocore's Stubber: its states, its GeneratedTime, no report."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway


REPORT = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed\n"
          "<root_account>,arn:aws:iam::123456789012:root,2026-01-01T00:00:00+00:00,not_supported,N/A,not_supported\n"
          "alice,arn:aws:iam::123456789012:user/alice,2026-01-01T00:00:00+00:00,true,N/A,2026-03-04T05:06:07+00:00\n"
          "bob,arn:aws:iam::123456789012:user/bob,2026-01-01T00:00:00+00:00,false,N/A,N/A\n")
GENERATED = datetime(2026, 3, 5, 1, 2, 3, tzinfo=timezone.utc)


def test_the_one_report_fetcher_waits_through_the_states_and_gives_the_generated_time(iam):
    client, stubber = iam
    for state in ("STARTED", "INPROGRESS", "COMPLETE"):
        stubber.add_response("generate_credential_report", {"State": state})
    stubber.add_response("get_credential_report", {"Content": REPORT.encode(), "ReportFormat": "text/csv",
                                                   "GeneratedTime": GENERATED})
    pauses = []
    report = IAMGateway(client).credential_report(sleep=pauses.append, clock=lambda: 0.0)
    assert (report.content, report.generated_time, pauses) == (REPORT, GENERATED, [0.2, 0.4])


def test_password_last_changed_reads_the_same_report(iam):
    client, stubber = iam
    stubber.add_response("generate_credential_report", {"State": "COMPLETE"})
    stubber.add_response("get_credential_report", {"Content": REPORT.encode(), "ReportFormat": "text/csv",
                                                   "GeneratedTime": GENERATED})
    assert IAMGateway(client).password_last_changed() == {"alice": datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)}


def test_a_report_not_ready_in_time_is_an_error_never_an_empty_answer(iam):
    client, stubber = iam
    for _attempt in range(4):
        stubber.add_response("generate_credential_report", {"State": "INPROGRESS"})
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(RotationError, match=r"^the credential report was not ready within 2 seconds \(state INPROGRESS\)$"):
        IAMGateway(client).credential_report(timeout=2, sleep=sleep, clock=lambda: now[0])


def test_without_generate_only_an_existing_report_is_read(iam):
    client, stubber = iam
    stubber.add_response("get_credential_report", {"Content": REPORT.encode(), "ReportFormat": "text/csv",
                                                   "GeneratedTime": GENERATED})
    stubber.add_client_error("get_credential_report", "ReportNotPresent", http_status_code=410)
    gateway = IAMGateway(client)
    assert gateway.credential_report(generate=False).generated_time == GENERATED
    assert gateway.credential_report(generate=False) is None

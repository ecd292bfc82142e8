"""The gateway's console password calls, against botocore's Stubber (the IAM model checks every request)."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.rotator.aws_iam.plugins.module_utils.iam_gateway import IAMGateway, RotationError, UserNotFound


@pytest.fixture(name="iam")
def fixture_iam():
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_set_password_retries_entity_temporarily_unmodifiable(iam):
    client, stubber = iam
    params = {"UserName": "alice", "Password": "Pw-1234567890", "PasswordResetRequired": False}
    for _attempt in range(2):
        stubber.add_client_error("update_login_profile", "EntityTemporarilyUnmodifiable", expected_params=params)
    stubber.add_response("update_login_profile", {}, expected_params=params)
    sleeps = []
    IAMGateway(client).set_password("alice", "Pw-1234567890", False, sleep=sleeps.append)
    assert sleeps == [1, 2]


def test_set_password_gives_up_after_the_attempts(iam):
    client, stubber = iam
    for _attempt in range(3):
        stubber.add_client_error("update_login_profile", "EntityTemporarilyUnmodifiable")
    with pytest.raises(RotationError, match="EntityTemporarilyUnmodifiable"):
        IAMGateway(client).set_password("alice", "Pw-1234567890", False, attempts=3, sleep=lambda s: None)


def test_policy_violation_is_a_clear_error_without_the_password(iam):
    client, stubber = iam
    stubber.add_client_error("create_login_profile", "PasswordPolicyViolation", "Password should have a symbol")
    with pytest.raises(RotationError) as caught:
        IAMGateway(client).set_password("alice", "Pw-1234567890", True, create=True)
    assert "refused by the account's password policy" in str(caught.value)
    assert "Password should have a symbol" in str(caught.value)
    assert "Pw-1234567890" not in str(caught.value)


def test_missing_profile_and_missing_user_are_told_apart(iam):
    client, stubber = iam
    stubber.add_client_error("get_login_profile", "NoSuchEntity")
    stubber.add_response("get_user", {"User": {"Path": "/", "UserName": "alice", "UserId": "AIDAEXAMPLEEXAMPLE1",
                                               "Arn": "arn:aws:iam::123456789012:user/alice",
                                               "CreateDate": datetime(2026, 1, 1, tzinfo=timezone.utc)}})
    stubber.add_client_error("get_login_profile", "NoSuchEntity")
    stubber.add_client_error("get_user", "NoSuchEntity")
    gateway = IAMGateway(client)
    assert gateway.login_profile("alice") is None
    with pytest.raises(UserNotFound, match="user nobody does not exist"):
        gateway.login_profile("nobody")


def test_credential_report_is_parsed(iam):
    client, stubber = iam
    stubber.add_response("generate_credential_report", {"State": "STARTED"})
    stubber.add_response("generate_credential_report", {"State": "COMPLETE"})
    content = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed\n"
               "<root_account>,arn:aws:iam::123456789012:root,2026-01-01T00:00:00+00:00,not_supported,N/A,not_supported\n"
               "alice,arn:aws:iam::123456789012:user/alice,2026-01-01T00:00:00+00:00,true,N/A,2026-03-04T05:06:07+00:00\n"
               "bob,arn:aws:iam::123456789012:user/bob,2026-01-01T00:00:00+00:00,false,N/A,N/A\n").encode()
    stubber.add_response("get_credential_report", {"Content": content, "ReportFormat": "text/csv"})
    changed = IAMGateway(client).password_last_changed(sleep=lambda s: None)
    assert changed == {"alice": datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)}


def test_credential_report_not_ready_gives_nothing(iam):
    client, stubber = iam
    for _attempt in range(3):
        stubber.add_response("generate_credential_report", {"State": "INPROGRESS"})
    assert IAMGateway(client).password_last_changed(attempts=3, sleep=lambda s: None) == {}


def test_account_without_policy(iam):
    client, stubber = iam
    stubber.add_client_error("get_account_password_policy", "NoSuchEntity")
    assert IAMGateway(client).account_password_policy() is None

"""The gateway's console password calls, against botocore's Stubber (the IAM model checks every request)."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import botocore.exceptions
import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import KeyLimitReached, RotationError, UserNotFound
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_passwords import PasswordOutcomeUnknown, PasswordRefused

ROTATED_AT = datetime(2026, 3, 5, 1, 2, 3, tzinfo=timezone.utc)


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


def test_an_unclear_outcome_is_told_apart_from_a_refusal(iam):
    client, stubber = iam
    stubber.add_client_error("update_login_profile", "ServiceFailure", http_status_code=500)
    stubber.add_client_error("update_login_profile", "AccessDenied", http_status_code=403)
    stubber.add_client_error("update_login_profile", "PasswordPolicyViolation", http_status_code=400,
                             response_meta={"RetryAttempts": 2})
    stubber.add_client_error("update_login_profile", "Throttling", http_status_code=400)
    gateway = IAMGateway(client)
    with pytest.raises(PasswordOutcomeUnknown, match="^the outcome of setting the console password of alice is unknown"):
        gateway.set_password("alice", "Pw-1234567890", False)
    with pytest.raises(PasswordRefused, match="^setting the console password of alice failed: AccessDenied") as refused:
        gateway.set_password("alice", "Pw-1234567890", False)
    assert refused.value.code == "AccessDenied"
    # A refusal of a retry says nothing about the attempts before it, which IAM may have applied.
    with pytest.raises(PasswordOutcomeUnknown):
        gateway.set_password("alice", "Pw-1234567890", False)
    with pytest.raises(PasswordOutcomeUnknown):
        gateway.set_password("alice", "Pw-1234567890", False)


def test_a_dropped_connection_leaves_the_outcome_unknown():
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")

    def dropped(**_kwargs):
        raise botocore.exceptions.ConnectionClosedError(endpoint_url="https://iam.amazonaws.com/")

    client.update_login_profile = dropped
    with pytest.raises(PasswordOutcomeUnknown) as caught:
        IAMGateway(client).set_password("alice", "Pw-1234567890", False)
    assert "Pw-1234567890" not in str(caught.value)


def test_the_tag_quota_on_the_password_record_is_named_as_such(iam):
    client, stubber = iam
    stubber.add_client_error("tag_user", "LimitExceeded", "Cannot exceed quota for TagsPerUser: 50", 409)
    with pytest.raises(RotationError) as caught:
        IAMGateway(client).record_password_rotation("alice", ROTATED_AT)
    assert not isinstance(caught.value, KeyLimitReached)
    assert str(caught.value) == ("recording the password rotation of alice failed: the user has reached IAM's limit "
                                 "of 50 tags per user, so tag rotator:password-rotation cannot be added "
                                 "(LimitExceeded: Cannot exceed quota for TagsPerUser: 50)")


def test_account_without_policy(iam):
    client, stubber = iam
    stubber.add_client_error("get_account_password_policy", "NoSuchEntity")
    assert IAMGateway(client).account_password_policy() is None

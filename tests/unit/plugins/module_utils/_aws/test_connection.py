"""Checks of the connection options before any call is made, and how AWS errors are described."""

from __future__ import annotations

import boto3
import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, NoCredentialsError

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    CONNECTION_ARGSPEC,
    DEFAULT_REGION,
    AWSConnection,
    connection_errors,
    error_code,
    error_message,
    _session_with,
    role_errors,
)

ROLE = "arn:aws:iam::123456789012:role/rotator"


def params(**values):
    """Module parameters as AnsibleModule hands them over: every option present, defaults filled in."""
    result = {name: spec.get("default") for name, spec in CONNECTION_ARGSPEC.items()}
    result.update(values)
    return result


@pytest.mark.parametrize("values", [
    pytest.param({}, id="default-chain"),
    pytest.param({"profile": "prod"}, id="profile"),
    pytest.param({"access_key": "AKIAEXAMPLE", "secret_key": "s"}, id="keys"),
    pytest.param({"access_key": "AKIAEXAMPLE", "secret_key": "s", "session_token": "t"}, id="keys-and-token"),
    pytest.param({"session_token": "t"}, id="token-from-the-environment-alone"),
    pytest.param({"assume_role_arn": ROLE}, id="role"),
    pytest.param({"profile": "prod", "assume_role_arn": "arn:aws:iam::123456789012:role/path/to/Role+=,.@-_",
                  "assume_role_external_id": "ext", "assume_role_session_name": "rotation@2024",
                  "assume_role_duration_seconds": 43200}, id="profile-and-role-with-path"),
    pytest.param({"assume_role_arn": "arn:aws-us-gov:iam::123456789012:role/R", "assume_role_duration_seconds": 900},
                 id="govcloud-role-shortest-duration"),
    pytest.param({"assume_role_arn": "arn:aws-cn:iam::123456789012:role/R", "assume_role_session_name": "ab"},
                 id="china-role-shortest-session-name"),
    pytest.param({"assume_role_arn": ROLE, "assume_role_session_name": "s" * 64}, id="longest-session-name"),
    pytest.param({"max_attempts": 1}, id="one-attempt"),
    pytest.param({"retry_mode": "adaptive", "max_attempts": 20}, id="adaptive-retries"),
    pytest.param({"assume_role_session_name": "bad name", "assume_role_duration_seconds": 5},
                 id="role-settings-ignored-without-a-role"),
])
def test_valid_combinations(values):
    assert connection_errors(params(**values)) == []


def test_valid_with_only_the_given_keys():
    assert connection_errors({}) == []
    assert connection_errors({"assume_role_arn": ROLE}) == []


@pytest.mark.parametrize("values, fragment", [
    pytest.param({"profile": "prod", "access_key": "AKIAEXAMPLE", "secret_key": "s"}, "mutually exclusive",
                 id="profile-and-keys"),
    pytest.param({"profile": "prod", "session_token": "t"}, "mutually exclusive", id="profile-and-token"),
    pytest.param({"access_key": "AKIAEXAMPLE"}, "access_key and secret_key must be given together",
                 id="access-key-without-secret"),
    pytest.param({"secret_key": "s"}, "access_key and secret_key must be given together",
                 id="secret-without-access-key"),
    pytest.param({"assume_role_arn": "arn:aws:iam::123456789012:user/rotator"}, "is not an IAM role ARN",
                 id="user-arn-as-role"),
    pytest.param({"assume_role_arn": "arn:aws:iam::12345:role/rotator"}, "is not an IAM role ARN",
                 id="short-account-id"),
    pytest.param({"assume_role_arn": "rotator"}, "is not an IAM role ARN", id="role-name-only"),
    pytest.param({"assume_role_arn": "arn:aws:sts::123456789012:assumed-role/rotator/s"}, "is not an IAM role ARN",
                 id="assumed-role-arn"),
    pytest.param({"assume_role_arn": ROLE + " "}, "is not an IAM role ARN", id="trailing-space"),
    pytest.param({"assume_role_arn": ROLE, "assume_role_session_name": "a"}, "assume_role_session_name",
                 id="session-name-too-short"),
    pytest.param({"assume_role_arn": ROLE, "assume_role_session_name": "s" * 65}, "assume_role_session_name",
                 id="session-name-too-long"),
    pytest.param({"assume_role_arn": ROLE, "assume_role_session_name": "my session"}, "assume_role_session_name",
                 id="session-name-with-space"),
    pytest.param({"assume_role_arn": ROLE, "assume_role_session_name": "a/b"}, "assume_role_session_name",
                 id="session-name-with-slash"),
    pytest.param({"assume_role_arn": ROLE, "assume_role_duration_seconds": 899}, "between 900 and 43200",
                 id="duration-too-short"),
    pytest.param({"assume_role_arn": ROLE, "assume_role_duration_seconds": 43201}, "between 900 and 43200",
                 id="duration-too-long"),
    pytest.param({"assume_role_arn": ROLE, "assume_role_duration_seconds": 0}, "between 900 and 43200",
                 id="duration-zero"),
    pytest.param({"max_attempts": 0}, "max_attempts must be at least 1", id="max-attempts-zero"),
    pytest.param({"max_attempts": -3}, "max_attempts must be at least 1", id="max-attempts-negative"),
])
def test_invalid_combinations(values, fragment):
    errors = connection_errors(params(**values))
    assert len(errors) == 1, errors
    assert fragment in errors[0]


def test_every_problem_is_reported_at_once():
    errors = connection_errors(params(profile="prod", access_key="AKIAEXAMPLE", assume_role_arn="nope",
                                      max_attempts=0))
    assert len(errors) == 4


def test_errors_never_quote_the_secret_key():
    errors = connection_errors(params(profile="prod", secret_key="very-secret-value"))
    assert errors and not any("very-secret-value" in error for error in errors)


def test_role_errors_carry_the_prefix_of_the_option():
    errors = role_errors({"assume_role_arn": "nope", "assume_role_session_name": "x",
                          "assume_role_duration_seconds": 1}, "secret.")
    assert len(errors) == 3
    assert all(error.startswith("secret.assume_role_") for error in errors)


def test_role_errors_quote_the_bad_values():
    errors = role_errors({"assume_role_arn": "arn:aws:iam::1:role/x", "assume_role_session_name": "no way"}, "")
    assert "'arn:aws:iam::1:role/x'" in errors[0]


def test_no_role_no_role_errors():
    assert role_errors({"assume_role_session_name": "x", "assume_role_duration_seconds": 1}, "secret.") == []


def test_missing_region_defaults_to_us_east_1():
    assert DEFAULT_REGION == "us-east-1"
    assert AWSConnection(session=None, region=None).region == "us-east-1"
    assert AWSConnection(session=None, region="eu-central-1").region == "eu-central-1"


def test_client_error_code_and_message():
    exc = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "ListAccessKeys")
    assert error_code(exc) == "Throttling"
    assert error_message(exc) == "Throttling: Rate exceeded"


def test_botocore_error_code_is_its_class_name():
    exc = NoCredentialsError()
    assert error_code(exc) == "NoCredentialsError"
    assert error_message(exc) == "Unable to locate credentials"


def test_max_attempts_counts_every_attempt_and_a_client_without_retries_tries_once():
    session = boto3.session.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="s")
    connection = AWSConnection(session, "us-east-1", retry_mode="adaptive", max_attempts=4)
    retrying, once = connection.client("iam"), connection.client("iam", retries=False)
    assert retrying is connection.client("iam") and once is connection.client("iam", retries=False)
    # botocore adds the first attempt to a retries dict's max_attempts; total_max_attempts is the whole count
    assert retrying.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 4}
    assert once.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 1}


def test_an_assumed_roles_credentials_come_before_the_whole_default_chain(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-the-environment")
    credentials = Credentials("ASIAASSUMEDROLE00001", "assumed-secret", "token")
    session = _session_with(credentials)
    assert session.get_credentials() is credentials

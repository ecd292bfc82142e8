"""Errors keep AWS's request id, as amazon.aws's ``fail_json_aws`` does: support cases need it, and it is not secret.

Each test provokes a real AWS error through the stub and compares the message with the request id AWS sent
with that very answer (read from the client's own ``after-call`` event).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import AWSConnectionError, error_message
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError, UserNotFound
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_passwords import PasswordRefused, password_failure
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import AccessKeySecret, DestinationError
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.ssm import SSMParameterDestination

ROLE = "arn:aws:iam::222222222222:role/Missing"


class RequestIds:
    """The request ids of the error answers one client received, in order."""

    def __init__(self, client, operation):
        self.ids = []
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register("after-call.%s.%s" % (service, operation), self._record)

    def _record(self, http_response, parsed, **_kwargs):
        if "Error" in parsed:
            self.ids.append(parsed["ResponseMetadata"]["RequestId"])

    @property
    def only(self):
        assert len(self.ids) == 1 and self.ids[0]
        return self.ids[0]


def test_a_missing_user_is_a_fact_stated_alone(aws):
    # The same words wherever a user is found missing (selection reports it "gone"): no request id.
    with pytest.raises(UserNotFound) as raised:
        IAMGateway(aws.connect().client("iam")).user_tags("ghost")
    assert str(raised.value) == "user ghost does not exist"


def test_a_failed_read_names_the_request_id(aws):
    client = aws.connect().client("iam")
    answers = RequestIds(client, "GetAccessKeyLastUsed")
    missing = "AKIAIOSFODNN7EXAMPLE"
    with pytest.raises(RotationError) as raised:
        IAMGateway(client).access_key_last_used("alice", missing)
    assert str(raised.value).startswith("reading last use of %s failed: " % missing)
    assert str(raised.value).endswith(" (request id %s)" % answers.only)


def test_a_refused_call_names_the_request_id(aws):
    aws.user("alice")
    client = aws.connect().client("iam")
    answers = RequestIds(client, "UpdateAccessKey")
    missing = "AKIAIOSFODNN7EXAMPLE"
    with pytest.raises(RotationError) as raised:
        IAMGateway(client).set_access_key_status("alice", missing, "Active")
    assert str(raised.value) == (
        "setting %s to Active failed: NoSuchEntity: The Access Key with id %s cannot be found (request id %s)"
        % (missing, missing, answers.only))


def test_a_refused_password_names_the_request_id(aws):
    aws.user("alice")  # no login profile: UpdateLoginProfile is NoSuchEntity
    client = aws.connect().client("iam")
    answers = RequestIds(client, "UpdateLoginProfile")
    with pytest.raises(PasswordRefused) as raised:
        IAMGateway(client).set_password("alice", "Not-the-point-1", reset_required=False)
    assert str(raised.value) == (
        "setting the console password of alice failed: NoSuchEntity: Login profile for alice not found "
        "(request id %s)" % answers.only)


def test_a_refused_role_names_the_request_id(aws):
    aws.control("POST", "aws-rules", {"assume_role_requires_role": True})
    base = aws.connect()
    answers = RequestIds(base.client("sts"), "AssumeRole")
    with pytest.raises(AWSConnectionError) as raised:
        base.assume_role(ROLE, "rotator-test")
    message = str(raised.value)
    assert message.startswith("cannot assume role %s: AccessDenied: " % ROLE)
    assert message.endswith(" (request id %s)" % answers.only)


def test_a_refused_destination_write_names_the_request_id(aws):
    connection = aws.connect()
    answers = RequestIds(connection.client("ssm"), "PutParameter")
    destination = SSMParameterDestination(connection, "/aws/rotator/alice", "alice")  # a name AWS reserves
    with pytest.raises(DestinationError) as raised:
        destination.write(AccessKeySecret("alice", "AKIAIOSFODNN7EXAMPLE", "x" * 40))
    assert str(raised.value) == (
        "writing parameter /aws/rotator/alice failed: AccessDeniedException: No access to reserved parameter name: "
        "/aws/rotator/alice. (request id %s)" % answers.only)


def test_an_answer_without_a_request_id_is_described_without_one():
    refusal = ClientError({"Error": {"Code": "ValidationException", "Message": "bad name"},
                           "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutParameter")
    assert error_message(refusal) == "ValidationException: bad name"


def test_a_password_the_policy_refused_names_the_request_id():
    refusal = ClientError({"Error": {"Code": "PasswordPolicyViolation", "Message": "Password should have a symbol"},
                           "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "8c1f-example"}},
                          "UpdateLoginProfile")
    failure = password_failure("alice", refusal, in_doubt=False)
    assert isinstance(failure, PasswordRefused) and failure.code == "PasswordPolicyViolation"
    assert str(failure) == ("the new password of alice was refused by the account's password policy: Password should "
                            "have a symbol (request id 8c1f-example)")

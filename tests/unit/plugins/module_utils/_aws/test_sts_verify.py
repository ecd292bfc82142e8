"""Verifying a new key with STS: matching the caller's ARN to the user, and polling until the key works."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.sts_verify import user_arn_matches, wait_until_key_works

ACCOUNT = "123456789012"
USER = "alice"
NEW_KEY_ID = "AKIAPAGETHREE0000003"
NEW_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


# --- user ARNs --------------------------------------------------------------------------------------

@pytest.mark.parametrize("arn, expected", [
    pytest.param("arn:aws:iam::123456789012:user/alice", True, id="user"),
    pytest.param("arn:aws:iam::123456789012:user/division/team/alice", True, id="user-with-path"),
    pytest.param("arn:aws-cn:iam::123456789012:user/alice", True, id="china-partition"),
    pytest.param("arn:aws-us-gov:iam::123456789012:user/ops/alice", True, id="govcloud-partition"),
    pytest.param("arn:aws:iam::210987654321:user/alice", False, id="other-account"),
    pytest.param("arn:aws:iam::123456789012:user/bob", False, id="other-user"),
    pytest.param("arn:aws:iam::123456789012:user/alice2", False, id="longer-name"),
    pytest.param("arn:aws:iam::123456789012:user/xalice", False, id="name-suffix"),
    pytest.param("arn:aws:iam::123456789012:user/alice/bob", False, id="user-under-path-named-alice"),
    pytest.param("arn:aws:iam::123456789012:role/alice", False, id="role"),
    pytest.param("arn:aws:sts::123456789012:assumed-role/alice/session", False, id="assumed-role"),
    pytest.param("arn:aws:sts::123456789012:assumed-role/role/alice", False, id="assumed-role-session-alice"),
    pytest.param("arn:aws:sts::123456789012:federated-user/alice", False, id="federated-user"),
    pytest.param("arn:aws:iam::123456789012:root", False, id="root"),
    pytest.param("arn:aws:s3::123456789012:user/alice", False, id="other-service"),
    pytest.param("arn:aws:iam::123456789012:group/alice", False, id="group"),
    pytest.param("alice", False, id="not-an-arn"),
    pytest.param("", False, id="empty"),
])
def test_user_arn_matches(arn, expected):
    assert user_arn_matches(arn, ACCOUNT, USER) is expected


# --- polling a new key ---------------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedSTS:
    """Answers GetCallerIdentity from a script: exceptions are raised, ARNs returned, the last one repeats."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = 0

    def get_caller_identity(self):
        self.calls += 1
        answer = self.script[min(self.calls, len(self.script)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return {"UserId": "AIDAEXAMPLE", "Account": answer.split(":")[4], "Arn": answer}


class FakeConnection:
    def __init__(self, sts):
        self.sts = sts
        self.credentials = []
        self.services = []

    def with_credentials(self, access_key_id, secret_access_key):
        self.credentials.append((access_key_id, secret_access_key))
        return self

    def client(self, service):
        self.services.append(service)
        return self.sts


def invalid_token():
    return ClientError({"Error": {"Code": "InvalidClientTokenId",
                                  "Message": "The security token included in the request is invalid."}},
                       "GetCallerIdentity")


ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"


def poll(script, timeout, interval=2.0):
    clock = FakeClock()
    sts = ScriptedSTS(script)
    connection = FakeConnection(sts)
    problem = wait_until_key_works(connection, NEW_KEY_ID, NEW_SECRET, ACCOUNT, USER, timeout, interval=interval,
                                   clock=clock, sleep=clock.sleep)
    return problem, sts, connection, clock


def test_polls_with_the_new_key_until_it_works():
    problem, sts, connection, clock = poll([invalid_token(), EndpointConnectionError(endpoint_url="https://sts"),
                                            invalid_token(), ALICE], timeout=60)
    assert problem is None
    assert sts.calls == 4
    assert clock.sleeps == [2.0, 2.0, 2.0]
    assert connection.credentials == [(NEW_KEY_ID, NEW_SECRET)]
    assert connection.services == ["sts"]


def test_works_at_once_without_sleeping():
    problem, sts, _connection, clock = poll([ALICE], timeout=60)
    assert problem is None and sts.calls == 1 and clock.sleeps == []


def test_gives_up_after_the_timeout_with_the_last_error():
    problem, sts, _connection, clock = poll([invalid_token()], timeout=10)
    assert problem == "InvalidClientTokenId: The security token included in the request is invalid."
    assert sts.calls == 6
    assert clock.sleeps == [2.0] * 5
    assert clock.now - 1000.0 <= 10


def test_gives_up_when_the_key_is_another_users():
    problem, sts, _connection, clock = poll([invalid_token(), BOB], timeout=7, interval=3)
    assert problem == "the key authenticates as %s" % BOB
    assert sts.calls == 3
    assert clock.sleeps == [3, 3]


def test_last_problem_is_reported_not_the_first():
    problem = poll([BOB, BOB, invalid_token()], timeout=4)[0]
    assert problem.startswith("InvalidClientTokenId")


def test_zero_timeout_tries_once():
    problem, sts, _connection, clock = poll([invalid_token(), ALICE], timeout=0)
    assert problem.startswith("InvalidClientTokenId")
    assert sts.calls == 1 and clock.sleeps == []


def test_problem_never_contains_the_secret():
    problem = poll([invalid_token()], timeout=2)[0]
    assert NEW_SECRET not in problem

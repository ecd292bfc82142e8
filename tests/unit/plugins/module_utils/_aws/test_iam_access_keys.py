"""The IAM gateway against a stubbed botocore client, user ARN matching, and polling a new key."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import AccessKey
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import KeyLimitReached, RotationError, UserNotFound
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.sts_verify import user_arn_matches, wait_until_key_works
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    RotationState,
    encode_state,
)

ACCOUNT = "123456789012"
USER = "alice"
CREATED = datetime(2024, 1, 1, tzinfo=timezone.utc)
USED = datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc)
KEY_IDS = ["AKIAPAGEONE000000001", "AKIAPAGETWO000000002", "AKIAPAGETHREE0000003"]
NEW_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def iam():
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def metadata(key_id, status="Active"):
    return {"UserName": USER, "AccessKeyId": key_id, "Status": status, "CreateDate": CREATED}


def add_key_pages(stubber, pages):
    marker = None
    for number, page in enumerate(pages):
        response = {"AccessKeyMetadata": page, "IsTruncated": number < len(pages) - 1}
        expected = {"UserName": USER}
        if marker:
            expected["Marker"] = marker
        if response["IsTruncated"]:
            marker = response["Marker"] = "keys-page-%d" % (number + 2)
        stubber.add_response("list_access_keys", response, expected)


def add_tag_pages(stubber, pages):
    marker = None
    for number, page in enumerate(pages):
        response = {"Tags": page, "IsTruncated": number < len(pages) - 1}
        expected = {"UserName": USER}
        if marker:
            expected["Marker"] = marker
        if response["IsTruncated"]:
            marker = response["Marker"] = "tags-page-%d" % (number + 2)
        stubber.add_response("list_user_tags", response, expected)


def add_last_used(stubber, key_id, used=None):
    last_used = {"ServiceName": "N/A", "Region": "N/A"}
    if used:
        last_used = {"ServiceName": "s3", "Region": "us-east-1", "LastUsedDate": used}
    stubber.add_response("get_access_key_last_used", {"UserName": USER, "AccessKeyLastUsed": last_used},
                         {"AccessKeyId": key_id})


# --- listing keys ----------------------------------------------------------------------------

def test_keys_from_every_page_with_their_last_use(iam):
    client, stubber = iam
    add_key_pages(stubber, [[metadata(KEY_IDS[0])], [metadata(KEY_IDS[1], "Inactive")], [metadata(KEY_IDS[2])]])
    add_last_used(stubber, KEY_IDS[0], USED)
    add_last_used(stubber, KEY_IDS[1])
    add_last_used(stubber, KEY_IDS[2], USED)
    keys = IAMGateway(client).list_access_keys(USER)
    assert keys == [AccessKey(KEY_IDS[0], "Active", CREATED, USED), AccessKey(KEY_IDS[1], "Inactive", CREATED, None),
                    AccessKey(KEY_IDS[2], "Active", CREATED, USED)]


def test_keys_without_last_use_make_no_last_use_calls(iam):
    client, stubber = iam
    add_key_pages(stubber, [[metadata(KEY_IDS[0])], [metadata(KEY_IDS[1])]])
    keys = IAMGateway(client).list_access_keys(USER, with_last_used=False)
    assert [k.access_key_id for k in keys] == KEY_IDS[:2]
    assert all(k.last_used_date is None for k in keys)


def test_user_without_keys(iam):
    client, stubber = iam
    add_key_pages(stubber, [[]])
    assert IAMGateway(client).list_access_keys(USER) == []


def test_missing_user_is_user_not_found(iam):
    client, stubber = iam
    stubber.add_client_error("list_access_keys", service_error_code="NoSuchEntity",
                             service_message="The user with name alice cannot be found.", http_status_code=404)
    with pytest.raises(UserNotFound, match="user alice does not exist"):
        IAMGateway(client).list_access_keys(USER)


def test_missing_user_on_a_later_page_is_user_not_found(iam):
    client, stubber = iam
    stubber.add_response("list_access_keys", {"AccessKeyMetadata": [metadata(KEY_IDS[0])], "IsTruncated": True,
                                              "Marker": "keys-page-2"}, {"UserName": USER})
    stubber.add_client_error("list_access_keys", service_error_code="NoSuchEntity", http_status_code=404,
                             expected_params={"UserName": USER, "Marker": "keys-page-2"})
    with pytest.raises(UserNotFound):
        IAMGateway(client).list_access_keys(USER)


def test_access_denied_listing_keys_is_a_rotation_error(iam):
    client, stubber = iam
    stubber.add_client_error("list_access_keys", service_error_code="AccessDenied",
                             service_message="not authorized to perform iam:ListAccessKeys", http_status_code=403)
    with pytest.raises(RotationError) as raised:
        IAMGateway(client).list_access_keys(USER)
    assert not isinstance(raised.value, UserNotFound)
    assert str(raised.value) == ("listing access keys of alice failed: AccessDenied: "
                                 "not authorized to perform iam:ListAccessKeys")


def test_key_gone_while_reading_last_use_is_not_user_not_found(iam):
    client, stubber = iam
    add_key_pages(stubber, [[metadata(KEY_IDS[0])]])
    stubber.add_client_error("get_access_key_last_used", service_error_code="NoSuchEntity", http_status_code=404)
    with pytest.raises(RotationError) as raised:
        IAMGateway(client).list_access_keys(USER)
    assert not isinstance(raised.value, UserNotFound)
    assert KEY_IDS[0] in str(raised.value)


# --- rotation state -----------------------------------------------------------------------------

STATE = RotationState(new_key=KEY_IDS[1], old_key=KEY_IDS[0], verified=True,
                      rotated_at=datetime(2024, 5, 1, tzinfo=timezone.utc))


def test_state_tag_found_on_the_last_page(iam):
    client, stubber = iam
    add_tag_pages(stubber, [[{"Key": "team", "Value": "data"}], [{"Key": "owner", "Value": "bob"}],
                            [{"Key": ACCESS_KEY_STATE_TAG, "Value": encode_state(STATE)}]])
    assert IAMGateway(client).rotation_state_with_room(USER) == (STATE, True)


def test_no_state_tag_is_empty_state(iam):
    client, stubber = iam
    add_tag_pages(stubber, [[{"Key": "team", "Value": "data"}], []])
    assert IAMGateway(client).rotation_state_with_room(USER) == (RotationState(), True)


def test_malformed_state_tag_is_a_rotation_error_naming_the_tag(iam):
    client, stubber = iam
    add_tag_pages(stubber, [[], [{"Key": ACCESS_KEY_STATE_TAG, "Value": "edited by hand"}]])
    with pytest.raises(RotationError) as raised:
        IAMGateway(client).rotation_state_with_room(USER)
    assert ACCESS_KEY_STATE_TAG in str(raised.value) and USER in str(raised.value)
    assert "edited by hand" in str(raised.value)


@pytest.mark.parametrize("other_tags, with_state, room", [(49, False, True), (50, False, False), (49, True, True)])
def test_room_for_the_state_tag_follows_iams_fifty_tags_per_user(iam, other_tags, with_state, room):
    client, stubber = iam
    tags = [{"Key": "tag-%02d" % index, "Value": "x"} for index in range(other_tags)]
    if with_state:
        tags.append({"Key": ACCESS_KEY_STATE_TAG, "Value": encode_state(STATE)})
    add_tag_pages(stubber, [tags])
    assert IAMGateway(client).rotation_state_with_room(USER) == (STATE if with_state else RotationState(), room)


def test_missing_user_reading_tags_is_user_not_found(iam):
    client, stubber = iam
    stubber.add_client_error("list_user_tags", service_error_code="NoSuchEntity", http_status_code=404)
    with pytest.raises(UserNotFound):
        IAMGateway(client).rotation_state_with_room(USER)


def test_record_rotation_state_writes_one_tag(iam):
    client, stubber = iam
    stubber.add_response("tag_user", {}, {"UserName": USER,
                                          "Tags": [{"Key": ACCESS_KEY_STATE_TAG, "Value": encode_state(STATE)}]})
    assert IAMGateway(client).record_rotation_state(USER, STATE) is None


# --- changing keys ---------------------------------------------------------------------------------

def test_create_access_key_returns_key_and_secret(iam):
    client, stubber = iam
    stubber.add_response("create_access_key", {"AccessKey": dict(metadata(KEY_IDS[2]), SecretAccessKey=NEW_SECRET)},
                         {"UserName": USER})
    key, secret, lost = IAMGateway(client).create_access_key(USER, [KEY_IDS[0]])
    assert key == AccessKey(KEY_IDS[2], "Active", CREATED)
    assert secret == NEW_SECRET
    assert lost == []


# Retries of CreateAccessKey and what a failed attempt leaves behind are proven against moto on loopback
# (tests/unit/safety/test_access_key_safety.py): a stubbed client sends nothing, so no retry event fires.


@pytest.mark.parametrize("code,status", [("AccessDenied", 403), ("LimitExceeded", 409), ("ValidationError", 400)])
def test_create_is_not_tried_again_after_an_error_that_is_not_transient(iam, code, status):
    client, stubber = iam
    stubber.add_client_error("create_access_key", service_error_code=code, http_status_code=status)
    with pytest.raises(RotationError, match="failed: " + code) as raised:
        IAMGateway(client).create_access_key(USER, [KEY_IDS[0]])
    assert isinstance(raised.value, KeyLimitReached) == (code == "LimitExceeded")


def test_key_limit_on_create_is_a_rotation_error_without_secret(iam):
    client, stubber = iam
    stubber.add_client_error("create_access_key", service_error_code="LimitExceeded",
                             service_message="Cannot exceed quota for AccessKeysPerUser: 2", http_status_code=409)
    with pytest.raises(RotationError, match="creating an access key for alice failed: LimitExceeded"):
        IAMGateway(client).create_access_key(USER, [KEY_IDS[0]])


def test_set_access_key_status(iam):
    client, stubber = iam
    stubber.add_response("update_access_key", {}, {"UserName": USER, "AccessKeyId": KEY_IDS[0], "Status": "Inactive"})
    assert IAMGateway(client).set_access_key_status(USER, KEY_IDS[0], "Inactive") is None


def test_activating_a_missing_key_is_a_rotation_error(iam):
    client, stubber = iam
    stubber.add_client_error("update_access_key", service_error_code="NoSuchEntity", http_status_code=404)
    with pytest.raises(RotationError) as raised:
        IAMGateway(client).set_access_key_status(USER, KEY_IDS[0], "Active")
    assert not isinstance(raised.value, UserNotFound)


def test_deactivating_a_key_deleted_meanwhile_is_not_an_error(iam):
    client, stubber = iam
    stubber.add_client_error("update_access_key", service_error_code="NoSuchEntity", http_status_code=404,
                             expected_params={"UserName": USER, "AccessKeyId": KEY_IDS[0], "Status": "Inactive"})
    assert IAMGateway(client).set_access_key_status(USER, KEY_IDS[0], "Inactive") is None


def test_delete_access_key(iam):
    client, stubber = iam
    stubber.add_response("delete_access_key", {}, {"UserName": USER, "AccessKeyId": KEY_IDS[0]})
    assert IAMGateway(client).delete_access_key(USER, KEY_IDS[0]) is None


def test_delete_of_a_missing_key_is_not_an_error(iam):
    client, stubber = iam
    stubber.add_client_error("delete_access_key", service_error_code="NoSuchEntity", http_status_code=404,
                             expected_params={"UserName": USER, "AccessKeyId": KEY_IDS[0]})
    assert IAMGateway(client).delete_access_key(USER, KEY_IDS[0]) is None


def test_delete_refused_is_a_rotation_error(iam):
    client, stubber = iam
    stubber.add_client_error("delete_access_key", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(RotationError, match="deleting %s failed: AccessDenied" % KEY_IDS[0]):
        IAMGateway(client).delete_access_key(USER, KEY_IDS[0])


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
    problem = wait_until_key_works(connection, KEY_IDS[2], NEW_SECRET, ACCOUNT, USER, timeout, interval=interval,
                                   clock=clock, sleep=clock.sleep)
    return problem, sts, connection, clock


def test_polls_with_the_new_key_until_it_works():
    problem, sts, connection, clock = poll([invalid_token(), EndpointConnectionError(endpoint_url="https://sts"),
                                            invalid_token(), ALICE], timeout=60)
    assert problem is None
    assert sts.calls == 4
    assert clock.sleeps == [2.0, 2.0, 2.0]
    assert connection.credentials == [(KEY_IDS[2], NEW_SECRET)]
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


def test_tags_of_every_user_come_from_account_authorization_details_pages(iam):
    client, stubber = iam
    user = {"Path": "/", "UserId": "AIDAEXAMPLE000000001", "Arn": "arn:aws:iam::%s:user/u" % ACCOUNT,
            "CreateDate": CREATED}
    stubber.add_response("get_account_authorization_details", {
        "UserDetailList": [dict(user, UserName="ann", Tags=[{"Key": "rotator:exempt", "Value": ""}]),
                           dict(user, UserName="bob")],
        "IsTruncated": True, "Marker": "page-2"}, {"Filter": ["User"], "MaxItems": 1000})
    stubber.add_response("get_account_authorization_details", {
        "UserDetailList": [dict(user, UserName="cid", Tags=[{"Key": "team", "Value": "ops"}])],
        "IsTruncated": False}, {"Filter": ["User"], "MaxItems": 1000, "Marker": "page-2"})
    assert IAMGateway(client).tags_of_every_user() == {
        "ann": {"rotator:exempt": ""}, "bob": {}, "cid": {"team": "ops"}}


def test_users_are_listed_a_thousand_per_page(iam):
    client, stubber = iam
    user = {"Path": "/svc/", "UserId": "AIDAEXAMPLE000000001", "CreateDate": CREATED}
    stubber.add_response("list_users", {"Users": [dict(user, UserName="ann", Arn="arn:aws:iam::%s:user/svc/ann" % ACCOUNT)],
                                        "IsTruncated": True, "Marker": "m2"}, {"PathPrefix": "/svc/", "MaxItems": 1000})
    stubber.add_response("list_users", {"Users": [dict(user, UserName="bob", Arn="arn:aws:iam::%s:user/svc/bob" % ACCOUNT)],
                                        "IsTruncated": False}, {"PathPrefix": "/svc/", "MaxItems": 1000, "Marker": "m2"})
    assert [u["UserName"] for u in IAMGateway(client).users("/svc/")] == ["ann", "bob"]

"""The gateway's access key calls against a stubbed botocore client: listing with last use, recording the state, changing keys."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import AccessKey
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import KeyLimitReached, RotationError, UserNotFound
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    RotationState,
    encode_state,
)

USER = "alice"
CREATED = datetime(2024, 1, 1, tzinfo=timezone.utc)
USED = datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc)
KEY_IDS = ["AKIAPAGEONE000000001", "AKIAPAGETWO000000002", "AKIAPAGETHREE0000003"]
NEW_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


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
# (_access_keys/test_access_key_executor_safety.py): a stubbed client sends nothing, so no retry event fires.


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

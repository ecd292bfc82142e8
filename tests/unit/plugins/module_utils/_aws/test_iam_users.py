"""The gateway's user calls against a stubbed botocore client: the rotation state tag with room for it, users and their tags in bulk."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError, UserNotFound
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    RotationState,
    encode_state,
)

ACCOUNT = "123456789012"
USER = "alice"
CREATED = datetime(2024, 1, 1, tzinfo=timezone.utc)
KEY_IDS = ["AKIAPAGEONE000000001", "AKIAPAGETWO000000002"]


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


# --- users and their tags ---------------------------------------------------------------------------

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

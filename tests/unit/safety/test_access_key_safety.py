"""Access key rotation's promises, through the real rotator, gateway and destinations against moto on loopback.

Each test names the promise it proves; the exact state is read back with
plain clients, outside the code under test.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import boto3
import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils.access_key_planner import RotationPolicy
from ansible_collections.rotator.aws_iam.plugins.module_utils.access_key_rotation import AccessKeyRotator
from ansible_collections.rotator.aws_iam.plugins.module_utils.iam_gateway import IAMGateway, RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils.rotation_module import SerializedDestinations
from ansible_collections.rotator.aws_iam.plugins.module_utils.rotation_state import (
    ACCESS_KEY_STATE_TAG,
    RotationState,
    decode_state,
    encode_state,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils.secret_destination import ACCESS_KEY
from ansible_collections.rotator.aws_iam.plugins.module_utils.secret_destinations import DestinationFactory

USER = "alice"
SECRET_NAME = "rotator/%s" % USER
INCIDENT = RotationPolicy(deactivate_after_days=0, delete_after_days=0, force=True)


def make_rotator(aws, policy, connection=None, secret=None, check_mode=False):
    connection = connection or aws.connect()
    options = secret or {"type": "secretsmanager", "name": "rotator/{user_name}"}
    destinations = SerializedDestinations(DestinationFactory(options, connection, aws.account, ACCESS_KEY))
    return AccessKeyRotator(IAMGateway.for_connection(connection), connection, destinations, policy, aws.account,
                            verify_interval=0.1, verify_timeout=10, check_mode=check_mode)


def keys_of(aws, user=USER):
    """{key id: status} as IAM holds them."""
    listed = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {key["AccessKeyId"]: key["Status"] for key in listed}


def stored_key_id(aws, name=SECRET_NAME):
    value = aws.client("secretsmanager").get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
    return json.loads(value)["AccessKeyId"]


def store(aws, key_id, secret, name=SECRET_NAME):
    value = json.dumps({"UserName": USER, "AccessKeyId": key_id, "SecretAccessKey": secret})
    aws.client("secretsmanager").create_secret(Name=name, SecretString=value)


def tag_state(aws, state, user=USER):
    aws.client("iam").tag_user(UserName=user, Tags=[{"Key": ACCESS_KEY_STATE_TAG, "Value": encode_state(state)}])


def recorded_state(aws, user=USER):
    tags = aws.client("iam").list_user_tags(UserName=user)["Tags"]
    return decode_state(next((tag["Value"] for tag in tags if tag["Key"] == ACCESS_KEY_STATE_TAG), None))


def another_actor_creates_a_key_after_the_first_create_attempt(aws, rotator, delay=0.0):
    """Stand for a person or pipeline making a key for the same user right after the rotation's first create failed.

    The key is made at the rotation's next look at the keys or its next create attempt, whichever comes first.
    """
    attempts, made = [], []

    def count_attempt(**_kwargs):
        attempts.append(1)
        if len(attempts) > 1:
            create_foreign()

    def create_foreign(**_kwargs):
        if attempts and not made:
            time.sleep(delay)
            made.append(aws.client("iam").create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"])

    for client in {id(rotator.gateway.iam): rotator.gateway.iam, id(rotator.gateway.create_client): rotator.gateway.create_client}.values():
        client.meta.events.register("before-send.iam.CreateAccessKey", count_attempt)
        client.meta.events.register("before-call.iam.ListAccessKeys", create_foreign)
    return made


# --- case 5: recovery from a failed create deletes only the key that create made ----------------

def test_after_a_throttled_create_a_key_made_by_someone_else_is_not_deleted(aws):
    (old, _secret), = aws.user(USER, keys=1)
    rotator = make_rotator(aws, RotationPolicy(force=True))
    aws.faults(throttle_rate=1.0, actions=["CreateAccessKey"], max_faults=1)
    foreign = another_actor_creates_a_key_after_the_first_create_attempt(aws, rotator)
    outcome = rotator.rotate_user(USER)
    assert len(foreign) == 1
    assert keys_of(aws) == {old: "Active", foreign[0]: "Active"}
    assert outcome.status == "failed"
    assert foreign[0] in outcome.msg
    assert [call["action"] for call in aws.calls() if call["action"] == "DeleteAccessKey"] == []


def test_after_a_create_that_failed_unclearly_a_key_made_by_someone_else_just_after_is_not_deleted(aws):
    # The connection drops before the request reaches IAM: to the rotation this looks like a lost answer.
    (old, _secret), = aws.user(USER, keys=1)
    rotator = make_rotator(aws, RotationPolicy(force=True))
    aws.faults(drop_rate=1.0, drop_phase="request", actions=["CreateAccessKey"], max_faults=1)
    # The other actor's key is made seconds after the failed attempt ended: IAM dates it outside that attempt.
    foreign = another_actor_creates_a_key_after_the_first_create_attempt(aws, rotator, delay=4.0)
    outcome = rotator.rotate_user(USER)
    assert len(foreign) == 1
    assert keys_of(aws) == {old: "Active", foreign[0]: "Active"}
    assert outcome.status == "failed"
    assert foreign[0] in outcome.msg
    assert aws.calls("DeleteAccessKey") == []


def test_after_a_lost_create_answer_the_key_it_made_is_deleted_and_the_rotation_goes_on(aws):
    (old, _secret), = aws.user(USER, keys=1)
    rotator = make_rotator(aws, RotationPolicy(force=True))
    aws.faults(drop_rate=1.0, drop_phase="response", actions=["CreateAccessKey"], max_faults=1)
    outcome = rotator.rotate_user(USER)
    creates = aws.calls("CreateAccessKey")
    assert [call.get("fault") for call in creates[1:]] == ["drop-response", None]
    new = stored_key_id(aws)
    assert keys_of(aws) == {old: "Active", new: "Active"}
    assert outcome.status == "rotated"
    assert len(aws.calls("DeleteAccessKey")) == 1
    assert len(outcome.warnings) == 1


def test_a_throttled_create_is_tried_again_without_looking_at_the_keys(aws):
    (old, _secret), = aws.user(USER, keys=1)
    rotator = make_rotator(aws, RotationPolicy(force=True))
    aws.faults(throttle_rate=1.0, actions=["CreateAccessKey"], max_faults=2)
    outcome = rotator.rotate_user(USER)
    assert outcome.status == "rotated"
    assert [call.get("fault") for call in aws.calls("CreateAccessKey")[1:]] == ["throttle", "throttle", None]
    # One listing at the start of the run; none after the throttled attempts.
    assert len(aws.calls("ListAccessKeys")) == 1
    assert keys_of(aws) == {old: "Active", stored_key_id(aws): "Active"}


def test_a_create_that_fails_on_every_attempt_gives_up_with_the_last_error_and_leaves_no_key(aws):
    (old, _secret), = aws.user(USER, keys=1)
    rotator = make_rotator(aws, RotationPolicy(force=True), connection=aws.connect(max_attempts=3))
    aws.faults(drop_rate=1.0, drop_phase="response", actions=["CreateAccessKey"], max_faults=3)
    outcome = rotator.rotate_user(USER)
    assert outcome.status == "failed"
    assert "creating an access key for alice failed" in outcome.msg
    assert [call.get("fault") for call in aws.calls("CreateAccessKey")[1:]] == ["drop-response"] * 3
    assert len(aws.calls("DeleteAccessKey")) == 3
    assert keys_of(aws) == {old: "Active"}
    # The announcement stays; the next run finds no key of that attempt and clears it, then rotates.
    assert recorded_state(aws).creating == (old,)
    again = make_rotator(aws, RotationPolicy(force=True)).rotate_user(USER)
    assert again.status == "rotated"
    new = stored_key_id(aws)
    assert keys_of(aws) == {old: "Active", new: "Active"}
    assert recorded_state(aws).creating is None and recorded_state(aws).new_key == new

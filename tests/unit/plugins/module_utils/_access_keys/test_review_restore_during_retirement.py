"""A restore recorded while a scheduled run is retiring the old key wins: the run reads the hold again just before
it deactivates, and leaves the old key active (the restore reactivated it, or is about to)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.executor import AccessKeyRotator, UserOutcome
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import RotationPolicy
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    RotationState,
    decode_state,
    encode_state,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.way_back import RestoreRequest, restore_old_key
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.module import SerializedDestinations
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import ACCESS_KEY
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.registry import DestinationFactory

USER = "rd-1"
REQUEST = RestoreRequest(reason="SEC-42 billing job still on the old key", by="oncall@example.com")


def keys_of(aws):
    return {key["AccessKeyId"]: key["Status"]
            for key in aws.client("iam").list_access_keys(UserName=USER)["AccessKeyMetadata"]}


def recorded_state(aws):
    tags = aws.client("iam").list_user_tags(UserName=USER)["Tags"]
    return decode_state(next(tag["Value"] for tag in tags if tag["Key"] == ACCESS_KEY_STATE_TAG))


def test_a_restore_recorded_during_a_scheduled_retirement_keeps_the_old_key_active(aws):
    aws.clock(-100)
    (old, _secret), = aws.user(USER, keys=1)
    aws.clock(-10)
    new = aws.client("iam").create_access_key(UserName=USER)["AccessKey"]
    aws.clock(0)
    aws.client("secretsmanager").create_secret(Name="rotator/%s" % USER, SecretString=json.dumps(
        {"UserName": USER, "AccessKeyId": new["AccessKeyId"], "SecretAccessKey": new["SecretAccessKey"]}))
    aws.client("iam").tag_user(UserName=USER, Tags=[{"Key": ACCESS_KEY_STATE_TAG, "Value": encode_state(RotationState(
        new_key=new["AccessKeyId"], old_key=old, verified=True,
        rotated_at=datetime.now(timezone.utc).replace(microsecond=0)))}])

    connection = aws.connect()
    destinations = SerializedDestinations(DestinationFactory({"type": "secretsmanager", "name": "rotator/{user_name}"},
                                                             connection, aws.account, ACCESS_KEY))
    rotator = AccessKeyRotator(IAMGateway.for_connection(connection), connection, destinations,
                               RotationPolicy(deactivate_after_days=7, delete_after_days=7, in_use_guard=False),
                               aws.account, verify_timeout=10, verify_interval=0.1)
    restored = []

    def operator_restores(**_kwargs):
        # The run has read the state and planned the deactivation; it now reads the destination back.
        if not restored:
            restored.append(1)
            restore_old_key(IAMGateway.for_connection(aws.connect()), UserOutcome(USER), REQUEST,
                            datetime.now(timezone.utc))

    connection.client("secretsmanager").meta.events.register("before-call.secrets-manager.GetSecretValue",
                                                             operator_restores)
    outcome = rotator.rotate_user(USER)
    assert restored == [1]
    assert keys_of(aws) == {old: "Active", new["AccessKeyId"]: "Active"}
    assert recorded_state(aws).restored_at is not None
    assert outcome.status == "failed"
    assert outcome.msg == ("a restore of old key %s was recorded while this run was retiring it; it was left active, "
                           "held until a run with resume" % old)

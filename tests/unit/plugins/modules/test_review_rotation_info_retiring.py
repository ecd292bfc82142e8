"""Review: iam_rotation_info shows an old key as retiring only while the rotation is taking it out of service.

Against the stub: the users, their keys and the rotation state tag are real; iam_rotation_info runs as the
action plugin runs it.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    RotationState,
    encode_state,
)
from ansible_collections.rotator.aws_iam.plugins.modules import iam_rotation_info

POLICY = dict(rotate_after_days=90, deactivate_after_days=7, delete_after_days=7, in_use_max_wait_days=14)


def _rotated_by_hand(aws, days_since_rotation, incident=False):
    """alice with an old key (150 days) and a verified new key made ``days_since_rotation`` ago, tagged as such."""
    iam = aws.client("iam")
    aws.clock(-150)
    [(old, old_secret)] = aws.user("alice", keys=1)
    aws.clock(-days_since_rotation)
    new = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    created = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    created = next(key["CreateDate"] for key in created if key["AccessKeyId"] == new)
    state = RotationState(new_key=new, old_key=old, verified=True, rotated_at=created, incident=incident)
    iam.tag_user(UserName="alice", Tags=[{"Key": ACCESS_KEY_STATE_TAG, "Value": encode_state(state)}])
    return old, old_secret, new


def _info(run_module, connection_args):
    failed, result = run_module(iam_rotation_info, dict(connection_args, **POLICY))
    assert failed is False, result.get("msg")
    [user] = result["users"]
    return user


def test_an_old_key_the_in_use_guard_gave_up_on_is_not_retiring(aws, connection_args, run_module):
    # Rotated 30 days ago; the old key's consumers still used it yesterday: past deactivate_after_days +
    # in_use_max_wait_days, without deactivate_in_use, the rotation leaves it active for good.
    old, old_secret, _new = _rotated_by_hand(aws, 30)
    aws.clock(-1)
    aws.client("sts", access_key=old, secret_key=old_secret).get_caller_identity()
    aws.clock(0)
    user = _info(run_module, connection_args)
    retiring = {key["access_key_id"]: key["retiring"] for key in user["access_keys"]}
    assert user["access_key_rotation"]["status"] == "waiting_for_consumers"
    assert retiring[old] is None


def test_the_key_an_incident_replaced_still_active_is_due_for_deactivation_now(aws, connection_args, run_module):
    # An incident run (force, 0-day windows) made and verified the new key a day ago, then failed to deactivate
    # the leaked key: the next rotation run deactivates it at once, whatever deactivate_after_days says.
    old, _old_secret, _new = _rotated_by_hand(aws, 1, incident=True)
    aws.clock(0)
    user = _info(run_module, connection_args)
    rotation = user["access_key_rotation"]
    retiring = {key["access_key_id"]: key["retiring"] for key in user["access_keys"]}
    assert [rotation["status"], rotation["due_actions"]] == ["due", ["deactivate"]]
    assert retiring[old] is None


def test_with_deactivate_in_use_the_old_key_the_guard_waited_for_is_retiring_and_due(aws, connection_args, run_module):
    # As iam_access_key_rotate would with deactivate_in_use: past the wait, the old key is deactivated anyway.
    old, old_secret, new = _rotated_by_hand(aws, 30)
    aws.clock(-1)
    aws.client("sts", access_key=old, secret_key=old_secret).get_caller_identity()
    aws.clock(0)
    failed, result = run_module(iam_rotation_info, dict(connection_args, deactivate_in_use=True, **POLICY))
    assert failed is False, result.get("msg")
    [user] = result["users"]
    rotation = user["access_key_rotation"]
    retiring = {key["access_key_id"]: key["retiring"] for key in user["access_keys"]}
    assert [rotation["status"], rotation["due_actions"]] == ["due", ["deactivate"]]
    assert retiring[old]["replaced_by"] == new

"""A restore's hold never expires by itself: also when the new key it went back from is no longer active."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate

ROTATE = dict(secret={"type": "none"}, rotate_after_days=0, deactivate_after_days=0, delete_after_days=7,
              in_use_guard=False, verify=False, use_credential_report=False)
RESTORE = {"reason": "SEC-42 billing job still on the old key", "by": "oncall@example.com"}


def keys(aws, user):
    return {key["AccessKeyId"]: key["Status"]
            for key in aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]}


def held_user(aws, run_module, connection_args, user):
    [(old, _secret)] = aws.user(user, keys=1)
    run_module(iam_access_key_rotate, dict(connection_args, user_name=user, **ROTATE))
    [new] = [key for key in keys(aws, user) if key != old]
    assert run_module(iam_access_key_rotate, dict(connection_args, user_name=user, restore=RESTORE))[0] is False
    return old, new


def test_a_held_old_key_is_not_rotated_away_when_the_new_key_was_deactivated_by_hand(aws, connection_args, run_module):
    old, new = held_user(aws, run_module, connection_args, "hg-1")
    aws.client("iam").update_access_key(UserName="hg-1", AccessKeyId=new, Status="Inactive")
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="hg-1", **ROTATE))
    [user] = result["users"]
    assert (failed, user["status"], user["actions"]) == (False, "held", [])
    assert keys(aws, "hg-1") == {old: "Active", new: "Inactive"}


def test_a_held_old_key_is_not_rotated_away_when_the_new_key_was_deleted_by_hand(aws, connection_args, run_module):
    old, new = held_user(aws, run_module, connection_args, "hg-2")
    aws.client("iam").delete_access_key(UserName="hg-2", AccessKeyId=new)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="hg-2", **ROTATE))
    [user] = result["users"]
    assert (failed, user["status"], user["actions"]) == (False, "held", [])
    assert keys(aws, "hg-2") == {old: "Active"}

"""A restore's hold never blocks an incident: the new key leaking while the old key is held is replaced at once."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate

ROTATE = dict(secret={"type": "none"}, rotate_after_days=0, deactivate_after_days=0, delete_after_days=7,
              in_use_guard=False, verify=False, use_credential_report=False)
INCIDENT = dict(ROTATE, rotate_after_days=90, delete_after_days=0, force=True)
RESTORE = {"reason": "SEC-42 billing job still on the old key", "by": "oncall@example.com"}


def keys(aws, user):
    return {key["AccessKeyId"]: key["Status"]
            for key in aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]}


def state_tag(aws, user):
    tags = aws.client("iam").list_user_tags(UserName=user)["Tags"]
    return next(tag["Value"] for tag in tags if tag["Key"] == "rotator:access-key-rotation")


def held_user(aws, run_module, connection_args, user):
    """(old, new): the old key reactivated by a restore and held, the new key active."""
    [(old, _secret)] = aws.user(user, keys=1)
    run_module(iam_access_key_rotate, dict(connection_args, user_name=user, **ROTATE))
    [new] = [key for key in keys(aws, user) if key != old]
    assert run_module(iam_access_key_rotate, dict(connection_args, user_name=user, restore=RESTORE))[0] is False
    assert keys(aws, user) == {old: "Active", new: "Active"}
    return old, new


def test_an_incident_run_replaces_a_leaked_new_key_although_the_old_key_is_held(aws, connection_args, run_module):
    old, leaked = held_user(aws, run_module, connection_args, "hi-1")
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="hi-1", **INCIDENT))
    [user] = result["users"]
    [replacement] = [key for key in keys(aws, "hi-1") if key not in (old, leaked)]
    assert (failed, user["status"]) == (False, "deleted")
    assert keys(aws, "hi-1") == {replacement: "Active"}
    assert " restored=" not in state_tag(aws, "hi-1")


def test_revoking_a_leaked_new_key_lifts_the_hold(aws, connection_args, run_module):
    old, leaked = held_user(aws, run_module, connection_args, "hi-2")
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="hi-2", revoke=[leaked],
                                                            **dict(INCIDENT, force=False)))
    [replacement] = [key for key in keys(aws, "hi-2") if key not in (old, leaked)]
    assert (failed, result["users"][0]["status"]) == (False, "deleted")
    assert keys(aws, "hi-2") == {replacement: "Active"}


def test_check_mode_of_the_incident_run_plans_what_the_real_run_does(aws, connection_args, run_module):
    old, leaked = held_user(aws, run_module, connection_args, "hi-3")
    failed, planned = run_module(iam_access_key_rotate, dict(connection_args, user_name="hi-3", _ansible_check_mode=True,
                                                             **INCIDENT))
    assert failed is False
    assert keys(aws, "hi-3") == {old: "Active", leaked: "Active"}
    assert [(action["action"], action["access_key_id"]) for action in planned["users"][0]["actions"]][:2] == [
        ("deactivate", old), ("delete", old)]

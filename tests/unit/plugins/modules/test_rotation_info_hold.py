"""iam_rotation_info says who held an old key by a restore (the way back) and why, for the audit report.

Against the stub: the rotation, the restore and the tags are the module's own; iam_rotation_info runs as the
action plugin runs it.
"""

from __future__ import annotations

import boto3

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_rotation_info

ROTATE = dict(secret={"type": "none"}, rotate_after_days=0, deactivate_after_days=0, delete_after_days=7,
              in_use_guard=False, verify=False, use_credential_report=False)
RESTORE = {"reason": "SEC-42 billing job still on the old key", "by": "oncall@example.com"}


def _rotation_of(run_module, connection_args):
    failed, result = run_module(iam_rotation_info, dict(connection_args, rotate_after_days=90))
    assert failed is False, result.get("msg")
    [user] = result["users"]
    return user["access_key_rotation"]


def test_a_held_old_key_says_who_restored_it_when_and_why(aws, connection_args, run_module):
    [(old, _secret)] = aws.user("held-1", keys=1)
    run_module(iam_access_key_rotate, dict(connection_args, user_name="held-1", **ROTATE))
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="held-1", restore=RESTORE))
    assert failed is False, result.get("msg")
    restored_at = _restore_time(aws, "held-1")

    rotation = _rotation_of(run_module, connection_args)
    assert rotation["status"] == "held"
    assert rotation["hold"] == {"old_key": old, "restored_at": restored_at, "by": "oncall@example.com",
                                "reason": "SEC-42 billing job still on the old key"}


def test_no_hold_without_a_restore(aws, connection_args, run_module):
    aws.user("held-2", keys=1)
    run_module(iam_access_key_rotate, dict(connection_args, user_name="held-2", **ROTATE))
    assert _rotation_of(run_module, connection_args)["hold"] is None


def _restore_time(aws, user):
    """The restore tag's time, as ISO 8601 (``at=20261128T093000Z`` -> ``2026-11-28T09:30:00+00:00``)."""
    value = {tag["Key"]: tag["Value"] for tag in aws.client("iam").list_user_tags(UserName=user)["Tags"]}[
        "rotator:restore"]
    at = value.split(" at=")[1].split(" ")[0]
    return "%s-%s-%sT%s:%s:%s+00:00" % (at[0:4], at[4:6], at[6:8], at[9:11], at[11:13], at[13:15])


def test_each_key_says_in_which_region_it_was_last_used(aws, connection_args, run_module):
    [(used, secret)] = aws.user("held-3", keys=1)
    boto3.client("sts", endpoint_url=aws.endpoint_url, region_name="eu-west-1", aws_access_key_id=used,
                 aws_secret_access_key=secret).get_caller_identity()
    failed, result = run_module(iam_rotation_info, dict(connection_args, rotate_after_days=90))
    assert failed is False, result.get("msg")
    [key] = result["users"][0]["access_keys"]
    assert (key["access_key_id"], key["last_used_service"], key["last_used_region"]) == (used, "sts", "eu-west-1")

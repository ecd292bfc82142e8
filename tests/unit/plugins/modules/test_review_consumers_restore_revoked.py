"""The way back never reactivates a key an incident revoked: a revoke of a rotation's old key is an incident."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate

# The old key waits a week for its deactivation; the revoke takes it out of use at once.
ROTATE = dict(secret={"type": "none"}, rotate_after_days=0, deactivate_after_days=7, delete_after_days=7,
              in_use_guard=False, verify=False, use_credential_report=False)
RESTORE = {"reason": "SEC-42 billing job still on the old key", "by": "oncall@example.com"}


def keys(aws, user):
    return {key["AccessKeyId"]: key["Status"]
            for key in aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]}


def tags(aws, user):
    return {tag["Key"]: tag["Value"] for tag in aws.client("iam").list_user_tags(UserName=user)["Tags"]}


def test_a_revoked_old_key_of_a_rotation_is_never_restored(aws, connection_args, run_module):
    [(old, _secret)] = aws.user("rr-1", keys=1)
    run_module(iam_access_key_rotate, dict(connection_args, user_name="rr-1", **ROTATE))
    [new] = [key for key in keys(aws, "rr-1") if key != old]
    failed, _result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rr-1", revoke=[old],
                                                             **dict(ROTATE, rotate_after_days=90)))
    assert failed is False
    assert keys(aws, "rr-1") == {old: "Inactive", new: "Active"}
    before_tags = tags(aws, "rr-1")
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rr-1", restore=RESTORE))
    assert failed is True
    assert result["users"][0]["msg"] == ("the rotation of rr-1 replaces a key revoked in an incident (state "
                                         "incident=1); its old key %s is never reactivated; nothing was changed" % old)
    assert (keys(aws, "rr-1"), tags(aws, "rr-1")) == ({old: "Inactive", new: "Active"}, before_tags)


def test_a_held_old_key_that_is_revoked_stays_revoked(aws, connection_args, run_module):
    [(old, _secret)] = aws.user("rr-2", keys=1)
    run_module(iam_access_key_rotate, dict(connection_args, user_name="rr-2", **ROTATE))
    [new] = [key for key in keys(aws, "rr-2") if key != old]
    assert run_module(iam_access_key_rotate, dict(connection_args, user_name="rr-2", restore=RESTORE))[0] is False
    failed, _result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rr-2", revoke=[old],
                                                             **dict(ROTATE, rotate_after_days=90)))
    assert failed is False
    assert keys(aws, "rr-2") == {old: "Inactive", new: "Active"}
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rr-2", restore=RESTORE))
    assert failed is True
    assert result["users"][0]["msg"].startswith("the rotation of rr-2 replaces a key revoked in an incident")
    assert keys(aws, "rr-2") == {old: "Inactive", new: "Active"}

"""The way back through iam_access_key_rotate's main() against the stub: restore reactivates the old key of a
rotation and holds its retirement until resume; never during an incident, never for a deleted key."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate

# The old key is deactivated in the run that creates the new one; deleted a week later.
ROTATE = dict(secret={"type": "none"}, rotate_after_days=0, deactivate_after_days=0, delete_after_days=7,
              in_use_guard=False, verify=False, use_credential_report=False)
RESTORE = {"reason": "SEC-42 billing job still on the old key", "by": "oncall@example.com"}


def keys(aws, user):
    return {key["AccessKeyId"]: key["Status"]
            for key in aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]}


def tags(aws, user):
    return {tag["Key"]: tag["Value"] for tag in aws.client("iam").list_user_tags(UserName=user)["Tags"]}


def rotated(aws, run_module, connection_args, user):
    """A user whose rotation deactivated its old key; (old key, new key)."""
    [(old, _secret)] = aws.user(user, keys=1)
    run_module(iam_access_key_rotate, dict(connection_args, user_name=user, **ROTATE))
    [new] = [key for key in keys(aws, user) if key != old]
    assert keys(aws, user) == {old: "Inactive", new: "Active"}
    return old, new


def test_restore_reactivates_the_old_key_and_holds_its_deletion_until_resume(aws, connection_args, run_module):
    old, new = rotated(aws, run_module, connection_args, "rb-1")
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-1", restore=RESTORE))
    [user] = result["users"]
    assert failed is False
    assert (user["status"], user["actions"]) == ("restored", [{"action": "reactivate", "access_key_id": old}])
    assert keys(aws, "rb-1") == {old: "Active", new: "Active"}
    recorded = tags(aws, "rb-1")
    assert " restored=" in recorded["rotator:access-key-rotation"]
    assert recorded["rotator:restore"].startswith("v1 key=%s at=" % old)
    assert recorded["rotator:restore"].endswith(" by=oncall@example.com reason=SEC-42 billing job still on the old key")

    # A later run with everything due (deletion included) leaves the held key alone and says where it was used.
    due = dict(connection_args, user_name="rb-1", **dict(ROTATE, delete_after_days=0))
    failed, result = run_module(iam_access_key_rotate, due)
    [user] = result["users"]
    assert (failed, user["status"], user["changed"]) == (False, "held", False)
    assert user["old_key_last_used"] == {"access_key_id": old, "date": None, "service": "N/A", "region": "N/A"}
    assert keys(aws, "rb-1") == {old: "Active", new: "Active"}

    # Restoring again changes nothing.
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-1", restore=RESTORE))
    assert (failed, result["changed"], result["users"][0]["status"]) == (False, False, "held")

    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-1", resume=True))
    assert (failed, result["users"][0]["status"]) == (False, "resumed")
    assert "rotator:restore" not in tags(aws, "rb-1")
    failed, result = run_module(iam_access_key_rotate, due)
    assert [action["action"] for action in result["users"][0]["actions"]] == ["deactivate", "delete"]
    assert keys(aws, "rb-1") == {new: "Active"}


def test_restore_is_refused_during_an_incident_and_nothing_changes(aws, connection_args, run_module):
    [(old, _secret)] = aws.user("rb-2", keys=1)
    run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-2", force=True, revoke=[old],
                                           **dict(ROTATE, rotate_after_days=90)))
    before_keys, before_tags = keys(aws, "rb-2"), tags(aws, "rb-2")
    assert before_keys[old] == "Inactive"
    assert " incident=1" in before_tags["rotator:access-key-rotation"]
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-2", restore=RESTORE))
    assert failed is True
    assert result["users"][0]["msg"].startswith("the rotation of rb-2 replaces a key revoked in an incident")
    assert (keys(aws, "rb-2"), tags(aws, "rb-2")) == (before_keys, before_tags)


def test_restore_with_force_or_revoke_is_refused_before_any_call(aws, connection_args, run_module):
    aws.user("rb-3", keys=1)
    aws.control("POST", "calls/reset", {})
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-3", restore=RESTORE,
                                                            force=True))
    assert failed is True
    assert result["msg"] == ("restore and resume are refused with force or revoke: an incident's revoke always wins "
                             "over the way back; nothing was changed")
    assert aws.calls() == []


def test_restore_is_refused_when_the_old_key_was_deleted(aws, connection_args, run_module):
    old, new = rotated(aws, run_module, connection_args, "rb-4")
    run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-4", **dict(ROTATE, delete_after_days=0)))
    before_tags = tags(aws, "rb-4")
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-4", restore=RESTORE))
    assert failed is True
    assert result["users"][0]["msg"] == ("user rb-4 has no old key to reactivate: no rotation of the collection holds "
                                         "one (it was deleted, or nothing was rotated); nothing was changed")
    assert (keys(aws, "rb-4"), tags(aws, "rb-4")) == ({new: "Active"}, before_tags)
    assert old not in keys(aws, "rb-4")


def test_a_reason_with_characters_iam_refuses_fails_clearly(aws, connection_args, run_module):
    aws.user("rb-5", keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-5", restore={
        "reason": "broke; see <ticket>", "by": "a" * 65}))
    assert failed is True
    assert result["msg"] == ("restore.reason may hold only letters, digits, spaces and _.:/=+-@ (IAM's tag value "
                             "characters); it holds ';' '<' '>'; restore.by holds 65 characters, at most 64 are recorded; "
                             "nothing was changed")


def test_a_lost_answer_to_the_reactivation_is_repaired_by_the_rerun(aws, connection_args, run_module):
    old, new = rotated(aws, run_module, connection_args, "rb-6")
    aws.faults(drop_rate=1.0, drop_phase="response", actions=["UpdateAccessKey"], max_faults=2)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-6", restore=RESTORE))
    aws.faults()
    assert failed is True
    # IAM applied it; the hold was recorded before, so a scheduled run in between does not deactivate it again.
    assert keys(aws, "rb-6") == {old: "Active", new: "Active"}
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-6", **ROTATE))
    assert (failed, result["users"][0]["status"]) == (False, "held")
    assert keys(aws, "rb-6") == {old: "Active", new: "Active"}
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-6", restore=RESTORE))
    assert (failed, result["users"][0]["status"]) == (False, "held")
    assert " restored=" in tags(aws, "rb-6")["rotator:access-key-rotation"]


def test_check_mode_of_a_restore_tells_what_the_real_run_does(aws, connection_args, run_module):
    old, new = rotated(aws, run_module, connection_args, "rb-7")
    before_tags = tags(aws, "rb-7")
    failed, planned = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-7", restore=RESTORE,
                                                             _ansible_check_mode=True))
    assert failed is False
    assert (keys(aws, "rb-7"), tags(aws, "rb-7")) == ({old: "Inactive", new: "Active"}, before_tags)
    failed, real = run_module(iam_access_key_rotate, dict(connection_args, user_name="rb-7", restore=RESTORE))
    assert [(user["status"], user["actions"], user["changed"]) for user in planned["users"]] == [
        (user["status"], user["actions"], user["changed"]) for user in real["users"]]
    assert planned["users"][0]["actions"] == [{"action": "reactivate", "access_key_id": old}]

"""The rotation modules choose their users themselves: one module run, one connection per account and kind.

Through the modules' own ``main()`` against the stub, as the roles call them:
the selection options of ``iam_rotation_info`` on ``iam_access_key_rotate``
and ``iam_password_rotate``, with the same results and failures.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_password_rotate, iam_rotation_info

ACCOUNT = "123456789012"
ROTATE_NOW = dict(secret={"type": "none"}, rotate_after_days=0, verify=False)
# An exemption that lasts: exemptions end (see _common/test_exemption_in_modules.py).
EXEMPT = "until=2099-12-31 reason=break-glass"


def key_ids(aws, user):
    return sorted(key["AccessKeyId"] for key in aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"])


def test_the_exemption_tag_keeps_a_user_out_and_the_others_are_rotated(aws, connection_args, run_module):
    for name in ("alice", "carol"):
        aws.user(name, keys=1)
    bob = aws.user("bob", keys=1, tags={"rotator:exempt": EXEMPT})
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, path_prefix="/",
                                                            exempt_tag="rotator:exempt", **ROTATE_NOW))
    assert failed is False
    assert result["account_id"] == ACCOUNT
    assert result["selection"]["exemptions"][0]["state"] == "active"
    assert result["selection"] == dict(selected=["alice", "carol"], exempted_users=["bob"], unresolved_users=[],
                                       without_console=[], exemptions=result["selection"]["exemptions"])
    assert [(user["user_name"], user["status"]) for user in result["users"]] == [
        ("alice", "rotated"), ("carol", "rotated")]
    assert key_ids(aws, "bob") == [bob[0][0]]
    assert len(aws.calls("ListUsers")) == 1


def test_a_named_user_that_does_not_exist_fails_after_the_others_are_rotated(aws, connection_args, run_module):
    aws.user("alice", keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, users=["alice", "ghost"],
                                                            path_prefix="/", exempt_tag="rotator:exempt",
                                                            **ROTATE_NOW))
    assert failed is True
    assert result["msg"] == "access key rotation failed for user ghost does not exist"
    assert result["selection"]["unresolved_users"] == [{"user_name": "ghost", "msg": "user ghost does not exist"}]
    assert [(user["user_name"], user["status"]) for user in result["users"]] == [("alice", "rotated")]
    assert [call["user"] for call in aws.calls("CreateAccessKey")] == ["alice", "alice"]


def test_unresolved_users_are_only_reported_when_asked(aws, connection_args, run_module):
    aws.user("alice", keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, users=["alice", "ghost"],
                                                            path_prefix="/", fail_on_unresolved_users=False,
                                                            **ROTATE_NOW))
    assert failed is False
    assert result["selection"]["unresolved_users"] == [{"user_name": "ghost", "msg": "user ghost does not exist"}]
    assert [(user["user_name"], user["status"]) for user in result["users"]] == [("alice", "rotated")]


def test_only_users_narrows_the_choice_by_name_or_arn(aws, connection_args, run_module):
    for name in ("alice", "bob", "carol"):
        aws.user(name, keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(
        connection_args, path_prefix="/", only_users=["arn:aws:iam::%s:user/carol" % ACCOUNT, "alice"], **ROTATE_NOW))
    assert failed is False
    assert result["selection"]["selected"] == ["alice", "carol"]
    assert sorted(call["user"] for call in aws.calls("CreateAccessKey")) == ["alice", "alice", "bob", "carol", "carol"]


def test_users_by_group_and_tag_under_a_path(aws, connection_args, run_module):
    iam = aws.client("iam")
    iam.create_user(UserName="svc-a", Path="/service/", Tags=[{"Key": "team", "Value": "data"}])
    iam.create_user(UserName="svc-b", Path="/service/", Tags=[{"Key": "team", "Value": "web"}])
    iam.create_user(UserName="svc-c", Path="/service/", Tags=[{"Key": "team", "Value": "data"}])
    iam.create_user(UserName="human", Path="/people/", Tags=[{"Key": "team", "Value": "data"}])
    iam.create_group(GroupName="rotated")
    for name in ("svc-a", "svc-b", "human"):
        iam.add_user_to_group(GroupName="rotated", UserName=name)
    for name in ("svc-a", "svc-b", "svc-c", "human"):
        iam.create_access_key(UserName=name)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, path_prefix="/service/",
                                                            tags={"team": "data"}, groups=["rotated"], **ROTATE_NOW))
    assert failed is False
    assert result["selection"]["selected"] == ["svc-a"]
    assert [call["user"] for call in aws.calls("CreateAccessKey")][-1:] == ["svc-a"]
    assert len(aws.calls("CreateAccessKey")) == 5


def test_named_users_without_selection_options_are_not_listed(aws, connection_args, run_module):
    aws.user("alice", keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, users=["alice"], **ROTATE_NOW))
    assert failed is False
    assert result["selection"] == dict(selected=["alice"], exempted_users=[], unresolved_users=[], without_console=[])
    assert aws.calls("ListUsers") == []


def test_a_path_that_does_not_start_with_a_slash_changes_nothing(aws, connection_args, run_module):
    aws.user("alice", keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, path_prefix="service/", **ROTATE_NOW))
    assert failed is True
    assert result["msg"] == "path_prefix must start with /"
    assert aws.calls("ListUsers") == []
    assert len(aws.calls("CreateAccessKey")) == 1


def test_users_without_a_console_password_are_skipped_when_asked(aws, connection_args, run_module):
    iam = aws.client("iam")
    for name in ("dan", "eve"):
        iam.create_user(UserName=name)
    iam.create_login_profile(UserName="dan", Password="Initial-Passw0rd!")
    failed, result = run_module(iam_password_rotate, dict(connection_args, path_prefix="/", skip_without_console=True,
                                                          secret={"type": "none"}, rotate_after_days=0))
    assert failed is False
    assert result["selection"] == dict(selected=["dan"], exempted_users=[], unresolved_users=[],
                                       without_console=["eve"], exemptions=[])
    assert [(user["user_name"], user["status"]) for user in result["users"]] == [("dan", "rotated")]
    assert [call["user"] for call in aws.calls("UpdateLoginProfile")] == ["dan"]


def test_an_empty_exempt_tag_turns_exemption_off(aws, connection_args, run_module):
    aws.user("bob", keys=1, tags={"rotator:exempt": EXEMPT})
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, path_prefix="/", exempt_tag="",
                                                            **ROTATE_NOW))
    assert failed is False
    assert result["selection"]["selected"] == ["bob"]
    assert result["selection"]["exempted_users"] == []
    assert [call["user"] for call in aws.calls("CreateAccessKey")] == ["bob", "bob"]


def test_a_revoke_for_an_empty_selection_fails_changing_nothing(aws, connection_args, run_module):
    key = aws.user("bob", keys=1, tags={"rotator:exempt": EXEMPT})[0][0]
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, path_prefix="/", revoke=[key],
                                                            **ROTATE_NOW))
    assert failed is True
    assert result["msg"] == "revoke: %s is not a key of any selected user (none was selected); nothing was changed" % key
    assert len(aws.calls("CreateAccessKey")) == 1


def test_iam_rotation_info_names_a_bad_path_once(aws, connection_args, run_module):
    failed, result = run_module(iam_rotation_info, dict(connection_args, path_prefix="service/"))
    assert failed is True
    assert result["msg"] == "path_prefix must start with /"
    assert aws.calls("ListUsers") == []

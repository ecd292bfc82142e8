"""A named user that does not exist fails alone, at the end (issue 11, case 9).

Through the modules' own ``main()`` against the stub, as a role calls them:
``iam_rotation_info`` selects, ``iam_access_key_rotate`` rotates.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_rotation_info


def test_selection_reports_the_missing_user_and_keeps_the_others(aws, connection_args, run_module):
    aws.user("alice", keys=1)
    aws.user("bob", keys=1)
    failed, result = run_module(iam_rotation_info, dict(connection_args, users=["alice", "ghost", "bob"], include=[],
                                                        fail_on_unresolved_users=False))
    assert failed is False
    assert result["user_names"] == ["alice", "bob"]
    assert result["unresolved_users"] == [{"user_name": "ghost", "msg": "user ghost does not exist"}]
    assert [user["user_name"] for user in result["users"]] == ["alice", "bob"]


def test_selection_fails_by_default_after_selecting_the_others(aws, connection_args, run_module):
    aws.user("alice", keys=1)
    aws.user("bob", keys=1)
    failed, result = run_module(iam_rotation_info, dict(connection_args, users=["alice", "ghost", "bob"], include=[]))
    assert failed is True
    assert result["msg"] == "user selection failed for ghost: user ghost does not exist"
    assert result["user_names"] == ["alice", "bob"]
    assert result["unresolved_users"] == [{"user_name": "ghost", "msg": "user ghost does not exist"}]


def test_a_user_outside_the_path_prefix_is_told_apart_from_one_that_does_not_exist(aws, connection_args, run_module):
    iam = aws.client("iam")
    iam.create_user(UserName="svc-a", Path="/service/")
    iam.create_user(UserName="human", Path="/people/")
    failed, result = run_module(iam_rotation_info, dict(connection_args, users=["svc-a", "human", "ghost"],
                                                        path_prefix="/service/", include=[],
                                                        fail_on_unresolved_users=False))
    assert failed is False
    assert result["user_names"] == ["svc-a"]
    assert result["unresolved_users"] == [
        {"user_name": "human", "msg": "user human is not under path /service/"},
        {"user_name": "ghost", "msg": "user ghost does not exist"},
    ]


def test_rotation_of_a_list_with_a_missing_user_rotates_the_others_then_fails(aws, connection_args, run_module):
    old = {name: aws.user(name, keys=1)[0][0] for name in ("alice", "bob")}
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, users=["alice", "ghost", "bob"],
                                                            secret={"type": "none"}, rotate_after_days=0,
                                                            verify=False))
    assert failed is True
    assert result["msg"] == "access key rotation failed for ghost: user ghost does not exist"
    assert result["failed_users"] == ["ghost"]
    assert [(user["user_name"], user["status"]) for user in result["users"]] == [
        ("alice", "rotated"), ("ghost", "failed"), ("bob", "rotated")]
    # two by the seeding, then one per existing user by the rotation; none asked for ghost
    assert sorted(call["user"] for call in aws.calls("CreateAccessKey")) == ["alice", "alice", "bob", "bob"]
    iam = aws.client("iam")
    for name in ("alice", "bob"):
        keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        assert sorted(key["AccessKeyId"] == old[name] for key in keys) == [False, True]

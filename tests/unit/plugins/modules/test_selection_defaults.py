"""The selection folded into the rotation modules against what the roles did before (6ac03b4).

Before, the roles chose the users with ``iam_rotation_info`` (``exempt_tag``
defaults to ``rotator:exempt`` there) and called the rotation module only
when at least one user was chosen.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_password_rotate

ROTATE_NOW = dict(secret={"type": "none"}, rotate_after_days=0, verify=False)


def key_ids(aws, user):
    return sorted(key["AccessKeyId"] for key in aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"])


def test_a_selection_by_path_keeps_a_user_tagged_exempt_out_by_default(aws, connection_args, run_module):
    aws.user("alice", keys=1)
    bob = aws.user("bob", keys=1, tags={"rotator:exempt": "until=2099-12-31 reason=break-glass"})
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, path_prefix="/", **ROTATE_NOW))
    assert failed is False
    assert result["selection"]["exempted_users"] == ["bob"]
    assert key_ids(aws, "bob") == [bob[0][0]]


def test_an_empty_selection_changes_nothing_and_does_not_fail(aws, connection_args, run_module):
    aws.client("iam").update_account_password_policy(MinimumPasswordLength=14, MaxPasswordAge=30, HardExpiry=True)
    aws.user("svc", keys=1)
    failed, result = run_module(iam_password_rotate, dict(connection_args, path_prefix="/", skip_without_console=True,
                                                          exempt_tag="rotator:exempt", secret={"type": "none"},
                                                          rotate_after_days=90))
    assert failed is False
    assert result["users"] == []
    assert result["selection"]["without_console"] == ["svc"]

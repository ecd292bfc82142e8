"""A consumer whose users list is empty (a templated selection that came out empty) serves nobody's key: it is
refused before any AWS call instead of receiving every user's new key."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate

ALL_DUE = dict(rotate_after_days=0, deactivate_after_days=0, delete_after_days=0, in_use_guard=False,
               use_credential_report=False, _ansible_no_log=True)


def test_a_consumer_with_an_empty_users_list_is_refused_before_any_aws_call(aws, connection_args, run_module):
    aws.user("eu-1", keys=1)
    aws.control("POST", "calls/reset", {})
    failed, result = run_module(iam_access_key_rotate, dict(
        connection_args, user_name="eu-1", consumers=[{"name": "web", "users": []}], **ALL_DUE))
    assert failed is True
    assert result["msg"] == ("consumers[1] (web): users is empty, so it would serve no user; name its users or "
                             "patterns, or leave users out for every user; nothing was changed")
    assert aws.calls() == []

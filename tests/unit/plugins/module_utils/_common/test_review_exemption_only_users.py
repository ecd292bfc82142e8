"""only_users narrows the chosen users, and with them the exemptions a rotation module reports.

A user outside ``only_users`` is not handled by the run: its exemption must not be listed in
``selection.exemptions`` (owners' digests read them, and would tell them of an unrelated run), it must not be in
``exempted_users``, and the module must not warn that it "is rotated".
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_password_rotate

TAG = "rotator:exempt"


def day(offset):
    return (datetime.now(timezone.utc).date() + timedelta(days=offset)).isoformat()


def warnings_of(result):
    return [item if isinstance(item, str) else item["event"]["msg"] for item in result.get("warnings", [])]


def seed(aws, keys):
    aws.user("alice", keys=keys, tags={TAG: "until=%s reason=SEC-1" % day(-3)})
    aws.user("bob", keys=keys, tags={TAG: "until=%s reason=SEC-2" % day(10)})
    aws.user("carol", keys=keys, tags={TAG: "until=%s reason=SEC-3" % day(-1)})
    aws.user("dave", keys=keys)


def carol_expired():
    return {"user": "carol", "state": "expired", "until": day(-1), "days_left": -1, "reason": "SEC-3",
            "msg": "the exemption ended on %s (1 day ago); the user is rotated" % day(-1)}


def test_access_keys_only_users_reports_the_exemptions_of_its_users_only(aws, connection_args, run_module):
    seed(aws, keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(
        connection_args, path_prefix="/", only_users=["carol", "dave"], secret={"type": "none"}, rotate_after_days=0,
        verify=False))
    assert failed is False
    assert result["selection"] == dict(selected=["carol", "dave"], exempted_users=[], unresolved_users=[],
                                       without_console=[], exemptions=[carol_expired()])
    assert [text for text in warnings_of(result) if "exemption" in text] == [
        "user carol: the exemption ended on %s (1 day ago); the user is rotated" % day(-1)]


def test_passwords_only_users_reports_the_exemptions_of_its_users_only(aws, connection_args, run_module):
    seed(aws, keys=0)
    for name in ("alice", "bob", "carol", "dave"):
        aws.client("iam").create_login_profile(UserName=name, Password="Initial-Passw0rd!")
    failed, result = run_module(iam_password_rotate, dict(
        connection_args, path_prefix="/", only_users=["carol", "bob"], secret={"type": "none"}, rotate_after_days=0))
    assert failed is False
    bob = {"user": "bob", "state": "active", "until": day(10), "days_left": 10, "reason": "SEC-2",
           "msg": "exempt until %s (10 days left): SEC-2" % day(10)}
    assert result["selection"]["selected"] == ["carol"]
    assert result["selection"]["exempted_users"] == ["bob"]
    assert result["selection"]["exemptions"] == [bob, carol_expired()]
    assert [text for text in warnings_of(result) if "exemption" in text] == [
        "user carol: the exemption ended on %s (1 day ago); the user is rotated" % day(-1)]

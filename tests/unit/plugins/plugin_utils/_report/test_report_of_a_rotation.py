"""The report of an account right after a real rotation: iam_access_key_rotate, then iam_rotation_info, against moto.

The modules run as a playbook runs them (their ``main()`` on the stub); their
results go through ``report_data`` as the role ``rotation_report`` hands them
over.  What an auditor reads right after a successful rotation: the old key
is retiring (not overdue) with the day of each step, and the new key's only
use is the rotation's own verification call.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from ansible_collections.rotator.aws_iam.plugins.filter.rotation_report import report_data, report_html
from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_rotation_info

ROTATE = dict(secret={"type": "none"}, rotate_after_days=90, deactivate_after_days=7, delete_after_days=7)


def _text(page):
    """What the page says, without its markup."""
    return re.sub(r"<[^>]+>", "", page)


def _day(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00")).date()


def _rotated_user(aws, connection_args, run_module, name="alice"):
    """A user whose only key is 120 days old, rotated now; (old key id, new key id, time of the rotation)."""
    aws.clock(-120)
    [(old, _secret)] = aws.user(name, keys=1)
    aws.clock(0)
    started = datetime.now(timezone.utc)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, users=[name], **ROTATE))
    assert failed is False, result.get("msg")
    [user] = result["users"]
    assert [action["action"] for action in user["actions"]] == ["create", "store", "verify"]
    new = user["actions"][0]["access_key_id"]
    return old, new, started


def _report(aws, connection_args, run_module):
    failed, info = run_module(iam_rotation_info, dict(connection_args, rotate_after_days=90, deactivate_after_days=7,
                                                      delete_after_days=7))
    assert failed is False, info.get("msg")
    hosts = {"prod": {"rotation_report_info": info}}
    return info, report_data(["prod"], hosts, now=datetime.now(timezone.utc).isoformat())


def test_right_after_a_rotation_the_old_key_is_retiring_with_the_day_of_each_step(aws, connection_args, run_module):
    old, new, started = _rotated_user(aws, connection_args, run_module)
    info, report = _report(aws, connection_args, run_module)

    keys = {key["access_key_id"]: key for key in info["users"][0]["access_keys"]}
    created = datetime.fromisoformat(keys[new]["create_date"])
    deactivate_on = created.date() + timedelta(days=7)
    assert keys[old]["retiring"] == {"replaced_by": new, "deactivate_at": (created + timedelta(days=7)).isoformat(),
                                     "deactivated_at": None, "delete_at": (created + timedelta(days=14)).isoformat()}
    assert keys[new]["retiring"] is None

    [account] = report["accounts"]
    [user] = account["users"]
    classes = {key["access_key_id"]: key["age_class"] for key in user["access_keys"]}
    assert classes == {old: "retiring", new: "ok"}
    assert user["key_age_class"] == "ok"
    assert user["oldest_active_key_age_days"] == 0
    assert account["summary"]["keys_overdue"] == 0
    assert account["summary"]["keys_retiring"] == 1
    assert account["summary"]["users_with_overdue_keys"] == 0
    page = _text(report_html(report))
    assert "%s…%s 120 d retiring" % (old[:4], old[-4:]) in page
    assert "%s…%s retiring: deactivate on %s, delete on %s" % (
        old[:4], old[-4:], deactivate_on.isoformat(), (deactivate_on + timedelta(days=7)).isoformat()) in page
    assert started.date() <= _day(keys[new]["create_date"])


def test_a_key_only_verified_by_the_rotation_is_shown_as_verified_not_used(aws, connection_args, run_module):
    _old, new, _started = _rotated_user(aws, connection_args, run_module)
    info, report = _report(aws, connection_args, run_module)

    keys = {key["access_key_id"]: key for key in info["users"][0]["access_keys"]}
    assert keys[new]["last_used_service"] == "sts"
    [user] = report["accounts"][0]["users"]
    [new_key] = [key for key in user["access_keys"] if key["access_key_id"] == new]
    assert new_key["last_used_by_verification"] is True
    assert user["key_last_used_date"] is None
    assert user["key_verified_at"] == new_key["last_used_date"]
    assert "verified by rotation %s" % new_key["last_used_date"][:10] in _text(report_html(report))


def test_a_key_a_consumer_used_after_its_verification_is_shown_as_used(aws, connection_args, run_module, tmp_path):
    aws.clock(-120)
    aws.user("alice", keys=1)
    aws.clock(0)
    stored = tmp_path / "alice.json"
    failed, result = run_module(iam_access_key_rotate, dict(
        connection_args, users=["alice"], **dict(ROTATE, secret={"type": "file", "path": str(stored), "format": "json"})))
    assert failed is False, result.get("msg")
    secret = json.loads(stored.read_text())
    new = {"access_key_id": secret["AccessKeyId"]}
    # The consumer: a real call signed with the new key, as its consumer reads it from the destination.
    aws.client("iam", access_key=secret["AccessKeyId"], secret_key=secret["SecretAccessKey"]).get_user()
    info, report = _report(aws, connection_args, run_module)

    keys = {key["access_key_id"]: key for key in info["users"][0]["access_keys"]}
    assert keys[new["access_key_id"]]["last_used_service"] == "iam"
    [user] = report["accounts"][0]["users"]
    [new_key] = [key for key in user["access_keys"] if key["access_key_id"] == new["access_key_id"]]
    assert new_key["last_used_by_verification"] is False
    assert user["key_last_used_date"] == new_key["last_used_date"]
    assert user["key_verified_at"] is None
    assert "verified by rotation" not in report_html(report)


def test_the_account_says_who_read_it_and_which_users_it_chose(aws, connection_args, run_module):
    aws.user("alice", keys=1, tags={"team": "ops"})
    aws.client("iam").create_group(GroupName="deployers")
    aws.client("iam").add_user_to_group(GroupName="deployers", UserName="alice")
    failed, info = run_module(iam_rotation_info, dict(connection_args, path_prefix="/", tags={"team": "ops"},
                                                      groups=["deployers"], exclude_users=["break-glass"]))
    assert failed is False, info.get("msg")
    # moto answers GetCallerIdentity for its default credentials with an sts ARN; AWS with arn:aws:iam::...:user/...
    assert info["caller_arn"] == aws.client("sts").get_caller_identity()["Arn"]
    assert info["scope"] == {"users": [], "path_prefix": "/", "tags": {"team": "ops"}, "groups": ["deployers"],
                             "exclude_users": ["break-glass"], "exempt_tag": "rotator:exempt"}
    report = report_data(["prod"], {"prod": {"rotation_report_info": info}}, now=datetime.now(timezone.utc).isoformat())
    [account] = report["accounts"]
    assert account["caller_arn"] == info["caller_arn"]
    assert account["scope"] == info["scope"]


def test_an_account_read_through_an_assumed_role_names_the_role_session(aws, connection_args, run_module):
    failed, info = run_module(iam_rotation_info, dict(connection_args,
                                                      assume_role_arn="arn:aws:iam::222222222222:role/rotator"))
    assert failed is False, info.get("msg")
    assert info["account_id"] == "222222222222"
    assert info["caller_arn"] == "arn:aws:sts::222222222222:assumed-role/rotator/rotator-aws-iam"

"""The report of users whose old key waits for consumers or is held by a restore (the way back).

From iam_rotation_info: the hold (who restored the old key and why) and where the old key was last used.  From a
rotation earlier in the same play: the consumers that have not confirmed the new key and the old key's last use.
A rotation result may hold the new key handed to the consumers (``consumer_access_key``): nothing of it reaches
any output.
"""

from __future__ import annotations

import json
import re

from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.model import (
    report_csv,
    report_data,
    report_rows,
    report_summary,
)
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.page import report_html

NOW = "2025-06-01T12:00:00Z"
OLD, NEW = "AKIAOLDOLDOLDOLDOLD1", "AKIANEWNEWNEWNEWNEW2"
HELD_OLD, HELD_NEW = "AKIAHELDOLDHELDOLD01", "AKIAHELDNEWHELDNEW02"
SECRET = "consumer-secret-SHOULD-NEVER-SHOW-9f8e7d"
HOLD = {"old_key": HELD_OLD, "restored_at": "2025-05-30T08:00:00+00:00", "by": "oncall@example.com",
        "reason": "SEC-42 billing job still on the old key"}


def _key(key_id, age, used=None, service=None, region=None):
    return {"access_key_id": key_id, "status": "Active", "create_date": "2025-05-25T11:00:00+00:00", "age_days": age,
            "last_used_date": used, "last_used_service": service, "last_used_region": region, "retiring": None}


def _rotation(status, old, new, hold=None):
    return {"status": status, "due_actions": [], "next_action": None, "next_action_at": None,
            "message": "old key %s is still in use" % old, "hold": hold,
            "state": {"new_key": new, "old_key": old, "verified": True, "rotated_at": "2025-05-25T11:00:00+00:00",
                      "deactivated_at": None}}


def _user(name, keys, rotation):
    return {"user_name": name, "path": "/", "arn": "arn:aws:iam::123456789012:user/" + name, "access_keys": keys,
            "access_key_rotation": rotation, "console_access": False}


INFO = {"account_id": "123456789012", "exempted_users": [], "users": [
    _user("gina", [_key(OLD, 120, "2025-05-31T08:15:00+00:00", "s3", "eu-west-1"), _key(NEW, 7)],
          _rotation("waiting_for_consumers", OLD, NEW)),
    _user("hal", [_key(HELD_OLD, 120), _key(HELD_NEW, 7, "2025-05-26T09:00:00+00:00", "sts", "us-east-1")],
          _rotation("held", HELD_OLD, HELD_NEW, HOLD)),
]}
RESULT = {"changed": True, "users": [
    {"user_name": "gina", "status": "waiting_for_consumers", "changed": True,
     "actions": [{"action": "create", "access_key_id": NEW}, {"action": "store", "access_key_id": NEW},
                 {"action": "verify", "access_key_id": NEW}],
     "next_action": "deactivate", "next_action_at": "2025-06-08T11:00:00+00:00",
     "consumers_pending": ["ci-runner", "billing-app"],
     "consumer_access_key": {"access_key_id": NEW, "secret_access_key": SECRET},
     "old_key_last_used": {"access_key_id": OLD, "date": "2025-05-31T08:15:00+00:00", "service": "s3",
                           "region": "eu-west-1"},
     "msg": "old key %s stays active until consumers ci-runner, billing-app confirm the new key %s" % (OLD, NEW)},
    {"user_name": "hal", "status": "held", "changed": False, "actions": [], "consumers_pending": [],
     "old_key_last_used": {"access_key_id": HELD_OLD, "date": None, "service": "N/A", "region": "N/A"},
     "msg": "old key %s is active and its retirement held (reason: SEC-42 billing job still on the old key; by "
            "oncall@example.com) until a run with resume" % HELD_OLD},
]}


def _report(with_rotation=True):
    host = {"rotation_report_info": INFO}
    if with_rotation:
        host["access_key_rotation_result"] = RESULT
    return report_data(["prod"], {"prod": host}, now=NOW, collection_version="1.2.3")


def _users(report):
    return {user["user_name"]: user for user in report["accounts"][0]["users"]}


def test_a_held_user_says_who_restored_its_old_key_and_why():
    users = _users(_report(with_rotation=False))
    assert users["hal"]["access_key_rotation"]["hold"] == HOLD
    assert users["gina"]["access_key_rotation"]["hold"] is None


def test_a_waiting_or_held_user_says_where_its_old_key_was_last_used():
    users = _users(_report(with_rotation=False))
    assert users["gina"]["old_key_last_used"] == {"access_key_id": OLD, "date": "2025-05-31T08:15:00+00:00",
                                                  "service": "s3", "region": "eu-west-1"}
    assert users["hal"]["old_key_last_used"] == {"access_key_id": HELD_OLD, "date": None, "service": None,
                                                 "region": None}


def test_the_changes_name_the_pending_consumers_and_the_old_keys_last_use():
    changes = {change["user_name"]: change for change in _report()["accounts"][0]["changes"]}
    assert changes["gina"] == {
        "kind": "access_keys", "user_name": "gina", "status": "waiting_for_consumers", "changed": True,
        "actions": ["create " + NEW, "store " + NEW, "verify " + NEW], "next_action": "deactivate",
        "next_action_at": "2025-06-08T11:00:00+00:00", "message": RESULT["users"][0]["msg"],
        "consumers_pending": ["ci-runner", "billing-app"],
        "old_key_last_used": {"access_key_id": OLD, "date": "2025-05-31T08:15:00+00:00", "service": "s3",
                              "region": "eu-west-1"}}
    # A held user changed nothing in this run, and is shown all the same: its old key stays in service.
    assert changes["hal"]["status"] == "held"
    assert changes["hal"]["old_key_last_used"] == {"access_key_id": HELD_OLD, "date": None, "service": None,
                                                   "region": None}


def test_the_summary_counts_the_users_waiting_for_consumers_and_the_held_keys():
    report = _report()
    assert (report["totals"]["key_rotations_waiting"], report["totals"]["keys_held"]) == (1, 1)
    assert report_summary(report)[0] == (
        "prod (123456789012): 2 users, 4 access keys (4 active): 2 overdue, 0 due within 14 days, 0 retiring; "
        "0 key rotations due; 0 of 0 console passwords overdue; 1 waiting for consumers, 1 old key held")


def test_the_user_rows_say_where_the_old_key_was_used_and_who_holds_it():
    rows = {row["user_name"]: row for row in report_rows(_report())}
    assert [(rows[name]["old_key_last_used_date"], rows[name]["old_key_last_used_service"],
             rows[name]["old_key_last_used_region"], rows[name]["key_held_by"], rows[name]["key_hold_reason"])
            for name in ("gina", "hal")] == [
        ("2025-05-31T08:15:00+00:00", "s3", "eu-west-1", None, None),
        (None, None, None, "oncall@example.com", "SEC-42 billing job still on the old key")]


def test_the_page_shows_the_pending_consumers_the_last_use_and_the_hold():
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", report_html(_report())))
    assert "waiting for consumers: ci-runner, billing-app" in text
    assert "old key %s last used 2025-05-31 by s3 in eu-west-1" % OLD in text
    assert "old key %s never used" % HELD_OLD in text
    assert "held by oncall@example.com since 2025-05-30: SEC-42 billing job still on the old key" in text


def test_the_key_handed_to_the_consumers_reaches_no_output():
    report = _report()
    outputs = [json.dumps(report), report_html(report), report_csv(report), report_csv(report, "key"),
               "\n".join(report_summary(report))]
    assert [SECRET in output for output in outputs] == [False] * 5
    assert ["consumer_access_key" in output for output in outputs] == [False] * 5

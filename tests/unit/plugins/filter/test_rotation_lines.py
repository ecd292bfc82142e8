"""The roles' per-user summary lines."""

from __future__ import annotations

import pytest

from ansible_collections.rotator.aws_iam.plugins.filter.rotation_lines import FilterModule, rotation_lines, selection_line

ROTATED = {"user_name": "alice", "status": "rotated", "changed": True,
           "actions": [{"action": "create", "access_key_id": "AKIANEW"}, {"action": "store", "access_key_id": "AKIANEW"},
                       {"action": "deactivate", "access_key_id": "AKIAOLD"}],
           "next_action": "delete", "next_action_at": "2026-11-30T12:00:00+00:00",
           "new_access_key": {"secret_access_key": "never-printed"}}
FAILED = {"user_name": "bob", "status": "failed", "changed": False, "actions": [],
          "msg": "a new key is due but the user already has two active keys"}


def test_access_key_lines():
    assert rotation_lines([ROTATED, FAILED]) == [
        "alice: rotated | actions: create, store, deactivate [AKIANEW, AKIAOLD] | next: delete on 2026-11-30",
        "bob: failed | actions: none | next: none | a new key is due but the user already has two active keys"]


def test_check_mode_marks_the_users_that_would_change():
    lines = rotation_lines([ROTATED, FAILED], "access_keys", True)
    assert lines[0].startswith("alice: rotated (plan) | ") and lines[1].startswith("bob: failed | ")


def test_no_secret_reaches_a_line():
    assert not any("never-printed" in line for line in rotation_lines([ROTATED]))


@pytest.mark.parametrize("user, line", [
    ({"user_name": "carol", "status": "rotated", "changed": True,
      "actions": [{"action": "store_pending"}, {"action": "update_login_profile"}], "msg": "forced"},
     "carol: rotated | actions: store_pending, update_login_profile | next: rotation in 30 days | forced"),
    ({"user_name": "dan", "status": "compliant", "changed": False, "actions": [],
      "next_rotation_at": "2027-01-14T00:00:00+00:00"},
     "dan: compliant | actions: none | next: rotation on 2027-01-14"),
    ({"user_name": "erin", "status": "failed", "changed": False, "actions": []},
     "erin: failed | actions: none | next: none"),
])
def test_password_lines(user, line):
    assert rotation_lines([user], "passwords", False, 30) == [line]


def test_nothing_to_summarise():
    assert rotation_lines(None) == [] and rotation_lines([], "passwords") == []


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be access_keys or passwords"):
        rotation_lines([ROTATED], "keys")


def test_registered_under_their_names():
    assert FilterModule().filters() == {"rotation_lines": rotation_lines, "selection_line": selection_line}


def test_the_selection_line_names_every_group_of_users():
    result = {"account_id": "123456789012", "selection": {
        "selected": ["alice", "bob"], "exempted_users": ["glass"], "without_console": ["dev-nologin"],
        "unresolved_users": [{"user_name": "ghost", "msg": "user ghost does not exist"}]}}
    assert selection_line(result, "console passwords", "break-glass") == (
        "console passwords of account 123456789012: 2 user(s) selected: alice, bob; exempt by tag break-glass: glass; "
        "skipped, no console access: dev-nologin; not selected, failed: ghost")


def test_the_selection_line_of_an_account_with_nobody_to_rotate():
    result = {"account_id": "123456789012", "selection": {
        "selected": [], "exempted_users": [], "without_console": [], "unresolved_users": []}}
    assert selection_line(result, "access keys", "rotator:exempt") == "access keys of account 123456789012: 0 user(s) selected"


def test_the_selection_line_names_lapsed_exemptions_and_the_day_the_active_ones_end():
    exemptions = [
        {"user": "glass", "state": "active", "until": "2027-03-31", "days_left": 10, "reason": "SEC-1", "msg": ""},
        {"user": "carol", "state": "expired", "until": "2027-03-01", "days_left": -20, "reason": None, "msg": ""},
        {"user": "dave", "state": "malformed", "until": None, "days_left": None, "reason": None, "msg": ""},
    ]
    result = {"account_id": "123456789012", "selection": {
        "selected": ["alice", "carol", "dave"], "exempted_users": ["glass"], "without_console": [],
        "unresolved_users": [], "exemptions": exemptions}}
    assert selection_line(result, "access keys", "rotator:exempt") == (
        "access keys of account 123456789012: 3 user(s) selected: alice, carol, dave; "
        "exempt by tag rotator:exempt: glass (until 2027-03-31); "
        "exemption expired, rotated: carol; exemption malformed, rotated: dave")


OLD_KEY_USED = {"access_key_id": "AKIAOLD", "date": "2026-11-29T08:15:00+00:00", "service": "s3",
                "region": "eu-west-1"}
WAITING = {"user_name": "gina", "status": "waiting_for_consumers", "changed": True,
           "actions": [{"action": "create", "access_key_id": "AKIANEW"}, {"action": "store", "access_key_id": "AKIANEW"},
                       {"action": "verify", "access_key_id": "AKIANEW"}],
           "next_action": "deactivate", "next_action_at": "2026-12-05T10:00:00+00:00",
           "consumers_pending": ["ci-runner", "billing-app"], "old_key_last_used": OLD_KEY_USED,
           "consumer_access_key": {"access_key_id": "AKIANEW", "secret_access_key": "consumer-secret-never-printed"},
           "msg": "old key AKIAOLD stays active until consumers ci-runner, billing-app confirm the new key AKIANEW"}
HELD = {"user_name": "hal", "status": "held", "changed": False, "actions": [], "consumers_pending": [],
        "old_key_last_used": {"access_key_id": "AKIAOLD2", "date": None, "service": "N/A", "region": "N/A"},
        "msg": "old key AKIAOLD2 is active and its retirement held (reason: SEC-7 app broke; by ops@example.com) "
               "until a run with resume"}
REACTIVATED = {"user_name": "ivy", "status": "restored", "changed": True,
               "actions": [{"action": "reactivate", "access_key_id": "AKIAOLD3"}], "consumers_pending": [],
               "old_key_last_used": {"access_key_id": "AKIAOLD3", "date": "2026-11-20T07:00:00+00:00",
                                     "service": "sts", "region": "us-east-1"},
               "msg": "old key AKIAOLD3 is active and its retirement held (reason: rollback; by bob) until a run with "
                      "resume"}


def test_a_waiting_user_names_its_pending_consumers_and_where_its_old_key_was_last_used():
    assert rotation_lines([WAITING]) == [
        "gina: waiting_for_consumers | actions: create, store, verify [AKIANEW] | next: deactivate on 2026-12-05"
        " | waiting for consumers: ci-runner, billing-app | old key AKIAOLD last used 2026-11-29 by s3 in eu-west-1"
        " | old key AKIAOLD stays active until consumers ci-runner, billing-app confirm the new key AKIANEW"]


def test_a_held_user_shows_the_hold_and_an_old_key_never_used():
    assert rotation_lines([HELD, REACTIVATED]) == [
        "hal: held | actions: none | next: none | old key AKIAOLD2 never used | old key AKIAOLD2 is active and its "
        "retirement held (reason: SEC-7 app broke; by ops@example.com) until a run with resume",
        "ivy: restored | actions: reactivate [AKIAOLD3] | next: none | old key AKIAOLD3 last used 2026-11-20 by sts in "
        "us-east-1 | old key AKIAOLD3 is active and its retirement held (reason: rollback; by bob) until a run with "
        "resume"]


def test_the_key_handed_to_consumers_reaches_no_line():
    assert not any("consumer-secret-never-printed" in line for line in rotation_lines([WAITING], check_mode=True))

"""Digests from rotation results: who owns what, what each section lists, and never a secret."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from ansible_collections.rotator.aws_iam.plugins.module_utils._notify.digest import (
    AccountResults,
    build_digests,
    digest_text,
    item_id,
    users_with_items,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def access_keys_result(*users, exemptions=None):
    result = {"account_id": "111111111111", "users": list(users), "selection": {"selected": []}}
    if exemptions is not None:
        result["selection"]["exemptions"] = exemptions
    return result


ROTATED = {"user_name": "ci", "status": "rotated", "changed": True,
           "actions": [{"action": "create", "access_key_id": "AKIANEW"}, {"action": "store", "access_key_id": "AKIANEW"}],
           "secret": {"type": "secretsmanager", "name": "rotator/111111111111/ci/access-key", "region": "us-east-1",
                      "value": SECRET},
           "new_access_key": {"access_key_id": "AKIANEW", "secret_access_key": SECRET}}
FAILED = {"user_name": "backup", "status": "failed", "changed": False, "msg": "LimitExceeded: two active keys"}
WAITING = {"user_name": "etl", "status": "waiting_for_consumers", "changed": False,
           "access_keys": [{"access_key_id": "AKIAOLD", "create_date": "2026-01-01T00:00:00+00:00"},
                           {"access_key_id": "AKIANEWER", "create_date": "2026-11-01T00:00:00+00:00"}],
           "msg": "old key AKIAOLD was used after the new key was created",
           "consumers_pending": ["github"],
           "consumer_access_key": {"access_key_id": "AKIANEWER", "secret_access_key": SECRET}}
DUE_SOON = {"user_name": "app", "status": "compliant", "changed": False, "next_action": "rotate",
            "next_action_at": "2026-12-05T00:00:00+00:00"}
DUE_LATER = {"user_name": "late", "status": "compliant", "changed": False, "next_action": "rotate",
             "next_action_at": "2027-03-01T00:00:00+00:00"}
EXEMPTIONS = [{"user": "glass", "state": "active", "until": "2026-12-10", "days_left": 12, "reason": "SEC-1"},
              {"user": "calm", "state": "active", "until": "2027-06-30", "days_left": 214, "reason": "SEC-2"},
              {"user": "old", "state": "expired", "until": "2026-10-01", "days_left": -58, "reason": "SEC-3"},
              {"user": "typo", "state": "malformed", "until": None, "days_left": None, "reason": None}]


def account(host="prod", owner="", tags=None, access_keys=None, passwords=None):
    return AccountResults.from_option({"host": host, "owner": owner, "tags": tags or {},
                                       "access_keys": access_keys or {}, "passwords": passwords or {}},
                                      "rotator:owner")


def build(accounts, user_owners=None, default_owner="", due=14, warn=30):
    return build_digests(accounts, user_owners or {}, default_owner, NOW, due, warn)


def test_the_user_tag_wins_over_the_account_owner_which_wins_over_the_account_tag_and_the_default():
    tagged = account("tagged", tags={"rotator:owner": "acct-tag@example.com"},
                     access_keys=access_keys_result(ROTATED, FAILED))
    hosted = account("hosted", owner="host-var@example.com", tags={"rotator:owner": "acct-tag@example.com"},
                     access_keys=access_keys_result(FAILED))
    bare = account("bare", access_keys=access_keys_result(FAILED))
    digests, unowned = build([tagged, hosted, bare], {("tagged", "ci"): "user-tag@example.com"},
                             default_owner="fallback@example.com")
    assert unowned == []
    assert [(d["owner"], [(i["account"], i["user_name"]) for s in d["sections"].values() for i in s])
            for d in digests] == [
        ("acct-tag@example.com", [("tagged", "backup")]),
        ("fallback@example.com", [("bare", "backup")]),
        ("host-var@example.com", [("hosted", "backup")]),
        ("user-tag@example.com", [("tagged", "ci")]),
    ]


def test_items_without_any_owner_are_unowned():
    digests, unowned = build([account(access_keys=access_keys_result(FAILED))])
    assert digests == []
    assert [(item["section"], item["user_name"]) for item in unowned] == [("failed", "backup")]


def test_each_section_lists_exactly_the_fields_it_promises():
    result = access_keys_result(ROTATED, FAILED, WAITING, DUE_SOON, DUE_LATER, exemptions=EXEMPTIONS)
    digests, _unowned = build([account(owner="o@example.com", access_keys=result)])
    assert len(digests) == 1
    common = {"account": "prod", "account_id": "111111111111", "credential": "access key"}
    assert digests[0]["sections"] == {
        "failed": [dict(common, user_name="backup", msg="LimitExceeded: two active keys")],
        "waiting": [dict(common, user_name="etl", since="2026-11-01T00:00:00+00:00",
                         msg="old key AKIAOLD was used after the new key was created",
                         consumers=["github"])],
        "exemptions": [
            dict(common, user_name="glass", state="active", until="2026-12-10", days_left=12, reason="SEC-1"),
            dict(common, user_name="old", state="expired", until="2026-10-01", days_left=-58, reason="SEC-3"),
            dict(common, user_name="typo", state="malformed", until=None, days_left=None, reason=None)],
        "rotated": [dict(common, user_name="ci", access_key_id="AKIANEW",
                         destination={"type": "secretsmanager", "name": "rotator/111111111111/ci/access-key",
                                      "region": "us-east-1"})],
        "due": [dict(common, user_name="app", step="rotate", due_at="2026-12-05T00:00:00+00:00")],
    }
    assert digests[0]["count"] == 7


def test_a_digest_never_holds_a_secret_the_result_carried():
    result = access_keys_result(ROTATED, exemptions=EXEMPTIONS)
    passwords = {"account_id": "111111111111", "users": [
        {"user_name": "console", "status": "rotated", "changed": True, "rotated_at": "2026-11-28T09:00:00+00:00",
         "secret": {"type": "ssm", "name": "/rotator/console/password"}, "new_password": SECRET}]}
    digests, _unowned = build([account(owner="o@example.com", access_keys=result, passwords=passwords)])
    assert SECRET not in json.dumps(digests)
    assert SECRET not in digest_text(digests[0])
    assert [item["user_name"] for item in digests[0]["sections"]["rotated"]] == ["ci", "console"]


def test_results_without_exemptions_or_users_give_nothing():
    digests, unowned = build([account(owner="o@example.com", access_keys={"skipped": True},
                                      passwords=access_keys_result(DUE_LATER))])
    assert (digests, unowned) == ([], [])


def test_users_with_items_are_those_whose_owner_is_needed():
    result = access_keys_result(ROTATED, DUE_LATER, exemptions=EXEMPTIONS)
    assert users_with_items(account(access_keys=result), NOW, 14, 30) == ["ci", "glass", "old", "typo"]


def test_the_same_wait_told_again_has_the_same_id_and_a_new_rotation_another():
    first, _unowned = build([account(owner="o@example.com", access_keys=access_keys_result(WAITING, FAILED))])
    again, _unowned = build([account(owner="o@example.com", access_keys=access_keys_result(
        dict(WAITING, msg="used again today"), dict(FAILED, msg="another request id")))])
    assert first[0]["item_ids"] == again[0]["item_ids"]
    rotated = dict(ROTATED, actions=[{"action": "create", "access_key_id": "AKIANEXT"}])
    one = item_id("rotated", build([account(owner="o", access_keys=access_keys_result(ROTATED))])[0][0]
                  ["sections"]["rotated"][0])
    two = item_id("rotated", build([account(owner="o", access_keys=access_keys_result(rotated))])[0][0]
                  ["sections"]["rotated"][0])
    assert one != two


def test_the_text_names_each_section_and_item():
    digests, _unowned = build([account(owner="o@example.com", access_keys=access_keys_result(ROTATED, FAILED))])
    assert digest_text(digests[0]).splitlines() == [
        "Credential rotation digest for o@example.com",
        "",
        "Rotation failed (1):",
        "  - backup in 111111111111 (access key): LimitExceeded: two active keys",
        "",
        "Rotated: pick the new secret up from its destination (1):",
        "  - ci in 111111111111 (access key): new key AKIANEW, new secret in secretsmanager "
        "rotator/111111111111/ci/access-key us-east-1",
    ]

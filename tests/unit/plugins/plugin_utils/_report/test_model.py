"""The report model: keys retiring after a rotation, the rotation's own verification call, version, identity, scope."""

from __future__ import annotations

import json

import pytest

from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report import model
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.model import (
    read_collection_version,
    report_csv,
    report_data,
    report_rows,
    report_summary,
    verified_by_rotation,
)

NOW = "2025-06-01T12:00:00Z"
OLD, NEW = "AKIAOLDOLDOLDOLDOLD1", "AKIANEWNEWNEWNEWNEW2"
CREATED = "2025-06-01T11:00:00+00:00"


def key(key_id, age, status="Active", created=CREATED, used=None, service=None, retiring=None):
    return {"access_key_id": key_id, "status": status, "create_date": created, "age_days": age,
            "last_used_date": used, "last_used_service": service, "retiring": retiring}


def rotation(new=NEW, old=OLD, verified=True, status="pending", next_action="deactivate"):
    return {"status": status, "due_actions": [], "next_action": next_action,
            "next_action_at": "2025-06-08T11:00:00+00:00", "message": "",
            "state": {"new_key": new, "old_key": old, "verified": verified, "rotated_at": CREATED,
                      "deactivated_at": None}}


RETIRING = {"replaced_by": NEW, "deactivate_at": "2025-06-08T11:00:00+00:00", "deactivated_at": None,
            "delete_at": "2025-06-15T11:00:00+00:00"}


def hosts_with(keys, key_rotation, **info):
    user = {"user_name": "alice", "path": "/", "arn": "arn:aws:iam::123456789012:user/alice",
            "access_keys": keys, "access_key_rotation": key_rotation, "console_access": False}
    result = {"account_id": "123456789012", "exempted_users": [], "users": [user]}
    result.update(info)
    return {"prod": {"rotation_report_info": result}}


def the_user(report):
    return report["accounts"][0]["users"][0]


# --- 1. keys in their grace period are retiring, not overdue ------------------------------------------------------


def retiring_report():
    keys = [key(OLD, 120, created="2025-02-01T11:00:00+00:00", used="2025-05-31T08:00:00+00:00", service="s3",
                retiring=RETIRING),
            key(NEW, 0, used="2025-06-01T11:00:02+00:00", service="sts")]
    return report_data(["prod"], hosts_with(keys, rotation()), now=NOW, collection_version="1.2.3")


def test_the_old_key_of_a_verified_rotation_is_retiring_with_its_dates_not_overdue():
    report = retiring_report()
    user = the_user(report)
    old, new = user["access_keys"]
    assert old["age_class"] == "retiring" and new["age_class"] == "ok"
    assert old["retiring"] == {"replaced_by": NEW, "deactivate_at": "2025-06-08T11:00:00+00:00",
                               "deactivated_at": None, "delete_at": "2025-06-15T11:00:00+00:00"}
    assert new["retiring"] is None
    assert user["key_age_class"] == "ok"
    # The key in service is the new one: the retiring key's age is shown with it, not as the user's.
    assert user["oldest_active_key_age_days"] == 0
    summary = report["accounts"][0]["summary"]
    assert (summary["keys_overdue"], summary["keys_retiring"], summary["users_with_overdue_keys"]) == (0, 1, 0)
    assert report["totals"]["keys_retiring"] == 1 and report["totals"]["keys_overdue"] == 0


def test_the_summary_line_counts_retiring_keys_apart_from_overdue_ones():
    assert report_summary(retiring_report())[0] == (
        "prod (123456789012): 1 user, 2 access keys (2 active): 0 overdue, 0 due within 14 days, 1 retiring; "
        "0 key rotations due; 0 of 0 console passwords overdue")


def test_an_old_key_without_a_retirement_stays_overdue():
    keys = [key(OLD, 120, created="2025-02-01T11:00:00+00:00")]
    report = report_data(["prod"], hosts_with(keys, rotation(new=None, old=None, status="due", next_action=None)),
                         now=NOW)
    assert the_user(report)["access_keys"][0]["age_class"] == "overdue"
    assert report["accounts"][0]["summary"]["keys_overdue"] == 1


def test_an_inactive_key_awaiting_deletion_is_retiring_with_its_deletion_day():
    deactivated = dict(RETIRING, deactivate_at=None, deactivated_at="2025-06-08T11:00:00+00:00")
    keys = [key(OLD, 127, status="Inactive", retiring=deactivated), key(NEW, 7)]
    report = report_data(["prod"], hosts_with(keys, rotation(next_action="delete")), now=NOW)
    old = the_user(report)["access_keys"][0]
    assert old["age_class"] == "retiring" and old["retiring"]["delete_at"] == "2025-06-15T11:00:00+00:00"


def test_rows_and_csv_say_which_keys_retire_and_when():
    report = retiring_report()
    rows = report_rows(report, "key")
    assert [(row["access_key_id"], row["age_class"], row["retiring_deactivate_at"], row["retiring_delete_at"])
            for row in rows] == [(OLD, "retiring", "2025-06-08T11:00:00+00:00", "2025-06-15T11:00:00+00:00"),
                                 (NEW, "ok", None, None)]
    assert report_rows(report)[0]["retiring_access_key_ids"] == OLD
    assert "retiring_delete_at" in report_csv(report, "key").splitlines()[0].split(",")


# --- 2. the rotation's own verification call is not a use --------------------------------------------------------


STATE = {"new_key": NEW, "verified": True}


@pytest.mark.parametrize("used, service, state, expected", [
    pytest.param("2025-06-01T11:00:02+00:00", "sts", STATE, True, id="sts-seconds-after-creation"),
    # AWS may give the time of the last use to the minute: a verification in the minute of the creation.
    pytest.param("2025-06-01T11:00:00+00:00", "sts", STATE, True, id="sts-at-the-creation-minute"),
    pytest.param("2025-06-01T11:09:59+00:00", "sts", STATE, True, id="sts-at-the-end-of-the-window"),
    pytest.param("2025-06-01T11:10:01+00:00", "sts", STATE, False, id="sts-after-the-window"),
    pytest.param("2025-06-01T10:58:59+00:00", "sts", STATE, False, id="sts-before-creation"),
    pytest.param("2025-06-01T11:00:02+00:00", "iam", STATE, False, id="another-service"),
    pytest.param("2025-06-01T11:00:02+00:00", None, STATE, False, id="service-unknown"),
    pytest.param(None, None, STATE, False, id="never-used"),
    pytest.param("2025-06-01T11:00:02+00:00", "sts", {"new_key": NEW, "verified": False}, False, id="not-verified"),
    pytest.param("2025-06-01T11:00:02+00:00", "sts", {"new_key": OLD, "verified": True}, False, id="not-the-new-key"),
    pytest.param("2025-06-01T11:00:02+00:00", "sts", {}, False, id="no-rotation-state"),
])
def test_a_last_use_is_the_verification_only_by_sts_within_minutes_of_the_new_keys_creation(used, service, state,
                                                                                            expected):
    assert verified_by_rotation(key(NEW, 0, used=used, service=service), state) is expected


def test_a_key_only_verified_is_not_counted_as_used_and_says_when_it_was_verified():
    user = the_user(retiring_report())
    new = user["access_keys"][1]
    assert new["last_used_by_verification"] is True and new["last_used_date"] == "2025-06-01T11:00:02+00:00"
    # The user's last use is the consumers' (the old key's), not the verification.
    assert user["key_last_used_date"] == "2025-05-31T08:00:00+00:00"
    assert user["key_verified_at"] == "2025-06-01T11:00:02+00:00"
    assert report_rows(retiring_report(), "key")[1]["last_used_by_verification"] is True


def test_a_key_used_by_a_consumer_is_used():
    keys = [key(NEW, 0, used="2025-06-01T11:00:05+00:00", service="s3")]
    user = the_user(report_data(["prod"], hosts_with(keys, rotation(old=None)), now=NOW))
    assert user["access_keys"][0]["last_used_by_verification"] is False
    assert user["key_last_used_date"] == "2025-06-01T11:00:05+00:00"
    assert user["key_verified_at"] is None


# --- 3. version, identity and scope -------------------------------------------------------------------------------


def test_the_document_names_the_collection_version_who_read_each_account_and_its_scope():
    scope = {"users": [], "path_prefix": "/service/", "tags": {"team": "ops"}, "groups": ["deployers"],
             "exclude_users": ["break-glass"], "exempt_tag": "rotator:exempt"}
    keys = [key(NEW, 0)]
    hosts = hosts_with(keys, rotation(old=None), caller_arn="arn:aws:sts::123456789012:assumed-role/audit/rotator",
                       scope=dict(scope, secret="never-copied"))
    report = report_data(["prod"], hosts, now=NOW, collection_version="1.2.3")
    account = report["accounts"][0]
    assert account["collection_version"] == "1.2.3"
    assert account["caller_arn"] == "arn:aws:sts::123456789012:assumed-role/audit/rotator"
    assert account["scope"] == scope
    assert "never-copied" not in json.dumps(report)


def test_an_account_not_read_has_no_identity_and_no_scope():
    report = report_data(["gone"], {"gone": {}}, now=NOW)
    assert report["accounts"][0]["caller_arn"] is None and report["accounts"][0]["scope"] is None


def test_the_version_is_the_installed_collections_from_its_manifest(tmp_path):
    (tmp_path / "MANIFEST.json").write_text(json.dumps({"collection_info": {"version": "2.0.1"}}))
    (tmp_path / "galaxy.yml").write_text("version: 9.9.9\n")
    assert read_collection_version(str(tmp_path)) == "2.0.1"


def test_in_a_source_tree_the_version_is_galaxy_yml_s(tmp_path):
    (tmp_path / "galaxy.yml").write_text("namespace: rotator\nname: aws_iam\nversion: 0.3.0\n")
    assert read_collection_version(str(tmp_path)) == "0.3.0"
    assert read_collection_version(str(tmp_path / "nothing-here")) is None


def test_by_default_the_report_names_the_version_of_the_collection_it_runs_from():
    account = report_data(["gone"], {}, now=NOW)["accounts"][0]
    assert account["collection_version"] == read_collection_version(model.COLLECTION_ROOT)
    assert read_collection_version(model.COLLECTION_ROOT)

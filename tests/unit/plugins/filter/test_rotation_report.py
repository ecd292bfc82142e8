"""The audit report filters: what the document copies (and never), ages against the policy, rows, CSV, HTML, summary."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.rotator.aws_iam.plugins.filter.rotation_report import (
    KEY_COLUMNS,
    USER_COLUMNS,
    FilterModule,
    age_class,
    report_csv,
    report_data,
    report_html,
    report_rows,
    report_summary,
)

NOW = "2025-06-01T12:00:00Z"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PASSWORD = "Pa55word!that-must-never-show"
KEY_OLD = "AKIAOLDOLDOLDOLDOLD1"
KEY_NEW = "AKIANEWNEWNEWNEWNEW2"


def key(key_id, age, status="Active", used=None):
    return {"access_key_id": key_id, "status": status, "create_date": "2025-01-01T00:00:00+00:00", "age_days": age,
            "last_used_date": used}


def info_user(name, keys=(), rotation=None, console=False, last_changed=None, password_status=None, path="/"):
    return {
        "user_name": name, "arn": "arn:aws:iam::123456789012:user%s%s" % (path, name), "path": path,
        "access_keys": list(keys),
        "access_key_rotation": rotation or {"status": "compliant", "due_actions": [], "next_action": "create",
                                            "next_action_at": "2025-08-01T00:00:00+00:00", "message": "",
                                            "state": {"new_key": None}},
        "console_access": console,
        "password_rotation": {"status": password_status or ("compliant" if console else "no_console_access"),
                              "last_changed": last_changed, "last_changed_source": "tag" if last_changed else None,
                              "next_rotation_at": None},
    }


def info(users, account_id="123456789012", exempted=()):
    return {"changed": False, "account_id": account_id, "user_names": [u["user_name"] for u in users],
            "exempted_users": list(exempted), "users": users}


def fleet():
    """Two accounts read, one not read; rotation ran in the first, with a secret returned to a no_log task."""
    alice = info_user("alice", [key(KEY_OLD, 120, used="2025-05-30T08:00:00+00:00"), key(KEY_NEW, 0)],
                      rotation={"status": "pending", "due_actions": [], "next_action": "deactivate",
                                "next_action_at": "2025-06-08T12:00:00+00:00", "message": ""},
                      console=True, last_changed="2025-06-01T11:00:00+00:00")
    bob = info_user("bob", [key("AKIABOBBOBBOBBOBBOB1", 80)])
    carol = info_user("carol", [key("AKIACAROLCAROLCAROL1", 200, status="Inactive")], console=True,
                      last_changed="2025-01-01T00:00:00+00:00", password_status="due")
    frank = info_user("frank", [key("AKIAFRANKFRANKFRANK1", 95)],
                      rotation={"status": "due", "due_actions": ["create"], "next_action": "create",
                                "next_action_at": "2025-05-28T00:00:00+00:00", "message": ""})
    keys_result = {"changed": True, "failed_users": [], "users": [
        {"user_name": "alice", "status": "rotated", "changed": True,
         "actions": [{"action": "create", "access_key_id": KEY_NEW}, {"action": "store", "access_key_id": KEY_NEW},
                     {"action": "verify", "access_key_id": KEY_NEW}],
         "access_keys": [], "secret": {"type": "secretsmanager", "name": "iam/alice"}, "warnings": [],
         "next_action": "deactivate", "next_action_at": "2025-06-08T12:00:00+00:00",
         "new_access_key": {"access_key_id": KEY_NEW, "secret_access_key": SECRET}},
        {"user_name": "bob", "status": "compliant", "changed": False, "actions": [], "access_keys": [],
         "secret": {}, "warnings": []},
    ]}
    passwords_result = {"changed": True, "users": [
        {"user_name": "alice", "status": "rotated", "changed": True,
         "actions": [{"action": "store_pending"}, {"action": "update_login_profile"}], "login_profile": True,
         "secret": {"type": "ssm"}, "warnings": [], "new_password": PASSWORD,
         "next_rotation_at": "2025-08-30T11:00:00+00:00"},
    ]}
    return {
        "prod": {"rotation_report_info": info([alice, bob, carol], exempted=["break-glass"]),
                 "rotation_report_policy": {"rotate_after_days": "90", "password_rotate_after_days": 90},
                 "rotator_access_keys": keys_result, "rotator_passwords": passwords_result},
        "dev": {"rotation_report_info": info([frank], account_id="222222222222"),
                "rotator_access_keys": {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}},
        "gone": {"rotator_assume_role_arn": "arn:aws:iam::333333333333:role/rotator"},
    }


@pytest.fixture(name="report")
def report_fixture():
    return report_data(["prod", "dev", "gone"], fleet(), now=NOW)


def users_of(report):
    return {user["user_name"]: user for account in report["accounts"] for user in account["users"]}


# --- what the document holds --------------------------------------------------------------------------------------


@pytest.mark.parametrize("age, active, expected", [
    (0, True, "ok"), (75, True, "ok"), (76, True, "soon"), (89, True, "soon"), (90, True, "overdue"),
    (400, True, "overdue"), (400, False, "inactive"), (None, True, "none"),
])
def test_age_class_against_a_90_day_policy_warned_14_days_ahead(age, active, expected):
    assert age_class(age, 90, 14, active) == expected


def test_keys_are_judged_by_their_age_and_status(report):
    users = users_of(report)
    assert [k["age_class"] for k in users["alice"]["access_keys"]] == ["overdue", "ok"]
    assert users["alice"]["oldest_active_key_age_days"] == 120
    assert users["alice"]["key_age_class"] == "overdue"
    assert users["alice"]["key_last_used_date"] == "2025-05-30T08:00:00+00:00"
    assert users["bob"]["key_age_class"] == "soon"
    # An inactive key is not overdue, however old: it cannot be used.
    assert users["carol"]["oldest_active_key_age_days"] is None
    assert users["carol"]["key_age_class"] == "none"
    assert users["carol"]["access_keys"][0]["age_class"] == "inactive"


def test_password_ages_are_counted_to_the_report_time(report):
    users = users_of(report)
    assert users["alice"]["password"]["age_days"] == 0
    assert users["alice"]["password"]["age_class"] == "ok"
    assert users["alice"]["password"]["last_changed"] == "2025-06-01T11:00:00Z"
    assert users["carol"]["password"]["age_days"] == 151
    assert users["carol"]["password"]["age_class"] == "overdue"
    assert users["bob"]["password"] == {"status": "no_console_access", "last_changed": None,
                                        "last_changed_source": None, "age_days": None, "age_class": "none",
                                        "next_rotation_at": None}


def test_accounts_are_summed_up_and_unread_ones_named(report):
    prod, dev, gone = report["accounts"]
    assert prod["summary"] == {"users": 3, "exempted_users": 1, "exemptions_ending_soon": 0, "exemptions_expired": 0,
                               "exemptions_malformed": 0, "access_keys": 4, "active_access_keys": 3,
                               "keys_overdue": 1, "keys_due_soon": 1, "keys_retiring": 0, "users_with_overdue_keys": 1,
                               "key_rotations_due": 0, "key_rotations_failed": 0, "key_rotations_waiting": 0,
                               "keys_held": 0, "console_users": 2,
                               "passwords_overdue": 1, "error": 0}
    assert prod["policy"] == {"rotate_after_days": 90, "password_rotate_after_days": 90}
    assert dev["account_id"] == "222222222222" and dev["summary"]["key_rotations_due"] == 1
    assert gone["error"] == "not read: the account failed earlier in this run"
    assert gone["account_id"] == "333333333333" and gone["users"] == []
    assert report["totals"]["accounts"] == 3 and report["totals"]["accounts_failed"] == 1
    assert report["totals"]["users"] == 4 and report["totals"]["keys_overdue"] == 2
    assert report["generated_at"] == NOW and report["warn_days"] == 14


def test_a_failed_or_skipped_read_is_reported_with_its_reason():
    hosts = {"broken": {"rotation_report_info": {"failed": True, "msg": "users not found under path /: nobody"}},
             "skipped": {"rotation_report_info": {"skipped": True, "changed": False}}}
    report = report_data(["broken", "skipped"], hosts, now=NOW)
    assert [a["error"] for a in report["accounts"]] == [
        "users not found under path /: nobody", "not read: the report task was skipped"]
    assert report["totals"]["accounts_failed"] == 2
    assert report_summary(report)[0] == "broken (account unknown): FAILED: users not found under path /: nobody"


def test_the_changes_are_those_of_this_run_that_changed_something(report):
    prod, dev, _gone = report["accounts"]
    assert prod["rotation_ran"] and not dev["rotation_ran"] and report["rotation_ran"]
    assert prod["changes"] == [
        {"kind": "access_keys", "user_name": "alice", "status": "rotated", "changed": True,
         "actions": ["create " + KEY_NEW, "store " + KEY_NEW, "verify " + KEY_NEW], "next_action": "deactivate",
         "next_action_at": "2025-06-08T12:00:00+00:00", "message": None, "consumers_pending": [],
         "old_key_last_used": None},
        {"kind": "password", "user_name": "alice", "status": "rotated", "changed": True,
         "actions": ["store_pending", "update_login_profile"], "next_action": "rotate",
         "next_action_at": "2025-08-30T11:00:00+00:00", "message": None, "consumers_pending": [],
         "old_key_last_used": None},
    ]
    assert dev["changes"] == []
    assert report["totals"]["changes"] == 2


def test_failures_and_waits_are_changes_too_and_loops_and_role_names_are_read():
    looped = {"results": [
        {"users": [{"user_name": "a", "status": "failed", "changed": False, "actions": [], "msg": "AccessDenied"}]},
        {"skipped": True},
        {"users": [{"user_name": "b", "status": "waiting_for_consumers", "changed": False, "actions": []}]},
    ]}
    hosts = {"x": {"rotation_report_info": info([]), "access_key_rotation_result": looped,
                   "password_rotation_result": {"changed": False, "users": []}}}
    account = report_data(["x"], hosts, now=NOW)["accounts"][0]
    assert account["rotation_ran"]
    assert [(c["user_name"], c["status"], c["message"]) for c in account["changes"]] == [
        ("a", "failed", "AccessDenied"), ("b", "waiting_for_consumers", None)]


def test_without_a_rotation_there_is_no_changes_section():
    report = report_data(["x"], {"x": {"rotation_report_info": info([])}}, now=NOW)
    assert not report["rotation_ran"]
    assert 'id="changes"' not in report_html(report)


def test_check_mode_says_what_would_change():
    hosts = {"x": {"rotation_report_info": info([]), "rotator_access_keys": {"users": []}}}
    page = report_html(report_data(["x"], hosts, now=NOW, check_mode=True))
    assert "What this run would change (check mode)" in page


def test_nothing_but_the_named_fields_reaches_any_output(report):
    """A secret returned to a no_log task, or any field the report does not know, never gets in."""
    hosts = fleet()
    alice = hosts["prod"]["rotation_report_info"]["users"][0]
    alice["access_keys"][0]["secret_access_key"] = SECRET
    alice["access_key_rotation"]["state"] = {"new_key": KEY_NEW, "secret": SECRET}
    alice["password"] = PASSWORD
    report = report_data(["prod", "dev", "gone"], hosts, now=NOW)
    outputs = [json.dumps(report), report_csv(report), report_csv(report, "key"), report_html(report),
               "\n".join(report_summary(report)), json.dumps(report_rows(report)),
               json.dumps(report_rows(report, "key"))]
    for output in outputs:
        assert SECRET not in output and PASSWORD not in output
        assert "iam/alice" not in output  # not even where the secret went


def test_the_document_is_plain_json_data(report):
    assert json.loads(json.dumps(report)) == report


def test_the_time_defaults_to_now():
    report = report_data([], {})
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", report["generated_at"])
    assert report["totals"]["accounts"] == 0


# --- rows and CSV -------------------------------------------------------------------------------------------------


def test_rows_per_user_and_per_key(report):
    users = report_rows(report)
    assert [(r["account"], r["user_name"]) for r in users] == [("prod", "alice"), ("prod", "bob"),
                                                               ("prod", "carol"), ("dev", "frank")]
    assert all(tuple(row) == USER_COLUMNS for row in users)
    assert users[0]["access_key_ids"] == "%s %s" % (KEY_OLD, KEY_NEW)
    assert users[0]["active_access_keys"] == 2 and users[0]["password_age_days"] == 0
    keys = report_rows(report, "key")
    assert [(r["user_name"], r["age_days"], r["age_class"]) for r in keys] == [
        ("alice", 120, "overdue"), ("alice", 0, "ok"), ("bob", 80, "soon"), ("carol", 200, "inactive"),
        ("frank", 95, "overdue")]
    assert all(tuple(row) == KEY_COLUMNS for row in keys)
    with pytest.raises(ValueError):
        report_rows(report, "account")


def test_csv_has_a_header_and_reads_back(report):
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert list(rows[0]) == list(USER_COLUMNS)
    assert rows[0]["user_name"] == "alice" and rows[0]["console_access"] == "true"
    assert rows[1]["console_access"] == "false" and rows[1]["password_age_days"] == ""
    keys = list(csv.DictReader(io.StringIO(report_csv(report, "key"))))
    assert len(keys) == 5 and keys[4]["access_key_id"] == "AKIAFRANKFRANKFRANK1"


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "+ops@example.com", "-x", "@SUM(A1)"])
def test_csv_cells_never_start_a_formula(name):
    hosts = {"x": {"rotation_report_info": info([info_user(name, [key("AKIAXXXXXXXXXXXXXXX1", 1)])])}}
    report = report_data(["x"], hosts, now=NOW)
    for per in ("user", "key"):
        row = list(csv.DictReader(io.StringIO(report_csv(report, per))))[0]
        assert row["user_name"] == "'" + name


# --- HTML ---------------------------------------------------------------------------------------------------------


class Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.attrs = []
        self.scripts = []
        self.styles = []
        self.csp = None
        self._in = None
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        attrs = dict(attrs)
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy":
            self.csp = attrs["content"]
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)
        else:
            self.text.append(data)


def parse(page):
    parser = Tags()
    parser.feed(page)
    parser.close()
    return parser


def sha256(text):
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_the_page_is_self_contained_and_allows_only_its_own_style_and_script(report):
    page = parse(report_html(report))
    assert page.tags.count("script") == 1 and page.tags.count("style") == 1
    assert "default-src 'none'" in page.csp
    assert sha256(page.scripts[0]) in page.csp and sha256(page.styles[0]) in page.csp
    assert not {"link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert not [name for name, _value in page.attrs if name in ("src", "href", "action")]


def test_the_page_shows_accounts_users_chart_and_changes(report):
    page = report_html(report)
    assert page.count('<tr data-account="prod"') == 3 and page.count('<tr data-account="dev"') == 1
    assert '<tr data-account="gone"' not in page
    assert "not read: the account failed earlier in this run" in page
    assert 'id="changes-table"' in page and "What this run changed" in page
    assert "exempt: break-glass" in page
    bars = re.findall(r'<rect class="bar" data-class="(\w+)" data-count="(\d+)"', page)
    # Active keys only: alice's two, bob's and frank's; carol's inactive key is not charted.
    assert sorted(bars) == [("ok", "1"), ("overdue", "2"), ("soon", "1")]
    assert 'data-overdue="1"' in page and 'data-attention="1"' in page


def test_every_value_is_escaped():
    nasty = '<script>alert("x")</script>&'
    user = info_user("u", [key("AKIA<b>", 1)], path="/%s/" % nasty,
                     rotation={"status": "failed", "message": nasty, "due_actions": [], "next_action": None})
    hosts = {'a"><img src=x>': {"rotation_report_info": info([user], exempted=[nasty])}}
    page = report_html(report_data(list(hosts), hosts, now=NOW, title=nasty))
    parsed = parse(page)
    assert parsed.tags.count("script") == 1 and "img" not in parsed.tags
    assert nasty not in page
    assert "&lt;script&gt;" in page


def test_a_script_in_a_user_name_is_text_in_every_place_the_page_shows_it():
    name = "<script>alert(1)</script>"
    user = info_user(name, [key("AKIAXXXXXXXXXXXXXXX1", 100)])
    changes = {"users": [{"user_name": name, "status": "failed", "changed": False, "actions": [], "msg": name}]}
    hosts = {"x": {"rotation_report_info": info([user]), "rotator_access_keys": changes}}
    page = report_html(report_data(["x"], hosts, now=NOW))
    parsed = parse(page)
    assert parsed.tags.count("script") == 1 and "alert(1)" not in "".join(parsed.scripts)
    assert name not in page and name.lower() not in page
    # The user cell, the changes table's user and message, and the row's search text.
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4
    assert [text for text in parsed.text if "alert" in text] == [name, name, name]


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=30), path=st.text(max_size=20), message=st.text(max_size=40))
def test_any_text_renders_as_text(name, path, message):
    user = info_user(name, [key("AKIAXXXXXXXXXXXXXXX1", 100)], path=path,
                     rotation={"status": "due", "message": message, "due_actions": ["create"],
                               "next_action": "create", "next_action_at": None})
    report = report_data(["acct"], {"acct": {"rotation_report_info": info([user])}}, now=NOW)
    page = parse(report_html(report))
    allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "div", "b", "span", "table", "thead",
               "tbody", "tr", "th", "td", "small", "br", "svg", "line", "text", "rect", "input", "select", "option",
               "script"}
    assert set(page.tags) <= allowed
    assert page.tags.count("script") == 1
    row = list(csv.reader(io.StringIO(report_csv(report))))[1]
    assert row[2] == ("'" + name if name[:1] in ("=", "+", "-", "@", "\t", "\r") else name)


def test_the_chart_scales_to_any_policy():
    hosts = {"x": {"rotation_report_info": info([info_user("u", [key("AKIAXXXXXXXXXXXXXXX1", 5)])]),
                   "rotation_report_policy": {"rotate_after_days": 1}}}
    page = report_html(report_data(["x"], hosts, now=NOW))
    assert re.findall(r'data-class="(\w+)" data-count="1"', page) == ["overdue"]


# --- summary and registration --------------------------------------------------------------------------------------


def test_summary_has_a_line_per_account_and_one_for_all(report):
    assert report_summary(report) == [
        "prod (123456789012): 3 users, 4 access keys (3 active): 1 overdue, 1 due within 14 days, 0 retiring; "
        "0 key rotations due; 1 of 2 console passwords overdue; "
        "exemptions: 1 active (0 ending within 14 days), 0 expired, 0 malformed",
        "prod (123456789012): 2 rotation changes in this run",
        "dev (222222222222): 1 user, 1 access key (1 active): 1 overdue, 0 due within 14 days, 0 retiring; "
        "1 key rotation due; 0 of 0 console passwords overdue",
        "gone (333333333333): FAILED: not read: the account failed earlier in this run",
        "all 3 accounts: 4 users, 5 access keys (4 active): 2 overdue, 1 due within 14 days, 0 retiring; "
        "1 key rotation due; 1 of 2 console passwords overdue; "
        "exemptions: 1 active (0 ending within 14 days), 0 expired, 0 malformed; 1 account FAILED",
    ]


def test_the_filters_are_registered():
    assert sorted(FilterModule().filters()) == ["report_csv", "report_data", "report_html", "report_rows",
                                                "report_summary"]

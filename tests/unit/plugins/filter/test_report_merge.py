"""Merging the reports of the slices of a sliced job: one report of every account, never one account twice."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.rotator.aws_iam.plugins.filter.report_merge import FilterModule, report_merge
from ansible_collections.rotator.aws_iam.plugins.filter.rotation_report import (
    report_csv,
    report_data,
    report_html,
    report_summary,
)
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.merge import ReportMergeError
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.merge import report_merge as merge_reports

NOW = "2025-06-01T12:00:00Z"
LATER = "2025-06-01T12:07:00Z"
# Inventory order on purpose not the name order: AWX slices hosts by name.
HOSTS = ["web", "audit", "payments", "build", "data"]
ACCOUNT_IDS = {"web": "111111111111", "audit": "222222222222", "payments": "333333333333", "build": "444444444444",
               "data": "555555555555"}


def host_vars(name, account_id=None, rotated=True):
    """The variables report.yml leaves on one host: two users, one key each, one of them rotated in this run."""
    users = []
    for user, age in (("%s-app" % name, 120), ("%s-ci" % name, 10)):
        users.append({
            "user_name": user, "path": "/", "arn": "arn:aws:iam::%s:user/%s" % (account_id, user),
            "access_keys": [{"access_key_id": "AKIA%s" % user.upper().replace("-", "")[:16].ljust(16, "X"),
                             "status": "Active", "create_date": "2025-01-01T00:00:00+00:00", "age_days": age,
                             "last_used_date": None}],
            "access_key_rotation": {"status": "due" if age > 90 else "compliant", "due_actions": [],
                                    "next_action": "create", "next_action_at": None, "message": ""},
            "console_access": False,
        })
    keys_result = {"changed": rotated, "users": [
        {"user_name": "%s-app" % name, "status": "rotated", "changed": True, "actions": [{"action": "create"}],
         "next_action": "deactivate", "next_action_at": "2025-06-08T12:00:00+00:00"}]} if rotated else None
    variables = {"rotation_report_info": {"changed": False, "account_id": account_id or ACCOUNT_IDS[name],
                                          "exempted_users": [], "users": users}}
    if keys_result:
        variables["rotator_access_keys"] = keys_result
    return variables


def fleet_vars():
    return {name: host_vars(name, ACCOUNT_IDS.get(name)) for name in HOSTS}


def awx_slices(hosts, count):
    """The hosts of each slice as AWX makes them: by name, slice k gets positions k-1, k-1+count, ..."""
    ordered = sorted(hosts)
    return [ordered[number::count] for number in range(count)]


def slice_reports(count, hostvars=None, now=NOW):
    hostvars = hostvars or fleet_vars()
    return [{"name": "slice-%d" % (number + 1), "report": report_data(hosts, hostvars, now=now)}
            for number, hosts in enumerate(awx_slices(HOSTS, count))]


def without_merge_fields(report):
    return {key: value for key, value in report.items() if key not in ("merged_at", "slices", "missing_accounts")}


# --- one report of every account ----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_the_merged_slices_are_the_report_of_the_whole_fleet_in_name_order(count):
    whole = report_data(sorted(HOSTS), fleet_vars(), now=NOW)
    merged = merge_reports(slice_reports(count), now=LATER)
    assert without_merge_fields(merged) == whole
    assert merged["merged_at"] == LATER
    assert [account["name"] for account in merged["accounts"]] == ["audit", "build", "data", "payments", "web"]
    assert merged["totals"]["accounts"] == 5 and merged["totals"]["users"] == 10 and merged["totals"]["changes"] == 5
    # What each format shows is what the whole fleet's report shows.
    assert report_csv(merged, "user") == report_csv(whole, "user")
    assert report_csv(merged, "key") == report_csv(whole, "key")
    assert report_summary(merged) == report_summary(whole)


def test_each_slice_is_named_with_its_accounts_and_time():
    reports = slice_reports(3)
    reports[1]["report"]["generated_at"] = "2025-06-01T11:58:00Z"
    merged = merge_reports(reports, now=LATER)
    assert merged["slices"] == [
        {"name": "slice-1", "generated_at": NOW, "accounts": ["audit", "payments"]},
        {"name": "slice-2", "generated_at": "2025-06-01T11:58:00Z", "accounts": ["build", "web"]},
        {"name": "slice-3", "generated_at": NOW, "accounts": ["data"]},
    ]
    # The ages were counted when the slices read their accounts: the earliest slice's time is the report's.
    assert merged["generated_at"] == "2025-06-01T11:58:00Z"


def test_bare_reports_are_named_by_their_position():
    bare = [item["report"] for item in slice_reports(2)]
    assert [item["name"] for item in merge_reports(bare, now=LATER)["slices"]] == ["slice 1", "slice 2"]


def test_the_merged_report_renders_as_a_page_with_every_user_once():
    page = report_html(merge_reports(slice_reports(3), now=LATER))
    for name in HOSTS:
        assert page.count('<tr data-account="%s"' % name) == 2
        for user in ("%s-app" % name, "%s-ci" % name):
            assert page.count("<td><b>%s</b>" % user) == 1
    assert page == report_html(report_data(sorted(HOSTS), fleet_vars(), now=NOW))


def test_a_dict_of_slice_name_to_report_is_taken_in_name_order():
    reports = slice_reports(3)
    merged = merge_reports({item["name"]: item["report"] for item in reversed(reports)}, now=LATER)
    assert [item["name"] for item in merged["slices"]] == ["slice-1", "slice-2", "slice-3"]
    assert without_merge_fields(merged) == without_merge_fields(merge_reports(reports, now=LATER))


def test_rotation_ran_and_check_mode_are_carried():
    hostvars = fleet_vars()
    for name in ("audit", "payments"):
        del hostvars[name]["rotator_access_keys"]
    reports = slice_reports(3, hostvars)
    merged = merge_reports(reports, now=LATER)
    assert [item["report"]["rotation_ran"] for item in reports] == [False, True, True]
    assert merged["rotation_ran"] is True and merged["check_mode"] is False
    assert merge_reports(reports[:1], now=LATER)["rotation_ran"] is False


# --- missing accounts ---------------------------------------------------------------------------------------------


def test_the_accounts_no_slice_reported_are_listed():
    reports = slice_reports(3)
    merged = merge_reports([reports[0], reports[2]], expected_accounts=HOSTS, now=LATER)
    assert merged["missing_accounts"] == ["build", "web"]
    assert [account["name"] for account in merged["accounts"]] == ["audit", "data", "payments"]
    assert merge_reports(reports, expected_accounts=HOSTS, now=LATER)["missing_accounts"] == []
    assert merge_reports(reports, now=LATER)["missing_accounts"] is None


# --- refusals ----------------------------------------------------------------------------------------------------


def test_a_slice_reported_twice_is_refused_naming_its_accounts_and_both_slices():
    reports = slice_reports(3)
    again = {"name": "slice-1-relaunched", "report": copy.deepcopy(reports[0]["report"])}
    with pytest.raises(ReportMergeError) as raised:
        merge_reports(reports + [again], now=LATER)
    assert str(raised.value) == (
        "not merged: an account handled by two slices was rotated or read twice: "
        "account audit (222222222222) is in slice-1 and slice-1-relaunched; "
        "account payments (333333333333) is in slice-1 and slice-1-relaunched")


def test_one_aws_account_under_two_hosts_in_two_slices_is_refused():
    hostvars = fleet_vars()
    # "data" is the account of "build" again, under another inventory name: it was rotated twice.
    hostvars["data"] = host_vars("data", ACCOUNT_IDS["build"])
    with pytest.raises(ReportMergeError) as raised:
        merge_reports(slice_reports(3, hostvars), now=LATER)
    assert str(raised.value) == (
        "not merged: an account handled by two slices was rotated or read twice: "
        "AWS account 444444444444 is in slice-2 and slice-3 (as build and data)")


def test_accounts_that_could_not_be_read_count_by_host_only():
    # Two failed accounts have no account ID: they are not the same account for that.
    hostvars = {name: {} for name in HOSTS}
    merged = merge_reports(slice_reports(2, hostvars), now=LATER)
    assert merged["totals"]["accounts_failed"] == 5
    assert [account["account_id"] for account in merged["accounts"]] == [None] * 5


def test_slices_of_different_settings_are_refused():
    reports = slice_reports(2)
    reports[1]["report"]["warn_days"] = 30
    with pytest.raises(ReportMergeError, match=r"^the slices' reports differ in warn_days \(slice-1: 14, slice-2: 30\)"):
        merge_reports(reports, now=LATER)
    reports = slice_reports(2)
    reports[0]["report"]["check_mode"] = True
    with pytest.raises(ReportMergeError, match=r"^the slices' reports differ in check_mode"):
        merge_reports(reports, now=LATER)


@pytest.mark.parametrize("report, message", [
    ({"title": "x"}, "slice-1 is not a rotation report: it has no list of accounts"),
    ({"accounts": [{"name": "a"}]}, "slice-1 is not a rotation report: an account has no account_id, error, policy, "
                                    "users, changes, summary"),
])
def test_what_is_not_a_report_is_refused(report, message):
    with pytest.raises(ReportMergeError) as raised:
        merge_reports([{"name": "slice-1", "report": report}])
    assert str(raised.value) == message


def test_nothing_to_merge_is_refused():
    with pytest.raises(ReportMergeError, match="^no slice report to merge$"):
        merge_reports([])


def test_the_filter_fails_the_task_with_the_reason():
    reports = slice_reports(2)
    assert FilterModule().filters() == {"report_merge": report_merge}
    with pytest.raises(AnsibleFilterError, match=r"account audit \(222222222222\) is in slice-1 and slice 3"):
        report_merge(reports + [copy.deepcopy(reports[0]["report"])])


# --- the invariant ------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(hosts=st.lists(st.sampled_from(["a1", "b2", "c3", "d4", "e5", "f6", "g7"]), min_size=1, max_size=7,
                      unique=True),
       count=st.integers(min_value=1, max_value=8), relaunched=st.integers(min_value=0, max_value=7))
def test_awx_slices_merge_to_every_account_once_and_a_relaunched_slice_never_does(hosts, count, relaunched):
    hostvars = {name: host_vars(name, "%012d" % (index + 1)) for index, name in enumerate(hosts)}
    slices = [{"name": "slice-%d" % (number + 1), "report": report_data(part, hostvars, now=NOW)}
              for number, part in enumerate(awx_slices(hosts, count))]
    merged = merge_reports(slices, expected_accounts=hosts, now=LATER)
    assert [account["name"] for account in merged["accounts"]] == sorted(hosts)
    assert merged["missing_accounts"] == []
    assert merged["totals"]["users"] == 2 * len(hosts)
    again = slices[relaunched % len(slices)]
    if again["report"]["accounts"]:
        with pytest.raises(ReportMergeError):
            merge_reports(slices + [copy.deepcopy(again)], now=LATER)

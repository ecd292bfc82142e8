"""The credential report: parsing its key columns, and which users it may spare a live look."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import (
    ACTIVE,
    CREATE,
    INACTIVE,
    AccessKey,
    RotationPolicy,
    plan_access_key_rotation,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.report_decision import (
    ReportedKey,
    ReportedUser,
    decide_from_report,
    parse_credential_report,
    report_staleness,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import RotationState

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
HEADER = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
          "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
          "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
          "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
          "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
          "cert_2_active,cert_2_last_rotated\n")


def row(user, key1=("false", "N/A", "N/A"), key2=("false", "N/A", "N/A")):
    return ("%s,arn:aws:iam::123456789012:user/%s,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,"
            "%s,%s,%s,N/A,N/A,%s,%s,%s,N/A,N/A,false,N/A,false,N/A\n" % ((user, user) + key1 + key2))


def at(days_ago):
    return NOW - timedelta(days=days_ago)


def reported(*keys):
    return ReportedUser("alice", tuple(keys))


# --- parsing ---------------------------------------------------------------


def test_parse_reads_key_slots_and_skips_the_root_account():
    content = HEADER + row("<root_account>", ("true", "2020-01-01T00:00:00+00:00", "N/A")) + row("none") + row(
        "one", ("true", "2024-05-01T10:00:00+00:00", "2024-05-30T00:00:00+00:00")) + row(
        "two", ("false", "2024-01-01T00:00:00+00:00", "N/A"), ("true", "2024-05-20T00:00:00Z", "N/A"))
    users = parse_credential_report(content.encode("utf-8"))
    assert sorted(users) == ["none", "one", "two"]
    assert users["none"].keys == ()
    assert users["one"].keys == (ReportedKey(True, datetime(2024, 5, 1, 10, tzinfo=timezone.utc),
                                             datetime(2024, 5, 30, tzinfo=timezone.utc)),)
    assert users["two"].keys == (ReportedKey(False, datetime(2024, 1, 1, tzinfo=timezone.utc), None),
                                 ReportedKey(True, datetime(2024, 5, 20, tzinfo=timezone.utc), None))


def test_parse_counts_an_active_key_without_a_date_as_present():
    users = parse_credential_report(HEADER + row("odd", ("true", "N/A", "N/A"), ("false", "garbage", "N/A")))
    assert users["odd"].keys == (ReportedKey(True, None, None),)


# --- decisions -------------------------------------------------------------


@pytest.mark.parametrize("user, policy, live", [
    (None, RotationPolicy(), True),  # not in the report: new since it was made
    (reported(ReportedKey(True, at(10))), RotationPolicy(force=True), True),
    (reported(ReportedKey(True, at(100))), RotationPolicy(), True),  # due
    (reported(ReportedKey(True, at(90))), RotationPolicy(), True),  # due at exactly rotate_after_days
    (reported(ReportedKey(True, at(10))), RotationPolicy(rotate_after_days=0), True),
    (reported(ReportedKey(True, at(10)), ReportedKey(False, at(100))), RotationPolicy(), True),  # may be in rotation
    (reported(ReportedKey(True, at(10)), ReportedKey(True, at(20))), RotationPolicy(), True),
    (reported(ReportedKey(True, None)), RotationPolicy(), True),  # age unknown
    (reported(ReportedKey(True, at(10))), RotationPolicy(), False),
    (reported(ReportedKey(False, at(400))), RotationPolicy(), False),  # no active key: nothing to rotate
    (reported(), RotationPolicy(), False),
])
def test_who_is_looked_at_live(user, policy, live):
    assert (decide_from_report(user, policy, NOW) is None) == live


def test_a_spared_user_gets_the_live_planners_next_step():
    decision = decide_from_report(reported(ReportedKey(True, at(10), at(1))), RotationPolicy(), NOW)
    assert (decision.next_action, decision.next_action_at, decision.message) == (CREATE, at(10) + timedelta(days=90), "")
    assert decision.keys(reported(ReportedKey(True, at(10), at(1)))) == [AccessKey(None, ACTIVE, at(10), at(1))]
    idle = decide_from_report(reported(ReportedKey(False, at(400))), RotationPolicy(), NOW)
    assert (idle.next_action, idle.next_action_at, idle.message) == (None, None, "no active access key")


# --- the property: the report never hides a step ---------------------------

KEY_IDS = ("AKIAKEY0000000000001", "AKIAKEY0000000000002", "AKIAKEY0000000000003")
policies = st.builds(RotationPolicy, rotate_after_days=st.integers(0, 200), deactivate_after_days=st.integers(0, 14),
                     delete_after_days=st.integers(0, 14), force=st.booleans(), in_use_guard=st.booleans(),
                     in_use_max_wait_days=st.integers(0, 30))
seconds_ago = st.integers(0, 400 * 86400)


@st.composite
def live_keys(draw):
    """0 to 2 keys as IAM lists them; dates with whole seconds, as the report has them."""
    ids = draw(st.lists(st.sampled_from(KEY_IDS), max_size=2, unique=True))
    keys = []
    for key_id in ids:
        created = NOW - timedelta(seconds=draw(seconds_ago))
        used = draw(st.none() | st.integers(0, 400 * 86400).map(lambda s: NOW - timedelta(seconds=s)))
        keys.append(AccessKey(key_id, draw(st.sampled_from([ACTIVE, INACTIVE])), created,
                              None if used is None or used < created else used))
    return keys


@st.composite
def recorded_states(draw, keys):
    """Any rotation state tag, naming the user's keys or keys long gone."""
    ids = st.none() | st.sampled_from(KEY_IDS)
    when = st.none() | seconds_ago.map(lambda s: NOW - timedelta(seconds=s))
    return RotationState(new_key=draw(ids), old_key=draw(ids), verified=draw(st.booleans()), rotated_at=draw(when),
                         deactivated_at=draw(when),
                         creating=draw(st.none() | st.lists(st.sampled_from(KEY_IDS), max_size=2).map(tuple)))


def report_of(keys):
    """The report row IAM would write for these keys (seconds precision)."""
    return ReportedUser("alice", tuple(ReportedKey(key.status == ACTIVE, key.create_date.replace(microsecond=0),
                                                   key.last_used_date) for key in keys))


def left_by_an_interrupted_run(keys, state):
    """The two states only the rotation state tag shows, which the report cannot (documented)."""
    if state.creating is not None:
        return True
    new = next((key for key in keys if key.access_key_id == state.new_key), None)
    return new is not None and new.status == ACTIVE and not state.verified


@settings(max_examples=500, deadline=None)
@given(data=st.data(), policy=policies)
def test_never_spares_a_user_whose_live_state_plans_a_step(data, policy):
    keys = data.draw(live_keys())
    state = data.draw(recorded_states(keys))
    assume(not left_by_an_interrupted_run(keys, state))
    decision = decide_from_report(report_of(keys), policy, NOW)
    if decision is None:
        return
    plan = plan_access_key_rotation(keys, state, policy, NOW)
    assert plan.steps == ()
    assert plan.status in ("compliant", "pending", "waiting_for_consumers")


@settings(max_examples=300, deadline=None)
@given(keys=live_keys(), policy=policies)
def test_a_spared_user_without_recorded_state_reads_as_the_live_planner_says(keys, policy):
    decision = decide_from_report(report_of(keys), policy, NOW)
    if decision is None:
        return
    plan = plan_access_key_rotation(keys, RotationState(), policy, NOW)
    assert plan.steps == ()
    assert plan.status == "compliant"
    assert decision.next_action == plan.next_action
    # The report drops fractions of a second, so it may say the next step is due up to a second earlier.
    if plan.next_action_at is not None:
        assert timedelta(0) <= plan.next_action_at - decision.next_action_at < timedelta(seconds=1)
    else:
        assert decision.next_action_at is None


def test_what_the_report_cannot_show_is_left_to_the_next_live_look():
    """A create announced by an interrupted forced run, with the old key young: the report spares the user.

    The live planner would only clear the marker (a ``record`` step); it does so the next
    time the user is looked at live, at the latest when the key is due.
    """
    keys = [AccessKey(KEY_IDS[0], ACTIVE, at(3))]
    state = RotationState(creating=(KEY_IDS[0],))
    assert decide_from_report(report_of(keys), RotationPolicy(), NOW) is not None
    assert [step.action for step in plan_access_key_rotation(keys, state, RotationPolicy(), NOW).steps] == ["record"]


# --- how old a report may be to spare live looks ------------------------------------


@pytest.mark.parametrize("age, policy, usable", [
    (timedelta(hours=4), RotationPolicy(), True),
    (timedelta(days=6, hours=23), RotationPolicy(), True),
    (timedelta(days=7), RotationPolicy(), False),  # a forced rotation since may have its deactivation due
    (timedelta(days=2), RotationPolicy(rotate_after_days=1), False),  # a key created since may be due
    (timedelta(minutes=1), RotationPolicy(deactivate_after_days=0), False),
    (timedelta(minutes=1), RotationPolicy(rotate_after_days=0), False),
])
def test_a_report_spares_live_looks_only_while_a_key_created_after_it_cannot_be_due(age, policy, usable):
    assert (report_staleness(NOW - age, policy, NOW) is None) == usable


def test_a_stale_report_says_when_it_was_generated():
    assert report_staleness(at(8), RotationPolicy(), NOW) == (
        "the credential report was generated at 2024-05-24T12:00:00+00:00, 8 days, 0:00:00 ago, and keys created "
        "since could have steps due within 7 days; every user was looked at live")


@settings(max_examples=300, deadline=None)
@given(data=st.data(), keys=live_keys(), policy=policies)
def test_a_key_created_after_a_usable_report_never_hides_a_step(data, keys, policy):
    """The report shows the user without the key created after it; the live planner must plan nothing either."""
    window = min(policy.rotate_after_days, policy.deactivate_after_days) * 86400
    if window <= 0:
        assert report_staleness(NOW, policy, NOW) is not None
        return
    report_age = data.draw(st.integers(0, int(window) - 1))
    created_since = data.draw(st.integers(0, report_age))
    assert report_staleness(NOW - timedelta(seconds=report_age), policy, NOW) is None
    before = keys[:1]
    decision = decide_from_report(report_of(before), policy, NOW)
    if decision is None:
        return
    new = AccessKey("AKIAKEY0000000000009", ACTIVE, NOW - timedelta(seconds=created_since))
    plan = plan_access_key_rotation(before + [new], RotationState(), policy, NOW)
    assert [step.action for step in plan.steps if step.action != "record"] == []

# Fetching it (IAMGateway.credential_report, its states and its GeneratedTime): _aws/test_credential_report.py.

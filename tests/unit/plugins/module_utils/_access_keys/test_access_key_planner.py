"""The access key planner: exact plans for each situation, then properties of whole runs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import (
    ACTIVE,
    ADOPT,
    COMPLIANT,
    CREATE,
    DEACTIVATE,
    DELETE,
    FAILED,
    INACTIVE,
    PENDING,
    RECORD,
    VERIFY,
    WAITING,
    AccessKey,
    RotationPolicy,
    newest_active_key,
    in_orphan_window,
    plan_access_key_rotation,
    rotation_in_progress,
    run_targets,
    unfinished_targets,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import RotationState

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
OLD = "AKIAOLDKEY0000000001"
NEW = "AKIANEWKEY0000000002"
SPARE = "AKIASPAREKEY00000003"
OTHER = "AKIAOTHERKEY00000004"
STRANGER = "AKIASTRANGER00000005"
SECOND_STRANGER = "AKIASTRANGER00000006"

DEFAULT = RotationPolicy()
SECOND = timedelta(seconds=1)


def at(days_ago):
    return NOW - timedelta(days=days_ago)


def key(key_id, created_days_ago, status=ACTIVE, used_days_ago=None):
    used = None if used_days_ago is None else at(used_days_ago)
    return AccessKey(key_id, status, at(created_days_ago), used)


def policy(**changes):
    return replace(DEFAULT, **changes)


def in_rotation(new_days_ago, deactivated_days_ago=None, verified=True, old_key=OLD):
    """The state recorded while NEW replaces OLD."""
    return RotationState(new_key=NEW, old_key=old_key, verified=verified, rotated_at=at(new_days_ago),
                         deactivated_at=None if deactivated_days_ago is None else at(deactivated_days_ago))


@dataclass(frozen=True)
class Expect:
    status: str
    steps: tuple = ()
    state: RotationState | None = None
    next_action: str | None = None
    next_action_at: datetime | None = None
    warnings: int = 0
    message: tuple = ()


def check(plan, expected):
    assert plan.status == expected.status
    assert len(plan.warnings) == expected.warnings
    for part in expected.message:
        assert part in plan.message
    assert [(step.action, step.access_key_id) for step in plan.steps] == list(expected.steps)
    assert plan.state == expected.state
    assert plan.next_action == expected.next_action
    assert plan.next_action_at == expected.next_action_at
    assert len(plan.warnings) == expected.warnings
    for fragment in expected.message:
        assert fragment in plan.message
    if plan.status == FAILED:
        assert plan.message
    for step in plan.steps:
        assert step.reason


def fresh_rotation(old_key_id):
    """The state a create plan asks to record (the executor adds the new key)."""
    return RotationState(old_key=old_key_id, verified=True)


# --- no rotation in progress ---------------------------------------------------------------

NO_ROTATION = [
    pytest.param([], DEFAULT, Expect(COMPLIANT, message=("no active access key",)), id="no-keys"),
    pytest.param([key(OLD, 400, INACTIVE)], DEFAULT, Expect(COMPLIANT, message=("no active access key",)),
                 id="one-inactive-key"),
    pytest.param([key(OLD, 400, INACTIVE), key(SPARE, 300, INACTIVE)], DEFAULT,
                 Expect(COMPLIANT, message=("no active access key",)), id="two-inactive-keys"),
    pytest.param([key(OLD, 400, INACTIVE)], policy(force=True), Expect(COMPLIANT, message=("no active access key",)),
                 id="force-with-only-an-inactive-key"),
    pytest.param([key(OLD, 89)], DEFAULT, Expect(COMPLIANT, next_action=CREATE, next_action_at=NOW + timedelta(days=1)),
                 id="active-below-rotate-age"),
    pytest.param([AccessKey(OLD, ACTIVE, at(90) + SECOND)], DEFAULT,
                 Expect(COMPLIANT, next_action=CREATE, next_action_at=NOW + SECOND), id="active-one-second-below-rotate-age"),
    pytest.param([key(OLD, 90)], DEFAULT, Expect(PENDING, steps=((CREATE, None),), state=fresh_rotation(OLD)),
                 id="active-at-rotate-age"),
    pytest.param([key(OLD, 400, used_days_ago=0)], DEFAULT,
                 Expect(PENDING, steps=((CREATE, None),), state=fresh_rotation(OLD)), id="active-above-rotate-age-in-use"),
    pytest.param([key(OLD, 0)], policy(rotate_after_days=0),
                 Expect(PENDING, steps=((CREATE, None),), state=fresh_rotation(OLD)), id="zero-day-rotate-brand-new-key"),
    pytest.param([AccessKey(OLD, ACTIVE, NOW + timedelta(minutes=5))], policy(rotate_after_days=0),
                 Expect(PENDING, steps=((CREATE, None),), state=fresh_rotation(OLD)),
                 id="zero-day-rotate-key-dated-in-the-future"),
    pytest.param([key(OLD, 1)], policy(force=True), Expect(PENDING, steps=((CREATE, None),), state=fresh_rotation(OLD)),
                 id="force-young-key"),
    pytest.param([key(OLD, 100), key(SPARE, 300, INACTIVE)], DEFAULT,
                 Expect(PENDING, steps=((DELETE, SPARE), (CREATE, None)), state=fresh_rotation(OLD)),
                 id="due-with-older-inactive-key"),
    pytest.param([key(SPARE, 10, INACTIVE, used_days_ago=11), key(OLD, 100)], DEFAULT,
                 Expect(PENDING, steps=((DELETE, SPARE), (CREATE, None)), state=fresh_rotation(OLD)),
                 id="due-with-newer-inactive-key"),
    pytest.param([key(SPARE, 10, INACTIVE), key(OLD, 5)], policy(force=True),
                 Expect(PENDING, steps=((DELETE, SPARE), (CREATE, None)), state=fresh_rotation(OLD)),
                 id="force-with-inactive-key"),
    pytest.param([key(OLD, 10), key(SPARE, 300, INACTIVE)], DEFAULT,
                 Expect(COMPLIANT, next_action=CREATE, next_action_at=NOW + timedelta(days=80)),
                 id="young-with-inactive-key-left-alone"),
    pytest.param([key(OLD, 200), key(OTHER, 100)], DEFAULT,
                 Expect(FAILED, message=(OLD, OTHER, "two active keys")), id="two-active-keys-due"),
    pytest.param([key(OLD, 20), key(OTHER, 10)], policy(force=True),
                 Expect(FAILED, message=(OLD, OTHER, "two active keys")), id="two-active-keys-force"),
    pytest.param([key(OLD, 200), key(OTHER, 10)], DEFAULT,
                 Expect(COMPLIANT, next_action=CREATE, next_action_at=NOW + timedelta(days=80)),
                 id="two-active-keys-newest-young"),
]


@pytest.mark.parametrize("keys, rotation_policy, expected", NO_ROTATION)
def test_plan_without_rotation_in_progress(keys, rotation_policy, expected):
    check(plan_access_key_rotation(keys, RotationState(), rotation_policy, NOW), expected)


# --- a rotation in progress: retiring the old key -----------------------------------------

def retirement(new_days_ago, old_status=ACTIVE, used_days_ago=None, deactivated_days_ago=None):
    keys = [key(OLD, 200, old_status, used_days_ago), key(NEW, new_days_ago)]
    return keys, in_rotation(new_days_ago, deactivated_days_ago)


def case(name, keys_and_state, rotation_policy, expected):
    keys, state = keys_and_state
    return pytest.param(keys, state, rotation_policy, expected, id=name)


def deactivated_now(new_days_ago, deactivated_days_ago=None):
    return in_rotation(new_days_ago, deactivated_days_ago).with_changes(deactivated_at=NOW)


RETIREMENT = [
    case("old-active-inside-deactivate-window", retirement(3), DEFAULT,
         Expect(PENDING, next_action=DEACTIVATE, next_action_at=NOW + timedelta(days=4))),
    case("old-active-one-second-before-deactivate",
         ([key(OLD, 200), AccessKey(NEW, ACTIVE, at(7) + SECOND)], in_rotation(7)), DEFAULT,
         Expect(PENDING, next_action=DEACTIVATE, next_action_at=NOW + SECOND)),
    case("old-active-at-deactivate-age-never-used", retirement(7), DEFAULT,
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(7))),
    case("old-active-after-deactivate-age-never-used", retirement(10), DEFAULT,
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(10))),
    case("old-last-used-before-new-key", retirement(10, used_days_ago=12), DEFAULT,
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(10))),
    case("old-last-used-when-new-key-was-created", retirement(10, used_days_ago=10), DEFAULT,
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(10))),
    case("old-used-after-new-key-waits", retirement(10, used_days_ago=1), DEFAULT,
         Expect(WAITING, next_action=DEACTIVATE, next_action_at=NOW + timedelta(days=11), message=(OLD, NEW))),
    case("old-used-after-new-key-inside-deactivate-window", retirement(3, used_days_ago=1), DEFAULT,
         Expect(PENDING, next_action=DEACTIVATE, next_action_at=NOW + timedelta(days=4))),
    case("old-used-one-second-before-wait-bound", ([key(OLD, 200, used_days_ago=1), AccessKey(NEW, ACTIVE, at(21) + SECOND)],
                                                   in_rotation(21)), DEFAULT,
         Expect(WAITING, next_action=DEACTIVATE, next_action_at=NOW + SECOND, message=(OLD,))),
    case("old-used-at-wait-bound-stays-active", retirement(21, used_days_ago=1), DEFAULT,
         Expect(WAITING, message=(OLD,), warnings=1)),
    case("old-used-past-wait-bound-stays-active", retirement(40, used_days_ago=1), DEFAULT,
         Expect(WAITING, message=(OLD,), warnings=1)),
    case("old-used-at-wait-bound-deactivated-with-warning", retirement(21, used_days_ago=1),
         policy(deactivate_in_use=True),
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(21), warnings=1)),
    case("old-used-past-wait-bound-deactivated-with-warning", retirement(40, used_days_ago=1),
         policy(deactivate_in_use=True),
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(40), warnings=1)),
    case("old-used-after-new-key-guard-off", retirement(10, used_days_ago=1), policy(in_use_guard=False),
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(10))),
    case("zero-day-deactivate-guarded-waits-for-last-used-data", retirement(0), policy(deactivate_after_days=0),
         Expect(PENDING, next_action=DEACTIVATE, next_action_at=NOW + timedelta(hours=4))),
    case("zero-day-deactivate-guarded-after-last-used-lag",
         ([key(OLD, 200), AccessKey(NEW, ACTIVE, NOW - timedelta(hours=4))], in_rotation(0)),
         policy(deactivate_after_days=0),
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(0))),
    case("zero-day-deactivate-new-key-created-now", retirement(0), policy(deactivate_after_days=0, in_use_guard=False),
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(0))),
    case("zero-day-deactivate-new-key-dated-in-the-future",
         ([key(OLD, 200), AccessKey(NEW, ACTIVE, NOW + timedelta(minutes=1))], in_rotation(0)),
         policy(deactivate_after_days=0, in_use_guard=False),
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(0))),
    case("zero-day-deactivate-in-use-zero-wait", retirement(2, used_days_ago=1),
         policy(deactivate_after_days=0, in_use_max_wait_days=0, deactivate_in_use=True),
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(2), warnings=1)),
    case("zero-day-deactivate-in-use-zero-wait-stays-active", retirement(2, used_days_ago=1),
         policy(deactivate_after_days=0, in_use_max_wait_days=0), Expect(WAITING, message=(OLD,), warnings=1)),
    case("zero-day-deactivate-in-use-waits", retirement(2, used_days_ago=1), policy(deactivate_after_days=0),
         Expect(WAITING, next_action=DEACTIVATE, next_action_at=NOW + timedelta(days=12), message=(OLD,))),
    case("force-does-not-hurry-deactivation", retirement(3), policy(force=True),
         Expect(PENDING, next_action=DEACTIVATE, next_action_at=NOW + timedelta(days=4))),
    case("old-reactivated-after-deactivation", retirement(10, deactivated_days_ago=3), DEFAULT,
         Expect(PENDING, steps=((DEACTIVATE, OLD),), state=deactivated_now(10, 3))),
    case("old-inactive-deactivation-not-recorded", retirement(10, INACTIVE), DEFAULT,
         Expect(PENDING, steps=((RECORD, None),), state=deactivated_now(10))),
    case("old-inactive-deactivation-not-recorded-zero-day-delete", retirement(10, INACTIVE),
         policy(delete_after_days=0), Expect(PENDING, steps=((RECORD, None),), state=deactivated_now(10))),
    case("old-inactive-inside-delete-window", retirement(10, INACTIVE, deactivated_days_ago=3), DEFAULT,
         Expect(PENDING, next_action=DELETE, next_action_at=NOW + timedelta(days=4))),
    case("old-inactive-in-use-inside-delete-window", retirement(10, INACTIVE, used_days_ago=4, deactivated_days_ago=3),
         DEFAULT, Expect(PENDING, next_action=DELETE, next_action_at=NOW + timedelta(days=4))),
    case("force-does-not-hurry-deletion", retirement(10, INACTIVE, deactivated_days_ago=3), policy(force=True),
         Expect(PENDING, next_action=DELETE, next_action_at=NOW + timedelta(days=4))),
    case("old-inactive-at-delete-age", retirement(10, INACTIVE, deactivated_days_ago=7), DEFAULT,
         Expect(PENDING, steps=((DELETE, OLD),), state=in_rotation(10).with_changes(old_key=None))),
    case("old-inactive-after-delete-age", retirement(40, INACTIVE, deactivated_days_ago=30), DEFAULT,
         Expect(PENDING, steps=((DELETE, OLD),), state=in_rotation(40).with_changes(old_key=None))),
    case("zero-day-delete-deactivated-now", retirement(0, INACTIVE, deactivated_days_ago=0), policy(delete_after_days=0),
         Expect(PENDING, steps=((DELETE, OLD),), state=in_rotation(0).with_changes(old_key=None))),
    case("zero-day-delete-deactivation-dated-in-the-future",
         retirement(0, INACTIVE, deactivated_days_ago=-1 / 1440), policy(delete_after_days=0),
         Expect(PENDING, steps=((DELETE, OLD),), state=in_rotation(0).with_changes(old_key=None))),
]


@pytest.mark.parametrize("keys, state, rotation_policy, expected", RETIREMENT)
def test_plan_retirement_of_old_key(keys, state, rotation_policy, expected):
    check(plan_access_key_rotation(keys, state, rotation_policy, NOW), expected)


def test_waiting_and_forced_deactivation_name_the_old_key_and_its_last_use():
    keys, state = retirement(10, used_days_ago=1)
    waiting = plan_access_key_rotation(keys, state, DEFAULT, NOW)
    assert at(1).isoformat() in waiting.message
    keys, state = retirement(30, used_days_ago=1)
    forced = plan_access_key_rotation(keys, state, policy(deactivate_in_use=True), NOW)
    assert OLD in forced.warnings[0] and at(1).isoformat() in forced.warnings[0]
    assert "deactivated anyway" in forced.warnings[0]


# --- recorded state that does not match the keys ------------------------------------------

STALE = [
    case("new-key-unverified", ([key(OLD, 200), key(NEW, 1)], in_rotation(1, verified=False)), DEFAULT,
         Expect(PENDING, steps=((VERIFY, NEW),), state=in_rotation(1))),
    case("new-key-unverified-with-force", ([key(OLD, 200), key(NEW, 1)], in_rotation(1, verified=False)),
         policy(force=True), Expect(PENDING, steps=((VERIFY, NEW),), state=in_rotation(1))),
    case("new-key-unverified-old-due-for-delete",
         ([key(OLD, 200, INACTIVE), key(NEW, 30)], in_rotation(30, deactivated_days_ago=20, verified=False)), DEFAULT,
         Expect(PENDING, steps=((VERIFY, NEW),), state=in_rotation(30, deactivated_days_ago=20))),
    case("new-key-unverified-no-old-key", ([key(NEW, 1)], in_rotation(1, verified=False, old_key=None)), DEFAULT,
         Expect(PENDING, steps=((VERIFY, NEW),), state=in_rotation(1, old_key=None))),
    case("new-key-unverified-but-inactive", ([key(OLD, 20), key(NEW, 1, INACTIVE)], in_rotation(1, verified=False)),
         DEFAULT, Expect(COMPLIANT, next_action=CREATE, next_action_at=NOW + timedelta(days=70))),
    case("recorded-new-key-gone-old-due", ([key(OLD, 100)], in_rotation(1)), DEFAULT,
         Expect(PENDING, steps=((CREATE, None),), state=fresh_rotation(OLD))),
    case("recorded-new-key-gone-old-young", ([key(OLD, 10)], in_rotation(1)), DEFAULT,
         Expect(COMPLIANT, next_action=CREATE, next_action_at=NOW + timedelta(days=80))),
    case("recorded-new-key-deactivated-by-someone", ([key(OLD, 100), key(NEW, 5, INACTIVE)], in_rotation(5)), DEFAULT,
         Expect(PENDING, steps=((DELETE, NEW), (CREATE, None)), state=fresh_rotation(OLD))),
    case("recorded-old-key-already-gone", ([key(NEW, 10)], in_rotation(10)), DEFAULT,
         Expect(COMPLIANT, next_action=CREATE, next_action_at=NOW + timedelta(days=80))),
    case("finished-rotation-new-key-due", ([key(NEW, 95)], in_rotation(95, old_key=None)), DEFAULT,
         Expect(PENDING, steps=((CREATE, None),), state=fresh_rotation(NEW))),
    case("finished-rotation-new-key-young", ([key(NEW, 5)], in_rotation(5, old_key=None)), DEFAULT,
         Expect(COMPLIANT, next_action=CREATE, next_action_at=NOW + timedelta(days=85))),
    case("finished-rotation-foreign-active-key-appeared",
         ([key(NEW, 95), key(OTHER, 3)], in_rotation(95, old_key=None)), DEFAULT,
         Expect(COMPLIANT, next_action=CREATE, next_action_at=NOW + timedelta(days=87))),
    case("finished-rotation-foreign-key-appeared-and-due",
         ([key(NEW, 195), key(OTHER, 100)], in_rotation(195, old_key=None)), DEFAULT,
         Expect(FAILED, message=(NEW, OTHER))),
]


@pytest.mark.parametrize("keys, state, rotation_policy, expected", STALE)
def test_plan_with_stale_or_unverified_state(keys, state, rotation_policy, expected):
    check(plan_access_key_rotation(keys, state, rotation_policy, NOW), expected)


# --- repairing a run that died while creating a key ---------------------------------------

def repair(keys, creating, destination=None, announced=at(0), **state_fields):
    return keys, RotationState(creating=creating, announced_at=announced, **state_fields), destination


def repair_case(name, keys_state_destination, rotation_policy, expected):
    keys, state, destination = keys_state_destination
    return pytest.param(keys, state, destination, rotation_policy, expected, id=name)


PREVIOUS = dict(new_key=OLD, verified=True, rotated_at=at(100))

REPAIR = [
    repair_case("creating-no-stranger", repair([key(OLD, 100)], (OLD,), destination=OLD), DEFAULT,
                Expect(PENDING, steps=((RECORD, None),), state=RotationState())),
    repair_case("creating-no-stranger-no-keys", repair([], ()), DEFAULT,
                Expect(PENDING, steps=((RECORD, None),), state=RotationState())),
    repair_case("creating-no-stranger-keeps-previous-rotation", repair([key(OLD, 100)], (OLD,), OLD, **PREVIOUS),
                DEFAULT, Expect(PENDING, steps=((RECORD, None),), state=RotationState(**PREVIOUS))),
    repair_case("creating-no-stranger-with-force", repair([key(OLD, 100)], (OLD,)), policy(force=True),
                Expect(PENDING, steps=((RECORD, None),), state=RotationState())),
    repair_case("creating-overrides-unverified-new-key",
                repair([key(OLD, 100), key(NEW, 1)], (OLD, NEW), new_key=NEW, old_key=OLD), DEFAULT,
                Expect(PENDING, steps=((RECORD, None),), state=RotationState(new_key=NEW, old_key=OLD))),
    repair_case("creating-recorded-new-key-is-no-stranger",
                repair([key(OLD, 100), key(NEW, 1)], (OLD,), new_key=NEW, verified=True), DEFAULT,
                Expect(PENDING, steps=((RECORD, None),), state=RotationState(new_key=NEW, verified=True))),
    repair_case("creating-stranger-in-destination", repair([key(OLD, 100), key(STRANGER, 0)], (OLD,), STRANGER),
                DEFAULT, Expect(PENDING, steps=((ADOPT, STRANGER),),
                                state=RotationState(new_key=STRANGER, old_key=OLD, verified=True))),
    repair_case("creating-stranger-in-destination-replaces-previous-rotation",
                repair([key(OLD, 100), key(STRANGER, 0)], (OLD,), STRANGER, old_key=SPARE,
                       deactivated_at=at(50), **PREVIOUS),
                DEFAULT, Expect(PENDING, steps=((ADOPT, STRANGER),),
                                state=RotationState(new_key=STRANGER, old_key=OLD, verified=True, rotated_at=at(100)))),
    repair_case("creating-used-stranger-in-destination",
                repair([key(OLD, 100), key(STRANGER, 1, used_days_ago=0)], (OLD,), STRANGER), DEFAULT,
                Expect(PENDING, steps=((ADOPT, STRANGER),),
                       state=RotationState(new_key=STRANGER, old_key=OLD, verified=True))),
    repair_case("creating-stranger-in-destination-no-previous-key", repair([key(STRANGER, 0)], (), STRANGER), DEFAULT,
                Expect(PENDING, steps=((ADOPT, STRANGER),), state=RotationState(new_key=STRANGER, verified=True))),
    repair_case("creating-stranger-in-destination-previous-inactive",
                repair([key(OLD, 100, INACTIVE), key(STRANGER, 0)], (OLD,), STRANGER), DEFAULT,
                Expect(PENDING, steps=((ADOPT, STRANGER),), state=RotationState(new_key=STRANGER, verified=True))),
    repair_case("creating-never-used-stranger-destination-holds-old",
                repair([key(OLD, 100), key(STRANGER, 0)], (OLD,), OLD), DEFAULT,
                Expect(PENDING, steps=((DELETE, STRANGER),), state=RotationState())),
    repair_case("creating-never-used-stranger-destination-empty",
                repair([key(OLD, 100), key(STRANGER, 0)], (OLD,), None, **PREVIOUS), DEFAULT,
                Expect(PENDING, steps=((DELETE, STRANGER),), state=RotationState(**PREVIOUS))),
    repair_case("creating-never-used-inactive-stranger",
                repair([key(OLD, 100), key(STRANGER, 0, INACTIVE)], (OLD,)), DEFAULT,
                Expect(PENDING, steps=((DELETE, STRANGER),), state=RotationState())),
    repair_case("creating-used-stranger",
                repair([key(OLD, 100), key(STRANGER, 1, used_days_ago=0.5)], (OLD,), OLD, announced=at(1)), DEFAULT,
                Expect(FAILED, message=(STRANGER, "has been used", at(0.5).isoformat()))),
    repair_case("creating-stranger-made-days-after-the-announcement-is-left-alone",
                repair([key(OLD, 100), key(STRANGER, 0)], (OLD,), OLD, announced=at(3)), DEFAULT,
                Expect(PENDING, steps=((RECORD, None),), state=RotationState(), warnings=1)),
    repair_case("creating-stranger-made-before-the-announcement-is-left-alone",
                repair([key(OLD, 100), key(STRANGER, 0.01)], (OLD,), OLD), DEFAULT,
                Expect(PENDING, steps=((RECORD, None),), state=RotationState(), warnings=1)),
    repair_case("creating-stranger-inside-the-window-is-the-orphan",
                repair([key(OLD, 100), AccessKey(STRANGER, ACTIVE, NOW + timedelta(minutes=19))], (OLD,), OLD), DEFAULT,
                Expect(PENDING, steps=((DELETE, STRANGER),), state=RotationState())),
    repair_case("creating-without-a-time-deletes-nothing",
                repair([key(OLD, 100), key(STRANGER, 0)], (OLD,), OLD, announced=None), DEFAULT,
                Expect(FAILED, message=(STRANGER, "recorded no time"))),
    repair_case("creating-without-a-time-adopts-the-stored-key",
                repair([key(OLD, 100), key(STRANGER, 0)], (OLD,), STRANGER, announced=None), DEFAULT,
                Expect(PENDING, steps=((ADOPT, STRANGER),),
                       state=RotationState(new_key=STRANGER, old_key=OLD, verified=True))),
    repair_case("creating-two-strangers", repair([key(STRANGER, 1), key(SECOND_STRANGER, 0)], (OLD,), STRANGER),
                DEFAULT, Expect(FAILED, message=(STRANGER, SECOND_STRANGER))),
    repair_case("creating-two-strangers-with-force",
                repair([key(STRANGER, 0), key(SECOND_STRANGER, 0)], ()), policy(force=True),
                Expect(FAILED, message=(STRANGER, SECOND_STRANGER))),
    repair_case("creating-orphan-and-a-stranger-from-before",
                repair([key(STRANGER, 1), key(SECOND_STRANGER, 0)], ()), policy(force=True),
                Expect(PENDING, steps=((DELETE, SECOND_STRANGER),), state=RotationState(), warnings=1)),
]


@pytest.mark.parametrize("keys, state, destination, rotation_policy, expected", REPAIR)
def test_plan_repair_of_interrupted_create(keys, state, destination, rotation_policy, expected):
    check(plan_access_key_rotation(keys, state, rotation_policy, NOW, destination), expected)


def test_destination_is_ignored_without_interrupted_create():
    keys = [key(OLD, 100), key(NEW, 0)]
    state = in_rotation(0, verified=True)
    assert plan_access_key_rotation(keys, state, DEFAULT, NOW, NEW) == plan_access_key_rotation(keys, state, DEFAULT, NOW)


def test_newest_active_key_skips_inactive_keys():
    keys = [key(OLD, 100), key(NEW, 1, INACTIVE), key(SPARE, 50)]
    assert newest_active_key(keys).access_key_id == SPARE
    assert newest_active_key([key(OLD, 1, INACTIVE)]) is None
    assert newest_active_key([]) is None


# --- a simulated executor -------------------------------------------------------------------

MAX_PHASES = 8
SIMULATED = "AKIASIMULATED"
FOREIGN_IDS = ("AKIAFOREIGN000000001", "AKIAFOREIGN000000002", "AKIAFOREIGN000000003")
CRASHES = ("before_create", "after_create", "after_store", "verify_failed")


class Crashed(Exception):
    pass


class Unsettled(AssertionError):
    pass


@dataclass
class World:
    """One user's keys, recorded state and secret destination, changed only as the executor would."""

    keys: list
    state: RotationState = RotationState()
    destination: str | None = None
    created: set = field(default_factory=set)
    stored: set = field(default_factory=set)
    foreign_active_deletes: list = field(default_factory=list)
    active_deletes: list = field(default_factory=list)
    creates: int = 0

    def key(self, key_id):
        return next((k for k in self.keys if k.access_key_id == key_id), None)

    def new_key_id(self):
        self.creates += 1
        return "%s%07d" % (SIMULATED, self.creates)


def check_step(world, keys, step, planned_from):
    """Invariants of one step, given the keys as earlier steps of its plan left them."""
    target = next((k for k in keys if k.access_key_id == step.access_key_id), None)
    if step.action == CREATE:
        assert len(keys) <= 1, "a create planned while %d keys exist" % len(keys)
    elif step.action in (DELETE, DEACTIVATE, VERIFY, ADOPT):
        assert target is not None, "%s of a key that does not exist" % step.action
    if step.action == DELETE and target.status == ACTIVE:
        world.active_deletes.append(target.access_key_id)
        assert planned_from.creating is not None, "an Active key deleted outside of a repair"
        assert target.access_key_id not in planned_from.creating
        assert in_orphan_window(target, planned_from.announced_at), "a key made outside the create's window deleted"
        assert target.access_key_id != world.destination, "the key in the secret destination was deleted"
        assert target.last_used_date is None, "a used Active key was deleted"
        if target.access_key_id not in world.created:
            world.foreign_active_deletes.append(target.access_key_id)


def apply_plan(world, plan, now, crash=None, after_step=None):
    """Perform a plan's steps the way the executor does; raises Crashed to stop the run midway."""
    planned_from = world.state
    keys = list(world.keys)
    state = plan.state
    for step in plan.steps:
        check_step(world, keys, step, planned_from)
        if step.action == CREATE:
            announced = planned_from.with_changes(creating=tuple(k.access_key_id for k in keys), announced_at=now,
                                                  incident=state.incident)
            if crash == "before_create":
                world.keys, world.state = keys, announced
                raise Crashed()
            new_id = world.new_key_id()
            keys = keys + [AccessKey(new_id, ACTIVE, now)]
            world.created.add(new_id)
            if crash == "after_create":
                world.keys, world.state = keys, announced
                raise Crashed()
            world.destination = new_id
            world.stored.add(new_id)
            if crash == "after_store":
                world.keys, world.state = keys, announced
                raise Crashed()
            state = state.with_changes(new_key=new_id, rotated_at=now)
            if crash == "verify_failed":
                world.keys, world.state = keys, state.with_changes(verified=False)
                raise Crashed()
        elif step.action == DEACTIVATE:
            keys = [replace(k, status=INACTIVE) if k.access_key_id == step.access_key_id else k for k in keys]
        elif step.action == DELETE:
            keys = [k for k in keys if k.access_key_id != step.access_key_id]
        elif step.action == ADOPT:
            state = state.with_changes(rotated_at=now)
        if after_step is not None:
            after_step(world, keys)
    world.keys = keys
    if state is not None:
        world.state = state


def run(world, rotation_policy, now, crash=None, after_step=None):
    """One run of the executor for one user: phases until nothing is due; returns the plans."""
    plans = []
    replace_ids, revoke_ids = run_targets(world.keys, rotation_policy, world.state, now)
    rotated = not replace_ids and rotation_in_progress(world.keys, world.state,
                                                       world.destination if world.state.creating is not None else None)
    for _phase in range(MAX_PHASES):
        destination = world.destination if world.state.creating is not None else None
        plan = plan_access_key_rotation(world.keys, world.state, rotation_policy, now, destination,
                                        rotated_this_run=rotated, replace=replace_ids, revoke=revoke_ids)
        plans.append(plan)
        if plan.status == FAILED or not plan.steps:
            return plans
        try:
            apply_plan(world, plan, now, crash if any(s.action == CREATE for s in plan.steps) else None, after_step)
        except Crashed:
            return plans
        if any(step.action == CREATE for step in plan.steps):
            rotated = True
            crash = None
    raise Unsettled("no stable plan after %d phases: %r" % (MAX_PHASES, [p.steps for p in plans]))


def steps_of(plans):
    return [step for plan in plans for step in plan.steps]


# --- strategies ----------------------------------------------------------------------------

@st.composite
def keys_at(draw, now, ids=FOREIGN_IDS, min_size=0, max_size=2):
    chosen = draw(st.lists(st.sampled_from(ids), min_size=min_size, max_size=max_size, unique=True))
    keys = []
    for key_id in chosen:
        age = draw(st.integers(0, 400 * 24 * 60))
        created = now - timedelta(minutes=age)
        used = draw(st.none() | st.integers(0, age).map(lambda minutes, c=created: c + timedelta(minutes=minutes)))
        keys.append(AccessKey(key_id, draw(st.sampled_from((ACTIVE, INACTIVE))), created, used))
    return keys


@st.composite
def recorded_states(draw, keys, now):
    """Any state a run could have left: empty, mid-rotation or mid-create, possibly naming gone keys."""
    ids = [k.access_key_id for k in keys] + ["AKIAGONEKEY000000009"]
    optional_id = st.none() | st.sampled_from(ids)
    optional_time = st.none() | st.integers(-60, 60 * 24 * 60).map(lambda minutes: now - timedelta(minutes=minutes))
    return RotationState(
        new_key=draw(optional_id),
        old_key=draw(optional_id),
        verified=draw(st.booleans()),
        rotated_at=draw(optional_time),
        deactivated_at=draw(optional_time),
        creating=draw(st.none() | st.lists(st.sampled_from(ids), unique=True, max_size=3).map(tuple)),
        announced_at=draw(optional_time),
    )


@st.composite
def worlds(draw, now=NOW):
    keys = draw(keys_at(now))
    state = draw(st.one_of(st.just(RotationState()), recorded_states(keys, now)))
    destination = draw(st.none() | st.sampled_from([k.access_key_id for k in keys] + ["AKIAGONEKEY000000009"]))
    return World(keys=keys, state=state, destination=destination, stored=set([destination]) - {None})


policies = st.builds(
    RotationPolicy,
    rotate_after_days=st.sampled_from((1, 30, 90, 365)),
    deactivate_after_days=st.sampled_from((0, 1, 7)),
    delete_after_days=st.sampled_from((0, 1, 7)),
    force=st.booleans(),
    in_use_guard=st.booleans(),
    in_use_max_wait_days=st.sampled_from((0, 14)),
)

incident_policies = st.builds(
    RotationPolicy,
    rotate_after_days=st.sampled_from((1, 30, 90, 365)),
    deactivate_after_days=st.just(0),
    delete_after_days=st.just(0),
    force=st.just(True),
    in_use_guard=st.booleans(),
    in_use_max_wait_days=st.sampled_from((0, 14)),
)

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


# --- properties ------------------------------------------------------------------------------

@PROPERTY_SETTINGS
@given(world=worlds(), rotation_policy=policies, crash=st.none() | st.sampled_from(CRASHES))
def test_a_foreign_active_key_is_deleted_only_as_the_orphan_of_the_announced_create(world, rotation_policy, crash):
    foreign_active = {k.access_key_id: k for k in world.keys if k.status == ACTIVE}
    state = world.state
    run(world, rotation_policy, NOW, crash)
    for key_id in world.foreign_active_deletes:
        assert state.creating is not None and key_id not in state.creating
        assert in_orphan_window(foreign_active[key_id], state.announced_at)
        assert foreign_active[key_id].last_used_date is None
    assert not set(world.active_deletes) & world.stored


@PROPERTY_SETTINGS
@given(world=worlds(), rotation_policy=policies, crash=st.none() | st.sampled_from(CRASHES),
       hours_after=st.integers(1, 24 * 30))
def test_a_key_made_by_hand_after_an_interrupted_create_is_never_deleted(world, rotation_policy, crash, hours_after):
    announced = NOW - timedelta(hours=hours_after)
    world.state = world.state.with_changes(creating=tuple(k.access_key_id for k in world.keys)[:1],
                                           announced_at=announced)
    assume(all(not in_orphan_window(k, announced) for k in world.keys))
    foreign_active = {k.access_key_id for k in world.keys if k.status == ACTIVE}
    run(world, rotation_policy, NOW, crash)
    assert not set(world.foreign_active_deletes) & foreign_active


@PROPERTY_SETTINGS
@given(world=worlds(), rotation_policy=policies)
def test_never_more_than_two_keys(world, rotation_policy):
    def at_most_two(world, keys):
        assert len(keys) <= 2

    run(world, rotation_policy, NOW, after_step=at_most_two)
    assert len(world.keys) <= 2


@PROPERTY_SETTINGS
@given(world=worlds(), rotation_policy=incident_policies)
def test_second_run_after_forced_zero_day_run_plans_nothing(world, rotation_policy):
    # A run that finds a rotation in progress only finishes it (see the next test).
    assume(not rotation_in_progress(world.keys, world.state,
                                    world.destination if world.state.creating is not None else None))
    first = run(world, rotation_policy, NOW)
    assume(first[-1].status != FAILED)
    second = plan_access_key_rotation(world.keys, world.state, replace(rotation_policy, force=False), NOW,
                                      world.destination if world.state.creating is not None else None)
    assert second.steps == ()
    assert second.status in (COMPLIANT, PENDING, WAITING)
    assert run(world, replace(rotation_policy, force=False), NOW) == [second]


@st.composite
def worlds_in_rotation(draw):
    """NEW (stored) replaces OLD, which is still Active, or Inactive with or without a recorded deactivation."""
    old_status = draw(st.sampled_from([ACTIVE, INACTIVE]))
    old_used = draw(st.none() | st.integers(0, 99))
    new_age = draw(st.integers(0, 30))
    deactivated = draw(st.none() | st.integers(0, new_age)) if old_status == INACTIVE else None
    state = in_rotation(new_age, deactivated, verified=draw(st.booleans()))
    return World(keys=[key(OLD, 100, old_status, old_used), key(NEW, new_age)], state=state, destination=NEW,
                 stored={NEW})


@PROPERTY_SETTINGS
@given(world=worlds_in_rotation(), rotation_policy=incident_policies.map(lambda p: replace(p, in_use_guard=False)))
def test_forced_zero_day_run_mid_rotation_replaces_the_key_current_when_it_started(world, rotation_policy):
    assert rotation_in_progress(world.keys, world.state)
    plans = run(world, rotation_policy, NOW)
    assert plans[-1].status != FAILED
    assert world.creates == 1
    # The new key handed out before (and leaked) is gone, and so is the key it replaced.
    assert [(k.access_key_id, k.status) for k in world.keys] == [(world.destination, ACTIVE)]
    assert world.destination in world.created


@PROPERTY_SETTINGS
@given(keys=keys_at(NOW, min_size=1).filter(lambda keys: sum(k.status == ACTIVE for k in keys) == 1),
       in_use_guard=st.booleans())
def test_forced_zero_day_run_leaves_only_the_new_stored_key(keys, in_use_guard):
    world = World(keys=keys)
    incident = RotationPolicy(deactivate_after_days=0, delete_after_days=0, force=True, in_use_guard=in_use_guard)
    plans = run(world, incident, NOW)
    creates = [step for step in steps_of(plans) if step.action == CREATE]
    assert len(creates) == 1
    assert [(k.access_key_id, k.status) for k in world.keys] == [(world.destination, ACTIVE)]
    assert world.destination in world.created
    assert world.state.new_key == world.destination and world.state.verified
    assert plans[-1].status == COMPLIANT


@st.composite
def timelines(draw):
    ticks = draw(st.lists(st.tuples(
        st.integers(0, 40 * 24),  # hours until the next run
        st.tuples(st.booleans(), st.booleans()),  # which of the usable Active keys consumers use before it
        st.sampled_from((None,) * 6 + CRASHES),  # now and then a run dies while creating
    ), min_size=1, max_size=30))
    return ticks


@PROPERTY_SETTINGS
@given(keys=keys_at(NOW, min_size=1), ticks=timelines())
def test_timeline_keeps_an_active_key_and_at_most_two_keys(keys, ticks):
    world = World(keys=keys)
    foreign = {k.access_key_id for k in keys}
    started_active = any(k.status == ACTIVE for k in keys)

    def safe(world, keys):
        assert len(keys) <= 2
        if started_active:
            assert any(k.status == ACTIVE for k in keys)
        if world.destination is not None and world.destination in {k.access_key_id for k in keys}:
            stored = next(k for k in keys if k.access_key_id == world.destination)
            assert stored.status == ACTIVE, "the key consumers read from the destination was deactivated"

    now = NOW
    for hours, used, crash in ticks:
        now += timedelta(hours=hours)
        usable = sorted(k.access_key_id for k in world.keys
                        if k.status == ACTIVE and (k.access_key_id in foreign or k.access_key_id in world.stored))
        for key_id, consumer_uses_it in zip(usable, used):
            if consumer_uses_it:
                world.keys = [replace(k, last_used_date=now) if k.access_key_id == key_id else k for k in world.keys]
        run(world, DEFAULT, now, crash, after_step=safe)
        safe(world, world.keys)
    assert not world.foreign_active_deletes
    assert set(world.active_deletes) <= world.created - world.stored


@PROPERTY_SETTINGS
@given(world=worlds(), rotation_policy=policies, minutes=st.integers(-60, 60 * 24 * 30),
       destination=st.none() | st.sampled_from(FOREIGN_IDS))
def test_planning_is_deterministic(world, rotation_policy, minutes, destination):
    now = NOW + timedelta(minutes=minutes)
    keys = list(world.keys)
    first = plan_access_key_rotation(keys, world.state, rotation_policy, now, destination)
    assert keys == world.keys
    assert plan_access_key_rotation(list(keys), world.state, rotation_policy, now, destination) == first
    if world.state.creating is None:
        assert plan_access_key_rotation(keys, world.state, rotation_policy, now, None) == first


@PROPERTY_SETTINGS
@given(world=worlds(), rotation_policy=policies)
def test_nothing_due_names_a_future_time_when_something_will_be(world, rotation_policy):
    plan = plan_access_key_rotation(world.keys, world.state, rotation_policy, NOW, world.destination)
    if plan.steps or plan.next_action is None:
        assert plan.next_action_at is None
        return
    assert plan.next_action_at > NOW
    later = plan_access_key_rotation(world.keys, world.state, rotation_policy, plan.next_action_at, world.destination)
    if not later.steps:
        assert later.status in (WAITING, FAILED)
        if later.status == WAITING:
            assert later.next_action_at > plan.next_action_at


def test_zero_day_rotation_rotates_once_per_run():
    world = World(keys=[key(OLD, 100)])
    plans = run(world, RotationPolicy(rotate_after_days=0, deactivate_after_days=0, delete_after_days=0,
                                      in_use_guard=False), NOW)
    assert [step.action for step in steps_of(plans)].count(CREATE) == 1


@pytest.mark.parametrize("world_keys, state, expected", [
    ([key(OLD, 100)], RotationState(), False),
    ([key(OLD, 100)], RotationState(creating=(OLD,)), False),
    ([key(OLD, 100), key(NEW, 0)], RotationState(creating=(OLD,)), False),
    ([key(OLD, 100), key(NEW, 1)], RotationState(new_key=NEW, old_key=OLD, verified=True), True),
    ([key(NEW, 1)], RotationState(new_key=NEW, old_key=OLD, verified=True), False),
    ([key(OLD, 100), key(NEW, 1)], RotationState(new_key=NEW, old_key=OLD, verified=False), True),
    ([key(NEW, 1)], RotationState(new_key=NEW, verified=True), False),
], ids=["nothing recorded", "interrupted before the create", "created but not stored", "old key still there", "old key gone", "unverified", "finished"])
def test_rotation_in_progress(world_keys, state, expected):
    assert rotation_in_progress(world_keys, state) is expected


def test_interrupted_create_whose_key_was_stored_is_in_progress():
    state = RotationState(creating=(OLD,))
    assert rotation_in_progress([key(OLD, 100), key(NEW, 0)], state, destination_key_id=NEW)
    assert not rotation_in_progress([key(OLD, 100), key(NEW, 0)], state, destination_key_id=OLD)


def test_unforced_rerun_of_an_interrupted_rotation_finishes_it_and_starts_no_other():
    # The previous run stored and verified NEW, then died before deactivating OLD.
    world = World(keys=[key(OLD, 100), key(NEW, 0)],
                  state=RotationState(new_key=NEW, old_key=OLD, verified=True, rotated_at=NOW))
    policy = RotationPolicy(deactivate_after_days=0, delete_after_days=0, in_use_guard=False)
    plans = run(world, policy, NOW)
    assert [(s.action, s.access_key_id) for s in steps_of(plans)] == [(DEACTIVATE, OLD), (DELETE, OLD)]
    assert [k.access_key_id for k in world.keys] == [NEW]


def test_incident_mid_rotation_replaces_the_leaked_new_key():
    # A scheduled run made NEW two days ago (stored, verified); NEW leaked; OLD still retiring.
    world = World(keys=[key(OLD, 100), key(NEW, 2)], destination=NEW, stored={NEW},
                  state=RotationState(new_key=NEW, old_key=OLD, verified=True, rotated_at=at(2)))
    incident = RotationPolicy(deactivate_after_days=0, delete_after_days=0, force=True)
    plans = run(world, incident, NOW)
    made = "%s%07d" % (SIMULATED, 1)
    assert [(s.action, s.access_key_id) for s in steps_of(plans)] == [
        (DEACTIVATE, OLD), (DELETE, OLD), (CREATE, None), (DEACTIVATE, NEW), (DELETE, NEW)]
    assert [(k.access_key_id, k.status) for k in world.keys] == [(made, ACTIVE)]
    assert plans[-1].status == COMPLIANT


def test_revoking_the_new_key_of_a_rotation_in_progress_replaces_it():
    world = World(keys=[key(OLD, 100), key(NEW, 2)], destination=NEW, stored={NEW},
                  state=RotationState(new_key=NEW, old_key=OLD, verified=True, rotated_at=at(2)))
    plans = run(world, RotationPolicy(deactivate_after_days=0, delete_after_days=0, in_use_guard=False,
                                      revoke=(NEW,)), NOW)
    made = "%s%07d" % (SIMULATED, 1)
    assert [(s.action, s.access_key_id) for s in steps_of(plans)] == [
        (DEACTIVATE, OLD), (DELETE, OLD), (CREATE, None), (DEACTIVATE, NEW), (DELETE, NEW)]
    assert [(k.access_key_id, k.status) for k in world.keys] == [(made, ACTIVE)]


def test_revoking_a_key_that_is_not_current_deactivates_it_and_creates_nothing():
    world = World(keys=[key(OLD, 100), key(NEW, 2)], destination=NEW, stored={NEW})
    plans = run(world, RotationPolicy(revoke=(OLD,)), NOW)
    assert [(s.action, s.access_key_id) for s in steps_of(plans)] == [(DEACTIVATE, OLD)]
    assert [(k.access_key_id, k.status) for k in world.keys] == [(OLD, INACTIVE), (NEW, ACTIVE)]


def test_a_revoked_key_that_cannot_be_replaced_yet_stays_named_by_the_run():
    # OLD still holds the second slot inside its deactivation window: NEW cannot be replaced in this run.
    world = World(keys=[key(OLD, 100), key(NEW, 2)], destination=NEW, stored={NEW},
                  state=RotationState(new_key=NEW, old_key=OLD, verified=True, rotated_at=at(2)))
    policy_ = RotationPolicy(revoke=(NEW,))
    replace_ids, revoke_ids = run_targets(world.keys, policy_, world.state, NOW)
    plans = run(world, policy_, NOW)
    assert steps_of(plans) == []
    assert unfinished_targets(world.keys, replace_ids, revoke_ids) == [NEW]


def test_rerun_of_an_interrupted_incident_finishes_it_without_replacing_its_new_key():
    # The incident run stored and verified NEW, then died before taking the leaked OLD out of use.
    world = World(keys=[key(OLD, 100), key(NEW, 0)], destination=NEW, stored={NEW},
                  state=RotationState(new_key=NEW, old_key=OLD, verified=True, rotated_at=NOW, incident=True))
    plans = run(world, RotationPolicy(deactivate_after_days=0, delete_after_days=0, force=True), NOW)
    assert [(s.action, s.access_key_id) for s in steps_of(plans)] == [(DEACTIVATE, OLD), (DELETE, OLD)]
    assert [(k.access_key_id, k.status) for k in world.keys] == [(NEW, ACTIVE)]
    assert world.state == RotationState(new_key=NEW, verified=True, rotated_at=NOW)


def test_any_run_after_an_interrupted_incident_takes_the_leaked_key_out_of_use_at_once():
    world = World(keys=[key(OLD, 100, used_days_ago=0), key(NEW, 0)], destination=NEW, stored={NEW},
                  state=RotationState(new_key=NEW, old_key=OLD, verified=True, rotated_at=NOW, incident=True))
    plans = run(world, DEFAULT, NOW)
    assert [(s.action, s.access_key_id) for s in steps_of(plans)] == [(DEACTIVATE, OLD)]
    assert [(k.access_key_id, k.status) for k in world.keys] == [(OLD, INACTIVE), (NEW, ACTIVE)]


def test_an_incident_rotation_is_recorded_as_one():
    plan = plan_access_key_rotation([key(OLD, 1)], RotationState(), RotationPolicy(force=True, deactivate_after_days=0),
                                    NOW, replace=frozenset({OLD}), revoke=frozenset({OLD}))
    assert plan.state == RotationState(old_key=OLD, verified=True, incident=True)


def test_rerun_of_an_incident_interrupted_before_deleting_the_leaked_key_deletes_it_and_keeps_the_new_key():
    world = World(keys=[key(OLD, 100, INACTIVE), key(NEW, 0)], destination=NEW, stored={NEW},
                  state=RotationState(new_key=NEW, old_key=OLD, verified=True, rotated_at=NOW, deactivated_at=NOW,
                                      incident=True))
    plans = run(world, RotationPolicy(deactivate_after_days=0, delete_after_days=0, force=True), NOW)
    assert [(s.action, s.access_key_id) for s in steps_of(plans)] == [(DELETE, OLD)]
    assert [(k.access_key_id, k.status) for k in world.keys] == [(NEW, ACTIVE)]


def test_an_incident_waiting_to_delete_its_leaked_key_does_not_shield_its_new_key_from_the_next_incident():
    state = RotationState(new_key=NEW, old_key=OLD, verified=True, rotated_at=at(1), deactivated_at=at(1), incident=True)
    keys = [key(OLD, 100, INACTIVE), key(NEW, 1)]
    replace_ids, revoke_ids = run_targets(keys, RotationPolicy(deactivate_after_days=0, force=True), state, NOW)
    assert (replace_ids, revoke_ids) == (frozenset({NEW}), frozenset({NEW}))

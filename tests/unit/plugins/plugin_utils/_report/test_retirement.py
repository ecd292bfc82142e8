"""iam_rotation_info's retirement dates of an old key, from the recorded state and the plan (pure, no AWS)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import (
    AccessKey,
    RotationPolicy,
    plan_access_key_rotation,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import RotationState
from ansible_collections.rotator.aws_iam.plugins.modules.iam_rotation_info import retirement

CREATED = datetime(2025, 6, 1, 11, 0, tzinfo=timezone.utc)
OLD, NEW = "AKIAOLDOLDOLDOLDOLD1", "AKIANEWNEWNEWNEWNEW2"
POLICY = RotationPolicy(rotate_after_days=90, deactivate_after_days=7, delete_after_days=7)


def keys(old_status="Active", old_used=None):
    return [AccessKey(OLD, old_status, CREATED - timedelta(days=120), old_used), AccessKey(NEW, "Active", CREATED)]


def retiring(key_list, state, now):
    return retirement(key_list, state, POLICY, plan_access_key_rotation(key_list, state, POLICY, now))


STATE = RotationState(new_key=NEW, old_key=OLD, verified=True, rotated_at=CREATED)


def test_an_active_old_key_is_deactivated_a_window_after_the_new_key_and_deleted_a_window_later():
    assert retiring(keys(), STATE, CREATED + timedelta(days=1)) == {OLD: {
        "replaced_by": NEW, "deactivate_at": "2025-06-08T11:00:00+00:00", "deactivated_at": None,
        "delete_at": "2025-06-15T11:00:00+00:00"}}


def test_an_old_key_still_in_use_is_deactivated_when_the_in_use_guard_gives_up_waiting():
    used = CREATED + timedelta(days=6)
    [entry] = list(retiring(keys(old_used=used), STATE, CREATED + timedelta(days=8)).values())
    # deactivate_after_days + in_use_max_wait_days (14) after the new key.
    assert entry["deactivate_at"] == "2025-06-22T11:00:00+00:00"
    assert entry["delete_at"] == "2025-06-29T11:00:00+00:00"


def test_an_old_key_the_rotation_deactivated_is_deleted_a_window_after():
    state = STATE.with_changes(deactivated_at=CREATED + timedelta(days=7))
    assert retiring(keys("Inactive"), state, CREATED + timedelta(days=8)) == {OLD: {
        "replaced_by": NEW, "deactivate_at": None, "deactivated_at": "2025-06-08T11:00:00+00:00",
        "delete_at": "2025-06-15T11:00:00+00:00"}}


def test_an_old_key_somebody_else_deactivated_has_its_deletion_dated_by_the_next_run():
    [entry] = list(retiring(keys("Inactive"), STATE, CREATED + timedelta(days=1)).values())
    assert entry["deactivated_at"] is None and entry["delete_at"] is None


@pytest.mark.parametrize("state", [
    pytest.param(STATE.with_changes(verified=False), id="new-key-not-verified"),
    pytest.param(RotationState(), id="no-rotation"),
    pytest.param(STATE.with_changes(old_key=NEW), id="old-is-new"),
    pytest.param(STATE.with_changes(old_key=None), id="old-key-deleted"),
])
def test_without_a_verified_rotation_no_key_is_retiring(state):
    assert retiring(keys(), state, CREATED + timedelta(days=1)) == {}


def test_while_a_run_is_creating_a_key_no_key_is_retiring():
    state = STATE.with_changes(creating=(OLD, NEW), announced_at=CREATED)
    assert retirement(keys(), state, POLICY, None) == {}

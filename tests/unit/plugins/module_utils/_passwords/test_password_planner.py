"""The password planner: age sources, force, pending repair, missing login profile."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.planner import (
    COMPLIANT,
    CREATE_PROFILE,
    FAILED,
    UPDATE,
    PasswordFacts,
    PasswordRotationPolicy,
    last_rotation,
    needs_report,
    plan_password_rotation,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def ago(days):
    return NOW - timedelta(days=days)


@pytest.mark.parametrize("facts, source, when", [
    (PasswordFacts(True, ago(300), ago(10), ago(50)), "recorded", ago(10)),
    (PasswordFacts(True, ago(300), None, ago(50)), "credential_report", ago(50)),
    (PasswordFacts(True, ago(300), None, None), "login_profile", ago(300)),
    (PasswordFacts(True, None, None, None), None, None),
    (PasswordFacts(True, ago(5), None, ago(50)), "login_profile", ago(5)),
    (PasswordFacts(True, ago(300), ago(400), ago(5)), "recorded", ago(400)),
], ids=["record wins", "report next", "profile last", "nothing known", "profile newer than the report",
        "record wins even when older"])
def test_age_sources_in_order(facts, source, when):
    assert last_rotation(facts) == (when, source)


@pytest.mark.parametrize("facts, policy, action, next_at", [
    (PasswordFacts(True, ago(300), ago(89)), PasswordRotationPolicy(), None, ago(89) + timedelta(days=90)),
    (PasswordFacts(True, ago(300), ago(90)), PasswordRotationPolicy(), UPDATE, None),
    (PasswordFacts(True, ago(300), None, ago(91)), PasswordRotationPolicy(), UPDATE, None),
    (PasswordFacts(True, ago(100), None, ago(5)), PasswordRotationPolicy(), None, ago(5) + timedelta(days=90)),
    (PasswordFacts(True, ago(100)), PasswordRotationPolicy(rotate_after_days=120), None, ago(100) + timedelta(days=120)),
    (PasswordFacts(True, ago(1), ago(1)), PasswordRotationPolicy(force=True), UPDATE, None),
    (PasswordFacts(True, ago(1), ago(1)), PasswordRotationPolicy(rotate_after_days=0), UPDATE, None),
    (PasswordFacts(True, ago(1), ago(1), pending_in_destination=True), PasswordRotationPolicy(), UPDATE, None),
    (PasswordFacts(True), PasswordRotationPolicy(), UPDATE, None),
    (PasswordFacts(False), PasswordRotationPolicy(create_login_profile=True), CREATE_PROFILE, None),
], ids=["young", "exactly due", "report says old", "report says young", "custom age", "force",
        "zero days", "pending repair", "age unknown", "create profile"])
def test_plans(facts, policy, action, next_at):
    plan = plan_password_rotation(facts, policy, NOW)
    assert plan.status == COMPLIANT
    assert plan.action == action
    assert plan.next_rotation_at == next_at


def test_missing_login_profile_is_a_clear_failure():
    plan = plan_password_rotation(PasswordFacts(False), PasswordRotationPolicy(force=True), NOW)
    assert plan.status == FAILED and plan.action is None
    assert "no login profile" in plan.message and "create_login_profile: true" in plan.message


def test_report_needed_only_without_own_record():
    assert needs_report(PasswordFacts(True, ago(3)))
    assert not needs_report(PasswordFacts(True, ago(3), ago(1)))
    assert not needs_report(PasswordFacts(False))


def test_a_pending_password_is_set_again_not_replaced():
    plan = plan_password_rotation(PasswordFacts(True, ago(1), ago(1), pending_in_destination=True),
                                  PasswordRotationPolicy(), NOW)
    assert (plan.action, plan.reason) == (UPDATE, "a previous run stored a pending password and did not see IAM take "
                                                  "it; it is set again, then made current")

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Deciding whether a user's console password is due. Pure, like the access key planner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

COMPLIANT = "compliant"
FAILED = "failed"

UPDATE = "update"
CREATE_PROFILE = "create_login_profile"


@dataclass(frozen=True)
class PasswordFacts:
    """What is known about a user's console password before acting."""

    has_login_profile: bool
    profile_created: datetime | None = None
    recorded_rotation: datetime | None = None
    report_last_changed: datetime | None = None
    pending_in_destination: bool = False


@dataclass(frozen=True)
class PasswordRotationPolicy:
    rotate_after_days: float = 90
    force: bool = False
    create_login_profile: bool = False


@dataclass(frozen=True)
class PasswordPlan:
    status: str
    action: str | None = None
    reason: str = ""
    last_rotated: datetime | None = None
    age_source: str | None = None
    next_rotation_at: datetime | None = None
    message: str = ""


def last_rotation(facts: PasswordFacts):
    """When the password last changed, and how that is known.

    The collection's own record (the tag, written right after it set the
    password) wins.  Without it, the later of the credential report's
    ``password_last_changed`` and the login profile's creation: the current
    password was set at or after each of them.  The report may be up to four
    hours old (or older when it could not be regenerated), and a change made
    after it was generated is not in it, so a stale report can only make a
    password look older than it is, never younger: it can make a rotation
    come early, never hide one that is due.
    """
    if facts.recorded_rotation is not None:
        return facts.recorded_rotation, "recorded"
    known = [(value, source) for source, value in (("credential_report", facts.report_last_changed),
                                                   ("login_profile", facts.profile_created)) if value is not None]
    return max(known, key=lambda item: item[0]) if known else (None, None)


def needs_report(facts: PasswordFacts) -> bool:
    """Whether the credential report could change the decision (no record of our own)."""
    return facts.has_login_profile and facts.recorded_rotation is None


def plan_password_rotation(facts: PasswordFacts, policy: PasswordRotationPolicy, now: datetime) -> PasswordPlan:
    if not facts.has_login_profile:
        if policy.create_login_profile:
            return PasswordPlan(status=COMPLIANT, action=CREATE_PROFILE, reason="the user has no console password")
        return PasswordPlan(status=FAILED, message=(
            "the user has no console password (no login profile); set create_login_profile: true to create one"))
    last, source = last_rotation(facts)
    if facts.pending_in_destination:
        return PasswordPlan(status=COMPLIANT, action=UPDATE, last_rotated=last, age_source=source,
                            reason="a previous run stored a pending password and did not see IAM take it; it is "
                                   "set again, then made current")
    if policy.force:
        return PasswordPlan(status=COMPLIANT, action=UPDATE, last_rotated=last, age_source=source, reason="forced")
    due_at = last + timedelta(days=max(policy.rotate_after_days, 0)) if last is not None else None
    if due_at is None or policy.rotate_after_days <= 0 or now >= due_at:
        return PasswordPlan(status=COMPLIANT, action=UPDATE, last_rotated=last, age_source=source,
                            reason="older than %s days" % policy.rotate_after_days)
    return PasswordPlan(status=COMPLIANT, last_rotated=last, age_source=source, next_rotation_at=due_at)

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the IAM credential report says about access keys, and which users it shows have nothing due.

Pure: the report's CSV text and the policy come in, decisions go out.  One
report per account replaces a live look at every user whose keys cannot
have anything due, so a run with nothing due costs a few calls per account
instead of a few per user.  A decision to *act* is never taken from the
report, which may be hours old: such users are looked at live, where the
planner decides again from the keys and the recorded rotation state.  A
report too old to rule out a key created after it (:func:`report_staleness`)
spares nobody.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import (
    ACTIVE,
    CREATE,
    INACTIVE,
    AccessKey,
    RotationPolicy,
    _due_at,
    _elapsed,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.credential_report import report_date

ROOT_ACCOUNT = "<root_account>"


@dataclass(frozen=True)
class ReportedKey:
    """One access key slot of a report row; ``last_rotated`` is the key's creation time."""

    active: bool
    last_rotated: datetime | None
    last_used: datetime | None = None


@dataclass(frozen=True)
class ReportedUser:
    user_name: str
    keys: tuple = ()


@dataclass(frozen=True)
class ReportDecision:
    """Nothing can be due for the user; what the live planner would say about it."""

    next_action: str | None = None
    next_action_at: datetime | None = None
    message: str = ""

    def keys(self, reported):
        """The reported keys as the result shows them (the report holds no key ids)."""
        return [AccessKey(None, ACTIVE if key.active else INACTIVE, key.last_rotated, key.last_used)
                for key in reported.keys]


def parse_credential_report(content) -> dict:
    """ReportedUser by user name, from the report's CSV (bytes or text); the root account is left out.

    A key slot counts as present when it is active or has a date: an
    inactive key shows ``false`` with its creation date, an empty slot
    ``false`` and ``N/A``.
    """
    if isinstance(content, bytes):
        content = content.decode("utf-8")
    users = {}
    for row in csv.DictReader(io.StringIO(content)):
        name = row.get("user")
        if not name or name == ROOT_ACCOUNT:
            continue
        keys = []
        for slot in ("access_key_1", "access_key_2"):
            active = (row.get(slot + "_active") or "").strip().lower() == "true"
            rotated = report_date(row.get(slot + "_last_rotated"))
            used = report_date(row.get(slot + "_last_used_date"))
            if active or rotated is not None or used is not None:
                keys.append(ReportedKey(active, rotated, used))
        users[name] = ReportedUser(name, tuple(keys))
    return users


def report_staleness(generated_time, policy: RotationPolicy, now: datetime):
    """Why a report generated at ``generated_time`` cannot spare live looks now, or None when it can.

    A key created after the report was generated is not in its key columns.
    Such a key cannot have anything due while the report is younger than
    ``rotate_after_days`` (the key itself is younger still) and than
    ``deactivate_after_days`` (a rotation started after the report, by a
    forced run, deactivates its old key that long after the new key at the
    earliest; deletion comes after deactivation).  Keys the report does list
    only get older, so the report shows them due whenever they are.
    """
    window = min(policy.rotate_after_days, policy.deactivate_after_days)
    age = now - generated_time
    if age < timedelta(days=max(window, 0)):
        return None
    return ("the credential report was generated at %s, %s ago, and keys created since could have steps due within "
            "%s days; every user was looked at live" % (generated_time.isoformat(), _rounded(age), window))


def _rounded(age):
    return str(timedelta(seconds=int(age.total_seconds())))


def decide_from_report(reported: ReportedUser | None, policy: RotationPolicy, now: datetime):
    """A ReportDecision when the report shows nothing can be due for the user, else None (look live).

    Live, always: ``force``; a user the report does not list (new since the
    report); two keys (a rotation may be in progress, whose deactivation or
    deletion is due by the recorded state, not by key age); an active key
    without a date; an active key older than ``rotate_after_days``.
    """
    if reported is None or policy.force or len(reported.keys) > 1:
        return None
    active = [key for key in reported.keys if key.active]
    if not active:
        return ReportDecision(message="no active access key")
    if any(key.last_rotated is None for key in active):
        return None
    newest = max(key.last_rotated for key in active)
    if _elapsed(now, newest, policy.rotate_after_days):
        return None
    return ReportDecision(next_action=CREATE, next_action_at=_due_at(newest, policy.rotate_after_days))

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Deciding what is due for one user's access keys.

A pure function of (keys, recorded state, policy, now): no AWS calls, no
clock reads.  The executor asks it for the next phase, performs the steps,
and asks again with the new facts until nothing is due, so a policy of
``0`` days runs the whole flow in one run and ``--check`` plans the same
phases a real run performs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import RotationState

ACTIVE = "Active"
INACTIVE = "Inactive"

# Step actions.  ``create`` stands for the whole create -> store -> read back
# -> verify -> record sequence, which must never be split by a plan.
CREATE = "create"
VERIFY = "verify"
ADOPT = "adopt"
DEACTIVATE = "deactivate"
DELETE = "delete"
RECORD = "record"

# Statuses of a user with nothing to do now.
COMPLIANT = "compliant"
PENDING = "pending"
WAITING = "waiting_for_consumers"
FAILED = "failed"
# The old key was reactivated by the way back; nothing retires it until resumed.
HELD = "held"

# A key that appears after an interrupted run announced a create is that run's
# orphan only if IAM dated it within this window around the announcement.
# Before: AWS refuses requests signed more than 5 minutes off its clock
# (Signature Version 4, "Elements of an AWS API request signature"), so our
# clock and IAM's differ by less.  After: a run makes its create attempts
# within minutes of announcing them (botocore's retries and timeouts).
ORPHAN_WINDOW_BEFORE = timedelta(minutes=5)
ORPHAN_WINDOW_AFTER = timedelta(minutes=20)
# IAM reports when a key was last used with a delay: AWS documents that last
# accessed information is reported within about 4 hours ("Refining permissions
# in AWS using last accessed information", IAM User Guide).  The in-use guard
# only trusts "not used since the new key exists" once that long has passed.
LAST_USED_LAG = timedelta(hours=4)


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    status: str
    create_date: datetime
    last_used_date: datetime | None = None


@dataclass(frozen=True)
class RotationPolicy:
    rotate_after_days: float = 90
    deactivate_after_days: float = 7
    delete_after_days: float = 7
    force: bool = False
    in_use_guard: bool = True
    in_use_max_wait_days: float = 14
    # Deactivate an old key still in use once in_use_max_wait_days are over.
    deactivate_in_use: bool = False
    # Ids of keys to take out of use now (a leak): replaced first when current.
    revoke: tuple = ()
    # Days after the new key's creation that its consumers have to confirm it (see consumers.py).
    consumers_deadline_days: float = 14


@dataclass(frozen=True)
class Step:
    action: str
    access_key_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Plan:
    """One phase of work for a user.

    ``steps`` are performed in order; ``state`` is what to record once they
    succeed (for ``create`` and ``adopt`` the executor fills in the new key).
    With no steps, ``status`` says why nothing is due and ``next_action`` /
    ``next_action_at`` when something will be.
    """

    status: str
    steps: tuple[Step, ...] = ()
    state: RotationState | None = None
    message: str = ""
    next_action: str | None = None
    next_action_at: datetime | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _elapsed(now: datetime, since: datetime, days: float) -> bool:
    # ``0`` days means "in this same run" even when AWS's clock is a little
    # ahead of ours and the key looks created in the future.
    return days <= 0 or now >= since + timedelta(days=days)


def _due_at(since: datetime, days: float) -> datetime:
    return since + timedelta(days=max(days, 0))


def _by_id(keys, key_id):
    for key in keys:
        if key.access_key_id == key_id:
            return key
    return None


def newest_active_key(keys):
    active = [key for key in keys if key.status == ACTIVE]
    return max(active, key=lambda key: key.create_date) if active else None


def _describe(key: AccessKey) -> str:
    return "%s (%s, created %s)" % (key.access_key_id, key.status, key.create_date.date().isoformat())


def rotation_in_progress(keys, state: RotationState, destination_key_id: str | None = None) -> bool:
    """Whether a rotation started by an earlier run is still under way.

    A run that finds one finishes it and starts no other: ``force`` means
    "rotate the current key", not "replace the key just handed out".  An
    interrupted create counts only when its key reached the destination
    (``destination_key_id``); otherwise no consumer can have the new key and
    the rotation simply has to happen again.
    """
    if state.creating is not None:
        return any(key.access_key_id == destination_key_id and key.access_key_id not in state.creating
                   for key in keys)
    new = _by_id(keys, state.new_key) if state.new_key else None
    if new is None or new.status != ACTIVE:
        return False
    return not state.verified or _old_key(keys, state) is not None


def run_targets(keys, policy: RotationPolicy, state: RotationState = RotationState(), now: datetime | None = None):
    """(ids to replace, ids to revoke) for a run that starts with ``keys`` and ``state``.

    ``force`` with 0-day deactivation is an incident run: the key that is
    current when the run starts is replaced and revoked, also when it is the
    new key of a rotation in progress (a key handed out and then leaked), so
    the run ends with it out of use or fails naming it.  The exception is the
    new key of an incident rotation still in progress (a rerun of an
    interrupted incident run, with a step of it due now): that rotation is
    finished, not started again.  An incident whose old key is out of use
    and waits for its deletion has nothing left to finish, so a new incident
    run replaces its new key.
    The key an incident rotation replaces is revoked by every run while it is
    still active.  ``force`` with a deactivation window only starts a rotation when
    none is in progress.  ``revoke`` names keys explicitly; a revoked key that
    is current is replaced before it is deactivated.
    """
    current = newest_active_key(keys)
    revoke = set(policy.revoke)
    replaced = _replaced_by_the_incident(keys, state)
    if replaced is not None and replaced.status == ACTIVE:
        revoke.add(replaced.access_key_id)
    if policy.force and current is not None and policy.deactivate_after_days <= 0:
        unfinished = replaced is not None and (replaced.status == ACTIVE or _deletion_due(state, policy, now))
        if not (unfinished and _made_by_the_rotation(current, state)):
            revoke.add(current.access_key_id)
    replace = set()
    if current is not None and current.access_key_id in revoke:
        replace.add(current.access_key_id)
    return frozenset(replace), frozenset(revoke)


def _replaced_by_the_incident(keys, state):
    """The key an incident rotation replaces, while it still exists (None otherwise)."""
    if not state.incident:
        return None
    if state.creating is not None:
        return newest_active_key([key for key in keys if key.access_key_id in state.creating])
    return _by_id(keys, state.old_key) if state.old_key else None


def _deletion_due(state, policy, now):
    """Whether the inactive old key of the recorded rotation is to be deleted now (what is left to finish)."""
    if state.deactivated_at is None or now is None:
        return True
    return _elapsed(now, state.deactivated_at, policy.delete_after_days)


def _made_by_the_rotation(key, state):
    """Whether ``key`` is the new key of the recorded rotation (recorded, or appeared after its announcement)."""
    if state.creating is not None:
        return key.access_key_id not in state.creating
    return key.access_key_id == state.new_key


def unfinished_targets(keys, replace, revoke):
    """Ids of keys a run was asked to replace or revoke that are still in use at its end."""
    current = newest_active_key(keys)
    left = [key.access_key_id for key in keys if key.status == ACTIVE and key.access_key_id in revoke]
    if current is not None and current.access_key_id in replace and current.access_key_id not in left:
        left.append(current.access_key_id)
    return sorted(left)


def _old_key(keys, state):
    # A state naming the same key as new and old (edited by hand) has no old key to retire.
    if not state.old_key or state.old_key == state.new_key:
        return None
    return _by_id(keys, state.old_key)


def plan_access_key_rotation(keys, state: RotationState, policy: RotationPolicy, now: datetime,
                             destination_key_id: str | None = None, rotated_this_run: bool = False,
                             replace=frozenset(), revoke=frozenset(), consumers_pending=()) -> Plan:
    """Return the next phase of the rotation of one user's access keys.

    ``destination_key_id`` is the access key id the secret destination holds;
    it is only needed (and only looked up) while ``state.creating`` is set.
    ``rotated_this_run`` says a key was already created in this run: a run
    creates at most one, even with ``force`` or ``rotate_after_days: 0``.
    ``replace`` holds the ids of keys this run must replace (``force`` names
    the key current when the run starts), ``revoke`` the ids of keys it must
    take out of use now: their deactivation waits for neither the windows
    nor the in-use guard.  ``consumers_pending`` names the user's consumers
    that have not confirmed the new key: the old key stays active until they
    have (a revoke does not wait for them).
    """
    keys = list(keys)
    if state.creating is not None:
        return _plan_repair(keys, state, destination_key_id)
    new = _by_id(keys, state.new_key) if state.new_key else None
    if new is not None and new.status == ACTIVE:
        if not state.verified:
            return Plan(status=PENDING, steps=(Step(VERIFY, new.access_key_id, "the new key was not verified yet"),),
                        state=state.with_changes(verified=True))
        old = _old_key(keys, state)
        if old is not None:
            return _plan_retirement(new, old, state, policy, now, revoke, tuple(consumers_pending))
    current = newest_active_key(keys)
    stray = [key for key in keys if key.access_key_id in revoke and key.status == ACTIVE and key is not current]
    if stray:
        # Revoking the rotation's old key makes it an incident's: the way back never reactivates it.
        revoked_old = any(key.access_key_id == state.old_key for key in stray)
        return Plan(status=PENDING, steps=tuple(Step(DEACTIVATE, key.access_key_id, "revoked") for key in stray),
                    state=state.with_changes(incident=True) if revoked_old else state)
    held = _old_key(keys, state) if state.restored_at is not None else None
    if held is not None and held.access_key_id not in revoke and held.access_key_id not in replace:
        # The new key was deactivated or deleted by hand: the hold still stands, and only an incident lifts it.
        return _plan_held(held, state)
    return _plan_rotation(keys, state, policy, now, rotated_this_run, replace, revoke)


def in_orphan_window(key: AccessKey, announced_at: datetime | None) -> bool:
    """Whether ``key`` may have been made by the create announced at ``announced_at``."""
    if announced_at is None:
        return False
    return announced_at - ORPHAN_WINDOW_BEFORE <= key.create_date <= announced_at + ORPHAN_WINDOW_AFTER


def _plan_repair(keys, state, destination_key_id):
    """A previous run died between announcing a create and recording it."""
    cleared = state.with_changes(creating=None, announced_at=None)
    strangers = [key for key in keys if key.access_key_id not in state.creating and key.access_key_id != state.new_key]
    stored = [key for key in strangers if key.access_key_id == destination_key_id]
    if stored and len(strangers) == 1:
        orphan = stored[0]
        previous = newest_active_key([key for key in keys if key.access_key_id in state.creating])
        return Plan(status=PENDING, steps=(Step(ADOPT, orphan.access_key_id,
                                                "created by an interrupted rotation and already stored"),),
                    state=cleared.with_changes(new_key=orphan.access_key_id,
                                               old_key=previous.access_key_id if previous else None,
                                               verified=True, deactivated_at=None))
    if not strangers:
        return Plan(status=PENDING, steps=(Step(RECORD, None, "an interrupted rotation created no key"),), state=cleared)
    if state.announced_at is None:
        return Plan(status=FAILED, message=(
            "keys %s appeared after an interrupted rotation that recorded no time, so none of them can be told "
            "apart from a key somebody else made; they were left alone. Find out who holds them, delete the ones "
            "nobody holds, then remove the tag of the rotation state" % _ids(strangers)))
    orphans = [key for key in strangers if in_orphan_window(key, state.announced_at)]
    foreign = [key for key in strangers if key not in orphans]
    if len(orphans) > 1 or stored:
        return Plan(status=FAILED, message=(
            "keys %s appeared during an interrupted rotation; expected at most one. Review them, delete the ones "
            "nobody holds, then remove the tag of the rotation state to start over" % _ids(strangers)))
    warnings = tuple("key %s was created %s, outside the window of the interrupted rotation announced %s; it is "
                     "somebody else's and was left alone"
                     % (key.access_key_id, key.create_date.isoformat(), state.announced_at.isoformat())
                     for key in foreign)
    if not orphans:
        return Plan(status=PENDING, steps=(Step(RECORD, None, "an interrupted rotation created no key"),), state=cleared,
                    warnings=warnings)
    orphan = orphans[0]
    if orphan.last_used_date is None:
        return Plan(status=PENDING, steps=(Step(DELETE, orphan.access_key_id,
                                                "created by an interrupted rotation; its secret never reached "
                                                "the destination and it was never used"),),
                    state=cleared, warnings=warnings)
    return Plan(status=FAILED, message=(
        "key %s appeared during an interrupted rotation, is not in the secret destination and has been used "
        "(last used %s); it was left alone. Find out who holds it, then delete it or record it by hand"
        % (orphan.access_key_id, orphan.last_used_date.isoformat())))


def _ids(keys):
    return ", ".join(key.access_key_id for key in keys)


def _plan_held(old, state):
    """The way back reactivated the old key: neither deactivated nor deleted until an operator resumes."""
    if old.status == ACTIVE:
        return Plan(status=HELD, message="old key %s was reactivated on %s and its retirement is held until a run with "
                                         "resume" % (old.access_key_id, state.restored_at.isoformat()))
    return Plan(status=HELD, message="old key %s is held since %s but is %s: the restore did not finish; run it again"
                % (old.access_key_id, state.restored_at.isoformat(), old.status))


def _plan_consumers(new, old, pending, policy, now):
    """Consumers of the user have not confirmed the new key: the old key stays active."""
    deadline = _due_at(new.create_date, policy.consumers_deadline_days)
    if now < deadline:
        return Plan(status=WAITING, next_action=DEACTIVATE,
                    next_action_at=_due_at(new.create_date, policy.deactivate_after_days),
                    message="old key %s stays active until consumers %s confirm the new key %s (by %s)" % (
                        old.access_key_id, ", ".join(pending), new.access_key_id, deadline.isoformat()))
    # Past the deadline the key stays active and the user fails: deactivating it would lock out a consumer known
    # not to hold the new key, which is the one thing a rotation must never do.
    return Plan(status=FAILED, message=(
        "consumers %s did not confirm the new key %s within %s days of its creation (deadline %s); the old key %s "
        "stays active. Fix them and run again, or take them out of the consumers of this user"
        % (", ".join(pending), new.access_key_id, policy.consumers_deadline_days, deadline.isoformat(),
           old.access_key_id)))


def _plan_retirement(new, old, state, policy, now, revoke=frozenset(), consumers_pending=()):
    """The new key is verified; move the old key towards deletion."""
    revoked = old.access_key_id in revoke
    if state.restored_at is not None:
        if not revoked and new.access_key_id not in revoke:
            return _plan_held(old, state)
        # An incident wins over the way back: a revoked key, old or new, lifts the hold.
        state = state.with_changes(restored_at=None)
    if old.status == ACTIVE:
        if revoked:
            # Recorded as an incident: the way back never reactivates a revoked key.
            return Plan(status=PENDING, steps=(Step(DEACTIVATE, old.access_key_id, "revoked; replaced by "
                                                    + new.access_key_id),),
                        state=state.with_changes(deactivated_at=now, incident=True))
        if consumers_pending:
            return _plan_consumers(new, old, consumers_pending, policy, now)
        if not _elapsed(now, new.create_date, policy.deactivate_after_days):
            return Plan(status=PENDING, next_action=DEACTIVATE, next_action_at=_due_at(new.create_date, policy.deactivate_after_days))
        in_use = old.last_used_date is not None and old.last_used_date > new.create_date
        warnings = ()
        if policy.in_use_guard and in_use:
            deadline = _due_at(new.create_date, policy.deactivate_after_days + policy.in_use_max_wait_days)
            if now < deadline:
                return Plan(status=WAITING, next_action=DEACTIVATE, next_action_at=deadline, message=(
                    "old key %s was used at %s, after the new key %s was created; waiting for its consumers to "
                    "switch" % (old.access_key_id, old.last_used_date.isoformat(), new.access_key_id)))
            if not policy.deactivate_in_use:
                return Plan(status=WAITING, message=(
                    "old key %s is still in use (last used %s) after waiting %s days for its consumers to switch to "
                    "%s; it stays active. Switch its consumers, or set deactivate_in_use to deactivate it anyway"
                    % (old.access_key_id, old.last_used_date.isoformat(), policy.in_use_max_wait_days,
                       new.access_key_id)),
                    warnings=("old key %s is still in use after waiting %s days for its consumers"
                              % (old.access_key_id, policy.in_use_max_wait_days),))
            warnings = ("old key %s was still in use (last used %s) after waiting %s days for its consumers; "
                        "deactivated anyway (deactivate_in_use)" % (old.access_key_id, old.last_used_date.isoformat(),
                                                                    policy.in_use_max_wait_days),)
        elif policy.in_use_guard and now < new.create_date + LAST_USED_LAG:
            # A use of the old key since the new key exists may not show yet.
            return Plan(status=PENDING, next_action=DEACTIVATE, next_action_at=new.create_date + LAST_USED_LAG,
                        message="waiting until IAM's record of the old key's last use covers the time since the new "
                                "key %s was created" % new.access_key_id)
        return Plan(status=PENDING, steps=(Step(DEACTIVATE, old.access_key_id, "replaced by " + new.access_key_id),),
                    state=state.with_changes(deactivated_at=now), warnings=warnings)
    if state.deactivated_at is None:
        # Somebody else deactivated it; the wait before deletion starts now.
        return Plan(status=PENDING, steps=(Step(RECORD, None, "old key found inactive; recording when"),),
                    state=state.with_changes(deactivated_at=now))
    if not _elapsed(now, state.deactivated_at, policy.delete_after_days):
        return Plan(status=PENDING, next_action=DELETE, next_action_at=_due_at(state.deactivated_at, policy.delete_after_days))
    return Plan(status=PENDING, steps=(Step(DELETE, old.access_key_id, "deactivated on %s" % state.deactivated_at.isoformat()),),
                state=state.with_changes(old_key=None, deactivated_at=None, incident=False))


def _plan_rotation(keys, state, policy, now, rotated_this_run, replace=frozenset(), revoke=frozenset()):
    """No rotation in progress: start one if the current key is due."""
    current = newest_active_key(keys)
    if current is None:
        return Plan(status=COMPLIANT, message="no active access key")
    # A revoked key may become the current one during the run (its newer replacement was an orphan, now deleted).
    revoked = current.access_key_id in replace or current.access_key_id in revoke
    due = policy.force or revoked or _elapsed(now, current.create_date, policy.rotate_after_days)
    if rotated_this_run or not due:
        return Plan(status=COMPLIANT, next_action=CREATE, next_action_at=_due_at(current.create_date, policy.rotate_after_days))
    steps = []
    others = [key for key in keys if key.access_key_id != current.access_key_id]
    for other in others:
        if other.status != INACTIVE:
            return Plan(status=FAILED, message=(
                "a new key is due but the user already has two active keys, %s and %s, and a key the collection "
                "did not retire is never deleted. Deactivate the one that is no longer used and run again"
                % (_describe(other), _describe(current))))
        steps.append(Step(DELETE, other.access_key_id, "inactive; frees a slot for the new key"))
    steps.append(Step(CREATE, None, "replaces %s" % current.access_key_id))
    # The executor fills in new_key and rotated_at once the key exists.
    return Plan(status=PENDING, steps=tuple(steps),
                state=RotationState(old_key=current.access_key_id, verified=True, incident=revoked))

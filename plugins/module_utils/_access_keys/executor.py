# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Performing the planned steps of an access key rotation in the safe order.

The order that keeps a consumer from being locked out:
announce the create in the user's rotation state, create the key, write its
secret to the destination and read it back, check it authenticates, and
only then record it as the new key.  A run that dies anywhere in between
leaves a state the planner repairs on the next run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import (
    ACTIVE,
    ADOPT,
    CREATE,
    DEACTIVATE,
    DELETE,
    FAILED,
    HELD,
    INACTIVE,
    RECORD,
    VERIFY,
    WAITING,
    AccessKey,
    plan_access_key_rotation,
    rotation_in_progress,
    run_targets,
    unfinished_targets,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    StateFormatError,
    decode_state,
    encode_state,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.consumers import (
    CONSUMERS_TAG,
    ConsumerTagError,
    Consumers,
    decode_confirmations,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.way_back import last_use
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.report_decision import (
    decide_from_report,
    parse_credential_report,
    report_staleness,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import CreateFailed, KeyLimitReached, RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_users import MAX_USER_TAGS, room_for_tag
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.sts_verify import wait_until_key_works
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    AccessKeySecret,
    DestinationError,
    DestinationUncertain,
    describe_text,
    store_and_read_back,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.rotator import (
    AccountRotator,
    Outcome,
    run_isolated,
    utc_now,
)

# A full rotation with 0-day windows takes four phases (free a slot and
# create, deactivate, delete, settle); anything beyond this is a planner bug.
MAX_PHASES = 8
CHECK_MODE_KEY_ID = "(new access key)"

STATUS_BY_ACTION = {"create": "rotated", "store": "rotated", "verify": "rotated",
                    "deactivate": "deactivated", "delete": "deleted"}
LIVE = "live"
CREDENTIAL_REPORT = "credential_report"
# Below this many users a live look costs no more calls than the report.
REPORT_MIN_USERS = 2


@dataclass
class UserOutcome(Outcome):
    keys_before: list = field(default_factory=list)
    keys_after: list = field(default_factory=list)
    next_action: str | None = None
    next_action_at: datetime | None = None
    new_secret: AccessKeySecret | None = None
    checked: str = LIVE
    # Names of the user's consumers that have not confirmed the new key, and the key they are to receive.
    consumers_pending: tuple = ()
    consumer_secret: AccessKeySecret | None = None
    # Where the old key was last used, for a user whose old key waits for its consumers or is held.
    old_key_last_used: dict | None = None


class AccessKeyRotator(AccountRotator):
    """Rotates the access keys of the users of one account."""

    def __init__(self, gateway, connection, destinations, policy, account_id, verify=True, verify_timeout=60,
                 check_mode=False, on_secret=None, clock=utc_now, verify_interval=2.0, credential_report=None,
                 consumers=None):
        super().__init__(gateway, destinations, policy, account_id, check_mode, on_secret, clock)
        self.connection = connection
        self.key_connections = KeyConnections(connection)
        # ReportedUser by name, or None to look at every user live.
        self.credential_report = credential_report
        self.verify = verify
        self.verify_timeout = verify_timeout
        self.verify_interval = verify_interval
        self.consumers = consumers or Consumers()

    def rotate_user(self, user_name) -> UserOutcome:
        if self.credential_report is not None:
            reported = self.credential_report.get(user_name)
            decision = decide_from_report(reported, self.policy, self.clock())
            if decision is not None:
                keys = decision.keys(reported)
                return UserOutcome(user_name, keys_before=keys, keys_after=list(keys),
                                   secret=self.destinations.for_user(user_name).describe(), msg=decision.message,
                                   next_action=decision.next_action, next_action_at=decision.next_action_at,
                                   checked=CREDENTIAL_REPORT)
        outcome = run_isolated(UserOutcome(user_name), self._rotate)
        if outcome.status != FAILED and outcome.actions:
            outcome.status = STATUS_BY_ACTION[outcome.actions[-1]["action"]]
        return outcome

    def _rotate(self, outcome):
        user = outcome.user_name
        keys = self.gateway.list_access_keys(user)
        state, tag_room, confirmations, tag_warning = self._recorded(user)
        if tag_warning:
            outcome.warnings.append(tag_warning)
        destination = self.destinations.for_user(user)
        outcome.keys_before = list(keys)
        outcome.keys_after = list(keys)
        outcome.secret = destination.describe()
        run = _Run(self, outcome, destination, keys, state)
        replace_ids, revoke_ids = run_targets(keys, self.policy, state, self.clock())
        rotated = None
        for _phase in range(MAX_PHASES):
            destination_key_id = None
            if run.state.creating is not None:
                stored = destination.read()
                destination_key_id = stored.access_key_id if stored else None
            if rotated is None:
                rotated = not replace_ids and rotation_in_progress(run.keys, run.state, destination_key_id)
            pending = self.consumers.pending(user, confirmations, run.state.new_key)
            plan = plan_access_key_rotation(run.keys, run.state, self.policy, self.clock(), destination_key_id,
                                            rotated_this_run=rotated, replace=replace_ids, revoke=revoke_ids,
                                            consumers_pending=pending)
            outcome.warnings.extend(plan.warnings)
            if not plan.steps:
                self._hand_to_consumers(run, pending)
                self._show_old_key_use(run, plan)
            if plan.status == FAILED:
                raise RotationError(plan.message)
            if not plan.steps:
                if not outcome.actions:
                    outcome.status = plan.status
                outcome.msg = plan.message
                outcome.next_action, outcome.next_action_at = plan.next_action, plan.next_action_at
                left = unfinished_targets(run.keys, replace_ids, revoke_ids)
                if left:
                    raise RotationError(
                        "key %s, which this run was asked to %s, is still active: %s" % (
                            ", ".join(left), "revoke" if set(left) & revoke_ids else "replace",
                            plan.message or "its rotation cannot go further now (next: %s at %s)" % (
                                plan.next_action, plan.next_action_at.isoformat() if plan.next_action_at else "-")))
                return
            if not tag_room:
                raise RotationError(
                    "user %s has %d tags, the most IAM allows per user, and none is the rotation state tag %s, so the "
                    "rotation could not be recorded; nothing was changed. Remove one tag" % (user, MAX_USER_TAGS,
                                                                                             ACCESS_KEY_STATE_TAG))
            for step in plan.steps:
                run.perform(step, plan.state)
                rotated = rotated or step.action == CREATE
            if not any(step.action in (CREATE, ADOPT, VERIFY) for step in plan.steps):
                run.record(plan.state)
        raise RotationError("no stable plan after %d phases; nothing further was done" % MAX_PHASES)

    def _recorded(self, user):
        """(rotation state, room for its tag, consumers' confirmations, warning): one ListUserTags for all."""
        if not self.consumers.names_for(user):
            state, room = self.gateway.rotation_state_with_room(user)
            return state, room, decode_confirmations(None), None
        tags = self.gateway.user_tags(user)
        try:
            state = decode_state(tags.get(ACCESS_KEY_STATE_TAG))
        except StateFormatError as exc:
            raise RotationError("tag %s of user %s: %s" % (ACCESS_KEY_STATE_TAG, user, exc)) from None
        room = room_for_tag(tags, ACCESS_KEY_STATE_TAG)
        try:
            return state, room, decode_confirmations(tags.get(CONSUMERS_TAG)), None
        except ConsumerTagError as exc:
            # No confirmation is taken from a tag that cannot be read: the old key stays until they confirm again.
            return state, room, decode_confirmations(None), "%s; every consumer is asked to confirm again" % exc

    def _hand_to_consumers(self, run, pending):
        """Give the run's result the new key for the consumers that have not confirmed it.

        While a rotation is under way (its old key still exists) and its new key is verified and active: then the
        role runs those consumers.  Also when the old key is already inactive (an incident revoked it): the
        consumers need the new key all the more; and when an incident already deleted it (0 days), within the
        consumers' deadline, so a rerun still hands the key to the ones that did not confirm.  The secret comes
        from this run's create, or from the destination, which holds it and was read back when it was stored; a
        destination that keeps nothing (``none``) cannot hand it to a later run.
        """
        old = _old_key_of(run.keys, run.state)
        new = next((key for key in run.keys if key.access_key_id == run.state.new_key), None)
        if not pending or new is None or new.status != ACTIVE or not run.state.verified:
            return
        if old is None and not self._consumers_still_due(run, new):
            return
        run.outcome.consumers_pending = pending
        if self.check_mode:
            return  # the consumers run only for real
        new_key_id = run.state.new_key
        if run.outcome.new_secret is not None and run.outcome.new_secret.access_key_id == new_key_id:
            run.outcome.consumer_secret = run.outcome.new_secret
            return
        stored = run.destination.read() if run.destination.type != "none" else None
        if stored is None or stored.access_key_id != new_key_id:
            held = "; the old key %s stays active" % old.access_key_id if old and old.status == ACTIVE else ""
            raise RotationError(
                "consumers %s have not confirmed the new key %s, and %s does not hold its secret, so they cannot be "
                "given it%s. Put the new key back in the destination, or remove the rotation state tag %s to start "
                "over" % (", ".join(pending), new_key_id, describe_text(run.destination), held, ACCESS_KEY_STATE_TAG))
        self.on_secret(stored.secret_access_key)
        run.outcome.consumer_secret = stored

    def _consumers_still_due(self, run, new):
        """Whether consumers are still to get a new key whose old key is gone: made by this run, or within their
        deadline (an incident deleted the old key at once; a rerun resumes them)."""
        if run.outcome.new_secret is not None and run.outcome.new_secret.access_key_id == new.access_key_id:
            return True
        if run.destination.type == "none":
            return False  # nothing to hand again, and no old key to hold for them
        return self.clock() < new.create_date + timedelta(days=self.policy.consumers_deadline_days)

    def _show_old_key_use(self, run, plan):
        """Where the old key was last used, for a user whose old key waits for consumers or is held."""
        old = _old_key_of(run.keys, run.state)
        if old is None or plan.status not in (WAITING, HELD) or run.state.new_key == CHECK_MODE_KEY_ID:
            return
        run.outcome.old_key_last_used = last_use(self.gateway, old.access_key_id)


def _old_key_of(keys, state):
    if not state.old_key or state.old_key == state.new_key:
        return None
    return next((key for key in keys if key.access_key_id == state.old_key), None)


class _Run:
    """The facts of one user as they change during a run (simulated in check mode)."""

    def __init__(self, rotator, outcome, destination, keys, state):
        self.r = rotator
        self.outcome = outcome
        self.destination = destination
        self.keys = list(keys)
        self.state = state

    @property
    def user(self):
        return self.outcome.user_name

    def _act(self, action, access_key_id):
        self.outcome.actions.append({"action": action, "access_key_id": access_key_id})
        self.outcome.changed = True

    def _set_keys(self, keys):
        self.keys = keys
        self.outcome.keys_after = list(keys)

    def record(self, state):
        if state is None or state == self.state:
            return
        if not self.r.check_mode:
            self.r.gateway.record_rotation_state(self.user, state)
        self.state = state
        self.outcome.changed = True

    def perform(self, step, planned_state):
        if step.action == DELETE:
            if not self.r.check_mode:
                self.r.gateway.delete_access_key(self.user, step.access_key_id)
            self._act(DELETE, step.access_key_id)
            self._set_keys([key for key in self.keys if key.access_key_id != step.access_key_id])
        elif step.action == DEACTIVATE:
            self._check_destination_holds_new_key(step.access_key_id)
            self._check_not_restored_meanwhile(step.access_key_id)
            if not self.r.check_mode:
                self.r.gateway.set_access_key_status(self.user, step.access_key_id, INACTIVE)
            self._act(DEACTIVATE, step.access_key_id)
            self._set_keys([replace(key, status=INACTIVE) if key.access_key_id == step.access_key_id else key
                            for key in self.keys])
        elif step.action == CREATE:
            self._create(planned_state)
        elif step.action in (VERIFY, ADOPT):
            self._verify_stored(step.access_key_id)
            extra = {"rotated_at": self.r.clock()} if step.action == ADOPT else {}
            self.record(planned_state.with_changes(**extra))
        elif step.action == RECORD:
            pass  # the phase's state is recorded once its steps are done
        else:  # pragma: no cover - the planner only emits the actions above
            raise RotationError("unknown step %s" % step.action)

    def _verify(self, secret):
        """Raise unless the key authenticates as the user (or verification is off)."""
        if not self.r.verify or self.r.check_mode:
            return
        problem = wait_until_key_works(self.r.key_connections, secret.access_key_id, secret.secret_access_key,
                                       self.r.account_id, self.user, self.r.verify_timeout,
                                       interval=self.r.verify_interval)
        if problem:
            raise RotationError("new key %s did not authenticate as %s within %s seconds (%s); the old key is "
                                "untouched and the next run checks the new key again"
                                % (secret.access_key_id, self.user, self.r.verify_timeout, problem))

    def _check_destination_holds_new_key(self, old_key_id):
        """Deactivate an old key only while the destination still hands out the key that replaces it."""
        new_key_id = self.state.new_key
        if not new_key_id or new_key_id == old_key_id or self.destination.type == "none":
            return
        if new_key_id == CHECK_MODE_KEY_ID:
            return  # made up by this check run, which wrote nothing; the destination's reading was checked then
        stored = self.destination.read()
        if stored is None or stored.access_key_id != new_key_id:
            raise RotationError(
                "%s no longer holds the new key %s (it holds %s), so the old key %s was left active: its consumers "
                "may still need it. Put the new key back in the destination, or remove the rotation state tag %s to "
                "start over" % (describe_text(self.destination), new_key_id,
                                stored.access_key_id if stored else "nothing", old_key_id, ACCESS_KEY_STATE_TAG))

    def _check_not_restored_meanwhile(self, old_key_id):
        """Deactivate the rotation's old key only if no restore was recorded since this run read the state.

        The way back records its hold before it reactivates the key, so reading the state again here leaves
        only the moment between this read and the deactivation to a restore.  A revoke is not held back: an
        incident wins over the way back.  One ListUserTags more per deactivation.
        """
        if (self.r.check_mode or old_key_id != self.state.old_key or self.state.incident
                or self.state.restored_at is not None or old_key_id in self.r.policy.revoke):
            return  # a hold this run knew of was lifted by an incident (see the planner)
        recorded, _room = self.r.gateway.rotation_state_with_room(self.user)
        if recorded.restored_at is not None and recorded.old_key == old_key_id:
            raise RotationError("a restore of old key %s was recorded while this run was retiring it; it was left "
                                "active, held until a run with resume" % old_key_id)

    def _verify_stored(self, access_key_id):
        """Check a key created by an earlier run, with the secret its destination holds."""
        if self.r.check_mode:
            self._act(VERIFY, access_key_id)
            return
        stored = self.destination.read()
        if stored is None or stored.access_key_id != access_key_id:
            raise RotationError("%s no longer holds the secret of new key %s; nothing was changed. Restore it, or "
                                "delete the key and the rotation state tag to start over"
                                % (describe_text(self.destination), access_key_id))
        self.r.on_secret(stored.secret_access_key)
        self._verify(stored)
        self._act(VERIFY, access_key_id)

    def _create(self, planned_state):
        previous_state = self.state
        now = self.r.clock()
        announced = previous_state.with_changes(creating=tuple(key.access_key_id for key in self.keys), announced_at=now,
                                                incident=planned_state.incident)
        self.record(announced)
        if self.r.check_mode:
            # A destination this run could not read would fail the real run: say so now.
            self.destination.read()
            key = AccessKey(CHECK_MODE_KEY_ID, ACTIVE, now)
            for action in ("create", "store", "verify") if self.r.verify else ("create", "store"):
                self._act(action, key.access_key_id)
            self._set_keys(self.keys + [key])
            self.record(planned_state.with_changes(new_key=key.access_key_id, rotated_at=now))
            return
        existing = [key.access_key_id for key in self.keys]
        try:
            key, secret_value, lost = self.r.gateway.create_access_key(self.user, existing)
        except CreateFailed as exc:
            error = self._explain_limit(exc, existing) if isinstance(exc, KeyLimitReached) else exc
            self._settle_failed_create(exc, announced, previous_state)
            raise error from None
        for lost_id in lost:
            self.outcome.warnings.append(
                "the answer to a CreateAccessKey for %s was lost; the key it made, %s, was deleted (nobody could hold "
                "its secret) and %s was created instead" % (self.user, lost_id, key.access_key_id))
        secret = AccessKeySecret(self.user, key.access_key_id, secret_value)
        self.r.on_secret(secret_value)
        self._act("create", key.access_key_id)
        self._set_keys(self.keys + [key])
        try:
            store_and_read_back(self.destination, secret)
        except DestinationUncertain as exc:
            # The destination may hand out the new key: it must keep working.  The announcement
            # stays recorded, so the next run adopts the key if the destination holds it, or deletes it.
            raise RotationError("%s; the new key %s was kept for the next run to adopt or delete, and the old key "
                                "is untouched" % (exc, key.access_key_id)) from None
        except DestinationError as exc:
            self._undo_create(key, previous_state, exc)
        self._act("store", key.access_key_id)
        self.outcome.new_secret = secret
        recorded = planned_state.with_changes(new_key=key.access_key_id, rotated_at=now)
        try:
            self._verify(secret)
        except RotationError:
            self.record(recorded.with_changes(verified=False))
            raise
        if self.r.verify:
            self._act("verify", key.access_key_id)
        self.record(recorded)

    def _settle_failed_create(self, exc, announced, previous_state):
        """Leave the announcement only while a key of this run's may exist unseen, and never let it name another's.

        With every attempt answered (refused, throttled) or accounted for, no key of this run exists: the
        announcement goes, so no later repair takes a key somebody makes meanwhile for this run's orphan.  It
        goes only if it is still this run's: another run rotating the user may have recorded its own since.
        """
        if exc.unclear:
            if exc.foreign:
                self.record(announced.with_changes(creating=announced.creating + exc.foreign))
            return
        try:
            recorded, _room = self.r.gateway.rotation_state_with_room(self.user)
        except RotationError:
            return  # the next run finds the announcement and repairs by the window
        if encode_state(recorded) == encode_state(announced):  # the tag keeps whole seconds
            self.record(previous_state)

    def _explain_limit(self, exc, existing):
        """IAM refused a new key although this run had made room for it: somebody else made one meanwhile."""
        try:
            appeared = [key.access_key_id for key in self.r.gateway.list_access_keys(self.user, with_last_used=False)
                        if key.access_key_id not in existing]
        except RotationError:
            return exc
        if not appeared:
            return exc
        return RotationError(
            "%s: key %s appeared after this run looked at %s (another run rotating the same user at the same time?); "
            "this run created nothing and leaves the user to the next run, which adopts the key if its secret reached "
            "the destination" % (exc, ", ".join(appeared), self.user))

    def _undo_create(self, key, previous_state, cause):
        """The secret did not reach its destination: the new key must not survive."""
        try:
            self.r.gateway.delete_access_key(self.user, key.access_key_id)
            self._set_keys([k for k in self.keys if k.access_key_id != key.access_key_id])
            self.record(previous_state)
            self._act("delete", key.access_key_id)
        except RotationError as exc:
            raise RotationError("%s; deleting the new key %s failed too (%s), the next run adopts it if its secret "
                                "reached the destination or deletes it; the old key is untouched"
                                % (cause, key.access_key_id, exc)) from None
        raise RotationError("%s; the new key %s was deleted and the old key is untouched" % (cause, key.access_key_id))


def load_credential_report(gateway, policy, users, check_mode=False, now=None):
    """(ReportedUser by name or None, warning or None): the report when it can spare live looks.

    Not read with ``force`` (everyone is looked at live anyway) or for fewer
    than REPORT_MIN_USERS users.  A report that cannot be read, or is too old
    to rule out a key created after it (see ``report_staleness``), is no
    reason to fail: every user is then looked at live, with a warning.  Check
    mode reads only an existing report: GenerateCredentialReport is a write.
    """
    if policy.force or len(users) < REPORT_MIN_USERS:
        return None, None
    try:
        report = gateway.credential_report(generate=False) if check_mode else gateway.credential_report()
    except RotationError as exc:
        return None, "%s; every user was looked at live" % exc
    if report is None:
        return None, ("the credential report is not ready (check mode reads only an existing report, it does not "
                      "generate one); every user was looked at live")
    stale = report_staleness(report.generated_time, policy, now or utc_now())
    if stale:
        return None, stale
    return parse_credential_report(report.content), None


class KeyConnections:
    """Clients that sign with a new key, made from the module's one boto3 session.

    A new session per key costs about 90 ms (it loads botocore's data files
    again), a client from the existing session about 1.5 ms.  Sessions are
    not thread-safe, so clients are made one at a time; the clients are.
    """

    _lock = threading.Lock()

    def __init__(self, connection):
        self.connection = connection

    def with_credentials(self, access_key_id, secret_access_key):
        if getattr(self.connection, "session", None) is None:
            return self.connection.with_credentials(access_key_id, secret_access_key)
        return _KeyConnection(self.connection, access_key_id, secret_access_key)


class _KeyConnection:
    def __init__(self, connection, access_key_id, secret_access_key):
        self.connection = connection
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key

    def __repr__(self):
        return "_KeyConnection(access_key_id=%r)" % self.access_key_id

    def client(self, service):
        base = self.connection
        with KeyConnections._lock:  # pylint: disable=protected-access
            return base.session.client(service, region_name=base.region, endpoint_url=base.endpoint_url,
                                       verify=base.verify, config=base.config(max_attempts=2),
                                       aws_access_key_id=self.access_key_id,
                                       aws_secret_access_key=self.secret_access_key, aws_session_token=None)

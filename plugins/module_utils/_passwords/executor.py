# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Rotating console passwords in the order that keeps the destination truthful.

The new password is stored as *pending* beside the current one, then set
in IAM, then made current, then the rotation time is recorded.

The pending value is dropped only when IAM answered that it did not take
the password (PasswordPolicyViolation, AccessDenied, NoSuchEntity...): the
current value is then still the one IAM holds.  When the outcome is unknown
(the answer lost after IAM applied the call, a 5xx, throttling past the
attempts), or a run dies between the steps, the pending value is kept and
the next run sets that same password again, which tells it for certain
that IAM holds it, then makes it current.  IAM has no call that checks a
password, and none that returns one, so setting it again is how a run
finds out without the password leaving the process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.credential_report import parse_password_last_changed
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_passwords import PasswordOutcomeUnknown, PasswordRefused
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_users import MAX_USER_TAGS, room_for_tag
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.planner import (
    CREATE_PROFILE,
    FAILED,
    PasswordFacts,
    needs_report,
    plan_password_rotation,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.policy import generate_password, password_violations
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.state_tag import PASSWORD_STATE_TAG
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    DestinationError,
    PasswordSecret,
    describe_text,
    promote_and_read_back,
    store_and_read_back,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.rotator import (
    AccountRotator,
    Outcome,
    run_isolated,
    utc_now,
)


@dataclass
class PasswordOutcome(Outcome):
    has_login_profile: bool = False
    last_rotated: datetime | None = None
    age_source: str | None = None
    rotated_at: datetime | None = None
    next_rotation_at: datetime | None = None
    new_secret: PasswordSecret | None = None


@dataclass(frozen=True)
class PasswordSpec:
    """How to make a password: the account policy plus the play's own demands."""

    policy: object
    length: int | None = None
    require: tuple = ()
    exclude: str = ""


class PasswordRotator(AccountRotator):
    """Rotates the console passwords of the users of one account."""

    def __init__(self, gateway, destinations, policy, spec, account_id, reset_required=False, check_mode=False,
                 on_secret=None, clock=utc_now):
        super().__init__(gateway, destinations, policy, account_id, check_mode, on_secret, clock)
        self.spec = spec
        self.reset_required = reset_required
        self._report = None
        self._report_lock = threading.Lock()

    def report(self):
        """(password_last_changed per user, warning or None) from the credential report, read at most once per run.

        Users run in threads: the first one that needs the report fetches it,
        the others wait for it.  Check mode only reads an existing report
        (GenerateCredentialReport is a write).  Without a report the age
        comes from the login profile, which can only make a password look
        older, and every user that needed the report says so.
        """
        with self._report_lock:
            if self._report is None:
                try:
                    report = self.gateway.credential_report(generate=not self.check_mode)
                except RotationError as exc:
                    self._report = {}, "%s; the password age comes from the login profile's creation" % exc
                else:
                    if report is None:
                        self._report = {}, ("no credential report exists and check mode does not generate one; the "
                                            "password age comes from the login profile's creation")
                    else:
                        self._report = parse_password_last_changed(report.content), None
            return self._report

    def rotate_user(self, user_name) -> PasswordOutcome:
        return run_isolated(PasswordOutcome(user_name), self._rotate)

    def _rotate(self, outcome):
        user = outcome.user_name
        profile = self.gateway.login_profile(user)
        destination = self.destinations.for_user(user)
        outcome.secret = destination.describe()
        outcome.has_login_profile = profile is not None
        tags = self.gateway.user_tags(user)
        pending = destination.read(pending=True)
        facts = PasswordFacts(
            has_login_profile=profile is not None,
            profile_created=profile.get("CreateDate") if profile else None,
            recorded_rotation=self.gateway.password_rotated_at(user, tags),
            pending_in_destination=pending is not None,
        )
        if needs_report(facts):
            changed, warning = self.report()
            facts = replace(facts, report_last_changed=changed.get(user))
            if warning:
                outcome.warnings.append(warning)
        plan = plan_password_rotation(facts, self.policy, self.clock())
        outcome.last_rotated, outcome.age_source = plan.last_rotated, plan.age_source
        outcome.next_rotation_at = plan.next_rotation_at
        if plan.status == FAILED:
            raise RotationError(plan.message)
        if plan.action is None:
            return
        _check_room_for_the_record(user, tags)
        create = plan.action == CREATE_PROFILE
        set_action = "create_login_profile" if create else "update_login_profile"
        if pending is not None:
            secret = pending
        else:
            # Generate first, so an impossible spec fails before anything changes (in check mode too).
            password = generate_password(self.spec.policy, self.spec.length, self.spec.require, self.spec.exclude,
                                         user)
            secret = PasswordSecret(user, password, self.account_id)
        if not self.check_mode:
            self.on_secret(secret.password)
            self._set(user, destination, secret, create, set_action, outcome, again=pending is not None)
        else:
            steps = ("store_pending", set_action, "promote", "record")
            outcome.actions = [{"action": action} for action in steps[1 if pending is not None else 0:]]
        outcome.changed = True
        outcome.status = "created" if create else "rotated"
        outcome.rotated_at = self.clock()
        outcome.has_login_profile = True
        outcome.new_secret = None if self.check_mode else secret
        outcome.msg = plan.reason

    def _set(self, user, destination, secret, create, set_action, outcome, again):
        """Store (unless ``again``: the pending value is already there), set in IAM, make current, record."""
        if not again:
            store_and_read_back(destination, secret, pending=True)
            outcome.actions.append({"action": "store_pending"})
        try:
            self.gateway.set_password(user, secret.password, self.reset_required, create=create)
        except PasswordOutcomeUnknown as exc:
            raise RotationError("%s; the pending password is kept in %s, and the next run sets it again and then "
                                "makes it current" % (exc, describe_text(destination))) from None
        except PasswordRefused as exc:
            if not again:
                self._drop_pending(destination, exc)
            if not self._refused_as_a_reuse(exc, secret):
                raise RotationError(
                    "%s; an earlier run may have set the pending password kept in %s, so IAM holds either it or the "
                    "current one: the pending value is kept. Sign in to find out which, make that one current in %s "
                    "and delete the pending value; the next run then rotates"
                    % (exc, describe_text(destination), describe_text(destination))) from None
            outcome.warnings.append("IAM refused the pending password as a reuse (the account's policy remembers %d "
                                    "passwords), so an earlier run had set it: it is made current"
                                    % self.spec.policy.reuse_prevention)
        outcome.actions.append({"action": set_action})
        promote_and_read_back(destination, secret)
        outcome.actions.append({"action": "promote"})
        self.gateway.record_password_rotation(user, self.clock())
        outcome.actions.append({"action": "record"})

    @staticmethod
    def _drop_pending(destination, refusal):
        try:
            destination.discard_pending()
        except DestinationError as discard:
            raise RotationError("%s; dropping the pending password failed too (%s), the next run sets it again"
                                % (refusal, discard)) from None
        raise RotationError("%s; the previous password is still the current one" % refusal) from None

    def _refused_as_a_reuse(self, refusal, secret):
        """Whether IAM refused a pending password only because it is in the user's password history.

        The pending password met the policy when it was made; if it still
        meets every rule but reuse prevention, the refusal says IAM took it
        before (the password is random, nobody else can have set it).
        """
        policy = self.spec.policy
        return (refusal.code == "PasswordPolicyViolation" and policy.reuse_prevention > 0
                and not password_violations(secret.password, policy, secret.user_name))


def _check_room_for_the_record(user, tags):
    """Fail before anything changes when the rotation time could not be recorded as a tag.

    Without the record every later run would find the password due again
    and change it again.
    """
    if not room_for_tag(tags, PASSWORD_STATE_TAG):
        raise RotationError("user %s has %d tags, IAM's limit of %d tags per user, so the rotation time cannot be "
                            "recorded as tag %s; nothing was changed. Remove a tag from the user"
                            % (user, len(tags), MAX_USER_TAGS, PASSWORD_STATE_TAG))

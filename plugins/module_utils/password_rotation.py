# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Rotating console passwords in the order that keeps the destination truthful.

The new password is stored as *pending* beside the current one, then set
in IAM, then made current, then the rotation time is recorded.  A failed
update drops the pending value, so the current value is still the one IAM
holds; a run that dies between steps leaves a pending value, and the next
run replaces it with a fresh password set the same way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime

from ansible_collections.rotator.aws_iam.plugins.module_utils.iam_gateway import RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils.password_planner import (
    COMPLIANT,
    CREATE_PROFILE,
    FAILED,
    PasswordFacts,
    needs_report,
    plan_password_rotation,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils.password_policy import generate_password
from ansible_collections.rotator.aws_iam.plugins.module_utils.secret_destination import (
    DestinationError,
    PasswordSecret,
    promote_and_read_back,
    store_and_read_back,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils.user_outcome import AccountRotator, run_isolated, utc_now


@dataclass
class PasswordOutcome:
    user_name: str
    status: str = COMPLIANT
    changed: bool = False
    actions: list = field(default_factory=list)
    has_login_profile: bool = False
    last_rotated: datetime | None = None
    age_source: str | None = None
    rotated_at: datetime | None = None
    next_rotation_at: datetime | None = None
    secret: dict = field(default_factory=dict)
    msg: str = ""
    warnings: list = field(default_factory=list)
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
        """The credential report's password_last_changed per user, fetched at most once per run.

        Users run in threads: the first one that needs the report fetches it,
        the others wait for it.
        """
        with self._report_lock:
            if self._report is None:
                self._report = self.gateway.password_last_changed()
            return self._report

    def rotate_user(self, user_name) -> PasswordOutcome:
        return run_isolated(PasswordOutcome(user_name), self._rotate)

    def _rotate(self, outcome):
        user = outcome.user_name
        profile = self.gateway.login_profile(user)
        destination = self.destinations.for_user(user)
        outcome.secret = destination.describe()
        outcome.has_login_profile = profile is not None
        facts = PasswordFacts(
            has_login_profile=profile is not None,
            profile_created=profile.get("CreateDate") if profile else None,
            recorded_rotation=self.gateway.password_rotated_at(user),
            pending_in_destination=destination.read(pending=True) is not None,
        )
        if needs_report(facts):
            facts = replace(facts, report_last_changed=self.report().get(user))
        plan = plan_password_rotation(facts, self.policy, self.clock())
        outcome.last_rotated, outcome.age_source = plan.last_rotated, plan.age_source
        outcome.next_rotation_at = plan.next_rotation_at
        if plan.status == FAILED:
            raise RotationError(plan.message)
        if plan.action is None:
            return
        set_action = "create_login_profile" if plan.action == CREATE_PROFILE else "update_login_profile"
        # Generate first, so an impossible spec fails before anything changes (in check mode too).
        password = generate_password(self.spec.policy, self.spec.length, self.spec.require, self.spec.exclude, user)
        secret = PasswordSecret(user, password, self.account_id)
        if not self.check_mode:
            self.on_secret(password)
            self._set(user, destination, secret, plan.action == CREATE_PROFILE, set_action, outcome)
        else:
            outcome.actions = [{"action": action} for action in ("store_pending", set_action, "promote", "record")]
        outcome.changed = True
        outcome.status = "created" if plan.action == CREATE_PROFILE else "rotated"
        outcome.rotated_at = self.clock()
        outcome.has_login_profile = True
        outcome.new_secret = None if self.check_mode else secret
        outcome.msg = plan.reason

    def _set(self, user, destination, secret, create, set_action, outcome):
        store_and_read_back(destination, secret, pending=True)
        outcome.actions.append({"action": "store_pending"})
        try:
            self.gateway.set_password(user, secret.password, self.reset_required, create=create)
        except RotationError as exc:
            try:
                destination.discard_pending()
            except DestinationError as discard:
                raise RotationError("%s; dropping the pending password failed too (%s), the next run replaces it"
                                    % (exc, discard)) from None
            raise RotationError("%s; the previous password is still the current one" % exc) from None
        outcome.actions.append({"action": set_action})
        promote_and_read_back(destination, secret)
        outcome.actions.append({"action": "promote"})
        self.gateway.record_password_rotation(user, self.clock())
        outcome.actions.append({"action": "record"})

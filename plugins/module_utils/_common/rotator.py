# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the rotators share: the outcome of a user, their common settings, the clock, and failing alone per user."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import AWSConnectionError
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.policy import PasswordSpecError
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import DestinationError

COMPLIANT = "compliant"
FAILED = "failed"
EXPECTED_ERRORS = (RotationError, DestinationError, AWSConnectionError, PasswordSpecError)


@dataclass
class Outcome:
    """What happened to one user in a run, whatever was rotated; each rotator adds its own fields.

    ``secret`` says where the secret went (never the secret); ``msg`` why the user failed or waits.
    """

    user_name: str
    status: str = COMPLIANT
    changed: bool = False
    actions: list = field(default_factory=list)
    secret: dict = field(default_factory=dict)
    msg: str = ""
    warnings: list = field(default_factory=list)


def utc_now():
    return datetime.now(timezone.utc)


class AccountRotator:
    """The settings every rotator of one account's users holds."""

    def __init__(self, gateway, destinations, policy, account_id, check_mode=False, on_secret=None, clock=utc_now):
        self.gateway = gateway
        self.destinations = destinations
        self.policy = policy
        self.account_id = account_id
        self.check_mode = check_mode
        # Called with every secret the run sees, so the module can mask it in all output.
        self.on_secret = on_secret or (lambda secret: None)
        self.clock = clock


def run_isolated(outcome, work):
    """Run ``work(outcome)``; any failure marks this user failed instead of stopping the others.

    The message goes back through the module's result, where every secret
    the run saw is masked, never through a traceback.
    """
    try:
        work(outcome)
    except EXPECTED_ERRORS as exc:
        outcome.status, outcome.msg = FAILED, str(exc)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        outcome.status, outcome.msg = FAILED, "unexpected %s: %s" % (type(exc).__name__, exc)
    return outcome

"""Case 3: a console password call that IAM applied but whose answer was lost.

The real PasswordRotator, IAMGateway and SSM / Secrets Manager destinations
against the stub, which forwards ``UpdateLoginProfile`` / ``CreateLoginProfile``
to moto and then drops the answer on every attempt the client makes.
"""

from __future__ import annotations

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.planner import PasswordRotationPolicy
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.policy import policy_from_api
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.executor import PasswordRotator, PasswordSpec
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    PASSWORD,
    PasswordSecret,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.registry import SECRET_ARGSPEC, DestinationFactory

# aws.connect() makes clients with max_attempts=3: every attempt is applied by IAM and its answer dropped.
ATTEMPTS = 3
FIRST_PASSWORD = "First-Password-0123456789"
DESTINATIONS = ["ssm", "secretsmanager"]


def make_rotator(aws, secret_type, **policy):
    connection = aws.connect(max_attempts=ATTEMPTS)
    gateway = IAMGateway(connection.client("iam"))
    options = dict.fromkeys(SECRET_ARGSPEC)
    options["type"] = secret_type
    destinations = DestinationFactory(options, connection, aws.account, PASSWORD)
    spec = PasswordSpec(policy_from_api(gateway.account_password_policy()))
    return PasswordRotator(gateway, destinations, PasswordRotationPolicy(**policy), spec, aws.account)


def iam_holds(aws, user, password):
    answer = aws.control("POST", "login-profile", {"account": aws.account, "user": user, "password": password})
    return answer["matches"]


def stored(destination, pending=False):
    secret = destination.read(pending=pending)
    return None if secret is None else secret.password


@pytest.mark.parametrize("secret_type", DESTINATIONS)
def test_a_lost_update_answer_keeps_the_pending_password_and_the_next_run_makes_it_current(aws, secret_type):
    aws.user("alice")
    aws.client("iam").create_login_profile(UserName="alice", Password=FIRST_PASSWORD)
    rotator = make_rotator(aws, secret_type, force=True)
    destination = rotator.destinations.for_user("alice")
    destination.write(PasswordSecret("alice", FIRST_PASSWORD, aws.account))

    aws.faults(drop_rate=1.0, drop_phase="response", actions=["UpdateLoginProfile"], max_faults=ATTEMPTS)
    first = rotator.rotate_user("alice")

    assert len(aws.calls("UpdateLoginProfile")) == ATTEMPTS
    assert first.status == "failed"
    assert "the outcome of setting the console password of alice is unknown" in first.msg
    assert "the pending password is kept" in first.msg
    pending = stored(destination, pending=True)
    assert pending is not None and pending != FIRST_PASSWORD
    assert iam_holds(aws, "alice", pending) is True
    assert stored(destination) == FIRST_PASSWORD
    assert pending not in first.msg

    aws.faults()
    second = rotator.rotate_user("alice")

    assert (second.status, second.changed) == ("rotated", True), second.msg
    assert stored(destination) == pending
    assert stored(destination, pending=True) is None
    assert iam_holds(aws, "alice", pending) is True


@pytest.mark.parametrize("secret_type", DESTINATIONS)
def test_a_lost_create_answer_keeps_the_pending_password_and_the_next_run_makes_it_current(aws, secret_type):
    aws.user("bob")
    rotator = make_rotator(aws, secret_type, create_login_profile=True)
    destination = rotator.destinations.for_user("bob")

    aws.faults(drop_rate=1.0, drop_phase="response", actions=["CreateLoginProfile"], max_faults=ATTEMPTS)
    first = rotator.rotate_user("bob")

    assert len(aws.calls("CreateLoginProfile")) == ATTEMPTS
    assert first.status == "failed"
    assert "the outcome of setting the console password of bob is unknown" in first.msg
    pending = stored(destination, pending=True)
    assert pending is not None
    assert iam_holds(aws, "bob", pending) is True
    # Secrets Manager makes the first version of a secret current whatever its labels (documented there).
    assert stored(destination) == (pending if secret_type == "secretsmanager" else None)

    aws.faults()
    second = rotator.rotate_user("bob")

    assert (second.status, second.changed) == ("rotated", True), second.msg
    assert [action["action"] for action in second.actions] == ["update_login_profile", "promote", "record"]
    assert stored(destination) == pending
    assert stored(destination, pending=True) is None
    assert iam_holds(aws, "bob", pending) is True


@pytest.mark.parametrize("secret_type", DESTINATIONS)
def test_a_definite_refusal_drops_the_pending_password(aws, secret_type):
    """NoSuchEntity from UpdateLoginProfile (the profile deleted meanwhile): IAM did not take the password."""
    aws.user("carol")
    iam = aws.client("iam")
    iam.create_login_profile(UserName="carol", Password=FIRST_PASSWORD)
    rotator = make_rotator(aws, secret_type, force=True)
    destination = rotator.destinations.for_user("carol")
    destination.write(PasswordSecret("carol", FIRST_PASSWORD, aws.account))
    profile = rotator.gateway.login_profile

    def profile_then_gone(user_name):
        answer = profile(user_name)
        iam.delete_login_profile(UserName=user_name)
        return answer

    rotator.gateway.login_profile = profile_then_gone
    outcome = rotator.rotate_user("carol")

    assert outcome.status == "failed"
    assert "the previous password is still the current one" in outcome.msg
    assert stored(destination, pending=True) is None
    assert stored(destination) == FIRST_PASSWORD

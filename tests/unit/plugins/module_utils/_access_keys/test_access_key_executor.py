"""The access key executor run over many users at once: same results as one at a time, users kept apart."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import (
    ACTIVE,
    AccessKey,
    RotationPolicy,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.executor import (
    CREDENTIAL_REPORT,
    LIVE,
    AccessKeyRotator,
    KeyConnections,
    load_credential_report,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.report_decision import ReportedKey, ReportedUser
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.credential_report import CredentialReport
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import KeyLimitReached, RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.module import run_concurrently
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import RotationState
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.none import NoDestination

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


class MemoryIAM:
    """Users' keys and tags in memory; thread-safe, and slow enough for threads to interleave."""

    def __init__(self, users, age_days=120, broken=()):
        self.lock = threading.Lock()
        self.keys = {user: [AccessKey("AKIA%s0" % user.upper(), ACTIVE, NOW - timedelta(days=age_days))]
                     for user in users}
        self.states = {user: RotationState() for user in users}
        self.counters = {user: 0 for user in users}
        self.broken = set(broken)
        self.calls = []

    def _call(self, name, user):
        time.sleep(0.0005)
        with self.lock:
            self.calls.append((name, user))
        if user in self.broken:
            raise RotationError("%s of %s failed: AccessDenied" % (name, user))

    def list_access_keys(self, user, with_last_used=True):
        self._call("list", user)
        with self.lock:
            return list(self.keys[user])

    def rotation_state(self, user):
        self._call("state", user)
        return self.states[user]

    def rotation_state_with_room(self, user):
        return self.rotation_state(user), True

    def record_rotation_state(self, user, state):
        self._call("record", user)
        self.states[user] = state

    def create_access_key(self, user, existing_key_ids):
        self._call("create", user)
        assert sorted(existing_key_ids) == sorted(key.access_key_id for key in self.keys[user])
        with self.lock:
            self.counters[user] += 1
            key = AccessKey("AKIA%s%d" % (user.upper(), self.counters[user]), ACTIVE, NOW)
            self.keys[user].append(key)
        return key, "secret-of-%s-%d" % (user, self.counters[user]), []

    def set_access_key_status(self, user, key_id, status):
        self._call("status", user)
        with self.lock:
            self.keys[user] = [replace(key, status=status) if key.access_key_id == key_id else key
                               for key in self.keys[user]]

    def delete_access_key(self, user, key_id):
        self._call("delete", user)
        with self.lock:
            self.keys[user] = [key for key in self.keys[user] if key.access_key_id != key_id]


class Destinations:
    def __init__(self):
        self.by_user = {}

    def for_user(self, user):
        return self.by_user.setdefault(user, NoDestination())


USERS = ["user%02d" % index for index in range(24)]
ZERO_DAY = RotationPolicy(force=True, deactivate_after_days=0, delete_after_days=0, in_use_guard=False)


def rotate(users, concurrency, policy=ZERO_DAY, broken=(), report=None, iam=None):
    iam = iam or MemoryIAM(USERS, broken=broken)
    secrets = set()
    rotator = AccessKeyRotator(iam, connection=None, destinations=Destinations(), policy=policy,
                               account_id="123456789012", verify=False, on_secret=secrets.add,
                               clock=lambda: NOW, credential_report=report)
    return run_concurrently(rotator.rotate_user, users, concurrency), iam, secrets


def shape(outcome):
    return (outcome.user_name, outcome.status, outcome.changed, outcome.actions,
            [(key.access_key_id, key.status) for key in outcome.keys_after], outcome.msg, outcome.checked)


def test_eight_at_a_time_gives_what_one_at_a_time_gives():
    serial, _iam, serial_secrets = rotate(USERS, 1)
    parallel, iam, parallel_secrets = rotate(USERS, 8)
    assert [shape(outcome) for outcome in parallel] == [shape(outcome) for outcome in serial]
    assert [outcome.user_name for outcome in parallel] == USERS
    assert {outcome.status for outcome in parallel} == {"deleted"}
    assert parallel_secrets == serial_secrets == {"secret-of-%s-1" % user for user in USERS}
    # each user's calls were made in the safe order, whatever the other threads did
    for user in USERS:
        assert [name for name, who in iam.calls if who == user] == [
            "list", "state", "record", "create", "record", "status", "record", "delete", "record"]


def test_a_failing_user_fails_alone_and_keeps_its_place():
    outcomes, iam, _secrets = rotate(USERS, 8, broken={"user05", "user17"})
    assert [outcome.user_name for outcome in outcomes] == USERS
    failed = [outcome.user_name for outcome in outcomes if outcome.status == "failed"]
    assert failed == ["user05", "user17"]
    assert "AccessDenied" in outcomes[5].msg
    assert all(len(iam.keys[user]) == 1 and iam.keys[user][0].access_key_id.endswith("1")
               for user in USERS if user not in failed)


def test_secrets_stay_with_their_user():
    outcomes, _iam, _secrets = rotate(USERS, 8)
    for outcome in outcomes:
        assert outcome.new_secret.user_name == outcome.user_name
        assert outcome.new_secret.secret_access_key == "secret-of-%s-1" % outcome.user_name


def test_users_the_report_spares_cost_no_call():
    young = ReportedUser("young", (ReportedKey(True, NOW - timedelta(days=10)),))
    old = ReportedUser("old", (ReportedKey(True, NOW - timedelta(days=120)),))
    iam = MemoryIAM(["young", "old", "unlisted"])
    outcomes, iam, _secrets = rotate(["young", "old", "unlisted"], 8, policy=RotationPolicy(),
                                     report={"young": young, "old": old}, iam=iam)
    assert [(outcome.user_name, outcome.status, outcome.checked) for outcome in outcomes] == [
        ("young", "compliant", CREDENTIAL_REPORT), ("old", "rotated", LIVE), ("unlisted", "rotated", LIVE)]
    assert outcomes[0].next_action == "create"
    assert outcomes[0].next_action_at == NOW + timedelta(days=80)
    assert outcomes[0].keys_after == [AccessKey(None, ACTIVE, NOW - timedelta(days=10))]
    assert {who for _name, who in iam.calls} == {"old", "unlisted"}


class ReportGateway:
    def __init__(self, content=None, error=None):
        self.content, self.error, self.calls = content, error, 0

    def credential_report(self, generate=True):
        self.calls += 1
        if self.error:
            raise RotationError(self.error)
        # Generated just now: recent enough to spare live looks.
        return None if self.content is None else CredentialReport(self.content, datetime.now(timezone.utc))


@pytest.mark.parametrize("policy, users, read", [
    (RotationPolicy(), ["a", "b"], True),
    (RotationPolicy(force=True), ["a", "b"], False),
    (RotationPolicy(), ["a"], False),
])
def test_when_the_report_is_read(policy, users, read):
    gateway = ReportGateway("user,access_key_1_active,access_key_1_last_rotated\na,true,2024-05-01T00:00:00+00:00\n")
    report, warning = load_credential_report(gateway, policy, users)
    assert gateway.calls == (1 if read else 0)
    assert (report is not None) == read and warning is None
    if read:
        assert report["a"].keys == (ReportedKey(True, datetime(2024, 5, 1, tzinfo=timezone.utc)),)


def test_an_unreadable_report_means_everyone_live_with_a_warning():
    report, warning = load_credential_report(ReportGateway(error="reading the credential report failed: AccessDenied"),
                                             RotationPolicy(), ["a", "b"])
    assert report is None and "AccessDenied" in warning and "live" in warning
    report, warning = load_credential_report(ReportGateway(content=None), RotationPolicy(), ["a", "b"])
    assert report is None and "not ready" in warning


class FakeSession:
    def __init__(self):
        self.made = []
        self.flight = 0
        self.peak = 0
        self.lock = threading.Lock()

    def client(self, service, **kwargs):
        with self.lock:
            self.flight += 1
            self.peak = max(self.peak, self.flight)
        time.sleep(0.001)
        with self.lock:
            self.flight -= 1
            self.made.append((service, kwargs["aws_access_key_id"], kwargs["aws_session_token"]))
        return object()


class FakeConnection:
    region, endpoint_url, verify = "us-east-1", "http://127.0.0.1:1", True

    def __init__(self):
        self.session = FakeSession()

    def config(self, max_attempts=None):
        return ("config", max_attempts)


def test_clients_for_new_keys_come_from_the_one_session_one_at_a_time():
    connection = FakeConnection()
    keys = KeyConnections(connection)
    run_concurrently(lambda index: keys.with_credentials("AKIA%d" % index, "secret").client("sts"), range(40), 8)
    assert connection.session.peak == 1
    assert sorted(connection.session.made) == sorted(("sts", "AKIA%d" % index, None) for index in range(40))
    assert "secret" not in repr(keys.with_credentials("AKIA1", "secret"))


class RacedIAM(MemoryIAM):
    """Another run creates a key for the user between this run's look and its create."""

    def create_access_key(self, user, existing_key_ids):
        with self.lock:
            self.keys[user].append(AccessKey("AKIAOTHERRUN", ACTIVE, NOW))
        raise KeyLimitReached("creating an access key for %s failed: LimitExceeded: Cannot exceed quota" % user)


def test_a_key_limit_caused_by_another_run_names_the_key_that_appeared():
    outcomes, iam, secrets = rotate(["user00"], 1, iam=RacedIAM(["user00"]))
    assert outcomes[0].status == "failed"
    assert "LimitExceeded" in outcomes[0].msg
    assert "key AKIAOTHERRUN appeared after this run looked at user00" in outcomes[0].msg
    assert [key.access_key_id for key in iam.keys["user00"]] == ["AKIAUSER000", "AKIAOTHERRUN"]
    assert not secrets


class FullIAM(MemoryIAM):
    def create_access_key(self, user, existing_key_ids):
        raise KeyLimitReached("creating an access key for %s failed: LimitExceeded: Cannot exceed quota" % user)


def test_a_key_limit_with_no_new_key_keeps_iams_message():
    outcomes, _iam, _secrets = rotate(["user00"], 1, iam=FullIAM(["user00"]))
    assert outcomes[0].status == "failed"
    assert "LimitExceeded" in outcomes[0].msg and "appeared" not in outcomes[0].msg


class LostAnswerIAM(MemoryIAM):
    """The first CreateAccessKey answer was lost; the gateway deleted the key it made and created another."""

    def create_access_key(self, user, existing_key_ids):
        key, secret, _lost = super().create_access_key(user, existing_key_ids)
        return key, secret, ["AKIALOSTANSWER"]


def test_a_key_deleted_after_a_lost_answer_is_reported_as_a_warning():
    outcomes, _iam, _secrets = rotate(["user00"], 1, iam=LostAnswerIAM(["user00"]))
    assert outcomes[0].status == "deleted"
    assert outcomes[0].warnings == [
        "the answer to a CreateAccessKey for user00 was lost; the key it made, AKIALOSTANSWER, was deleted (nobody "
        "could hold its secret) and AKIAUSER001 was created instead"]

"""Running users concurrently: order, bounds, isolation, and destinations shared between users."""

from __future__ import annotations

import random
import threading
import time
from types import SimpleNamespace

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._common.module import (
    MAX_CONCURRENCY,
    SerializedDestinations,
    input_errors,
    run_concurrently,
)


class InFlight:
    """Counts the calls under way at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.threads = set()

    def __enter__(self):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.threads.add(threading.get_ident())

    def __exit__(self, *exc):
        with self.lock:
            self.now -= 1


@pytest.mark.parametrize("concurrency", [1, 2, 8])
def test_results_keep_the_order_of_the_users_and_the_bound_holds(concurrency):
    flight = InFlight()
    delays = random.Random(7).choices([0, 0.001, 0.005], k=40)

    def work(index):
        with flight:
            time.sleep(delays[index])
            return "user-%02d" % index

    assert run_concurrently(work, range(40), concurrency) == ["user-%02d" % index for index in range(40)]
    assert flight.peak <= concurrency
    if concurrency > 1:
        assert flight.peak > 1


def test_one_at_a_time_runs_in_the_calling_thread():
    seen = run_concurrently(lambda _item: threading.get_ident(), range(5), 1)
    assert set(seen) == {threading.get_ident()}


def test_no_users_and_one_user():
    assert run_concurrently(lambda item: item, [], 8) == []
    assert run_concurrently(lambda item: item * 2, [21], 8) == [42]


def test_secrets_added_from_threads_all_reach_the_no_log_set():
    no_log_values = set()

    def work(index):
        no_log_values.add("secret-%d" % index)
        return index

    run_concurrently(work, range(500), 8)
    assert no_log_values == {"secret-%d" % index for index in range(500)}


# --- destinations ------------------------------------------------------------


class SharedFile:
    """A destination whose writes read, modify and write one shared document (a credentials file of profiles)."""

    document = {}
    flight = InFlight()

    def __init__(self, user_name, path):
        self.user_name = user_name
        self.path = path

    def describe(self):
        return {"type": "file", "path": self.path, "format": "credentials", "profile": self.user_name}

    def resource(self):
        return ("file", self.path)

    def write(self, secret, pending=False):
        with self.flight:
            profiles = dict(self.document.get(self.path, {}))
            time.sleep(0.001)  # what a read-modify-write of a file leaves open
            profiles[self.user_name] = secret
            self.document[self.path] = profiles

    def read(self, pending=False):
        return self.document.get(self.path, {}).get(self.user_name)

    def promote(self):
        with self.flight:
            time.sleep(0.001)

    def discard_pending(self):
        with self.flight:
            time.sleep(0.001)


class Factory:
    def __init__(self, path_of):
        self.path_of = path_of

    def for_user(self, user_name):
        return SharedFile(user_name, self.path_of(user_name))


def test_writes_to_one_shared_destination_never_overlap_and_no_profile_is_lost():
    SharedFile.document, SharedFile.flight = {}, InFlight()
    destinations = SerializedDestinations(Factory(lambda _user: "/etc/aws/credentials"))
    users = ["user-%d" % index for index in range(30)]

    def work(user):
        destination = destinations.for_user(user)
        destination.write("secret of " + user)
        destination.promote()
        destination.discard_pending()
        return destination.read()

    assert run_concurrently(work, users, 8) == ["secret of " + user for user in users]
    assert SharedFile.flight.peak == 1
    assert sorted(SharedFile.document["/etc/aws/credentials"]) == sorted(users)


def test_separate_destinations_are_written_at_the_same_time():
    SharedFile.document, SharedFile.flight = {}, InFlight()
    destinations = SerializedDestinations(Factory(lambda user: "/etc/aws/" + user))
    barrier = threading.Barrier(4, timeout=5)

    def work(user):
        barrier.wait()
        destinations.for_user(user).write("secret of " + user)
        return user

    run_concurrently(work, ["a", "b", "c", "d"], 4)
    assert SharedFile.flight.peak > 1


def test_a_serialized_destination_is_the_destination_otherwise():
    destination = SerializedDestinations(Factory(lambda user: "/tmp/" + user)).for_user("alice")
    assert destination.describe() == {"type": "file", "path": "/tmp/alice", "format": "credentials", "profile": "alice"}
    assert destination.user_name == "alice"


# --- the option --------------------------------------------------------------


@pytest.mark.parametrize("concurrency, ok", [(1, True), (8, True), (MAX_CONCURRENCY, True), (0, False),
                                             (MAX_CONCURRENCY + 1, False), (None, True)])
def test_concurrency_bounds(concurrency, ok):
    module = SimpleNamespace(params={"user_name": "alice", "users": None, "concurrency": concurrency,
                                     "return_secret": False}, no_log=False)
    errors = input_errors(module, ())
    assert (errors == []) == ok, errors

"""Case 1: users whose profiles live in one credentials file never overwrite each other.

The real SerializedDestinations, DestinationFactory and FileDestination,
with the module's own thread pool at the default concurrency.
"""

from __future__ import annotations

import configparser
import time

from ansible_collections.rotator.aws_iam.plugins.module_utils._common.module import (
    SerializedDestinations,
    run_concurrently,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    AccessKeySecret,
    store_and_read_back,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.registry import SECRET_ARGSPEC, DestinationFactory

USERS = ["user-%d" % index for index in range(10)]
TRIALS = 30
CONCURRENCY = 8
HAND_WRITTEN = "[default]\naws_access_key_id = AKIADEFAULT000000001\naws_secret_access_key = default-secret\n"


def options(**values):
    result = {name: None for name in SECRET_ARGSPEC}
    result.update(values)
    return result


def secret_of(user, trial):
    return AccessKeySecret(user, "AKIA%012d%04d" % (USERS.index(user), trial), "%s-trial-%d" % (user, trial) + "s" * 20)


def profiles(path):
    parser = configparser.RawConfigParser()
    parser.read_string(path.read_text())
    return {section: dict(parser.items(section)) for section in parser.sections()}


def test_every_profile_of_one_credentials_file_holds_its_own_users_secret(tmp_path):
    path = tmp_path / "credentials"
    path.write_text(HAND_WRITTEN)
    factory = DestinationFactory(options(type="file", path=str(path), format="credentials"), None, "123456789012")
    started = time.monotonic()
    for trial in range(TRIALS):
        destinations = SerializedDestinations(factory)

        def store(user, trial=trial):
            store_and_read_back(destinations.for_user(user), secret_of(user, trial))
            return user

        assert run_concurrently(store, USERS, CONCURRENCY) == USERS
        held = profiles(path)
        assert held == dict(
            {"default": {"aws_access_key_id": "AKIADEFAULT000000001", "aws_secret_access_key": "default-secret"}},
            **{user: {"aws_access_key_id": secret_of(user, trial).access_key_id,
                      "aws_secret_access_key": secret_of(user, trial).secret_access_key} for user in USERS}), trial
    assert time.monotonic() - started < 60

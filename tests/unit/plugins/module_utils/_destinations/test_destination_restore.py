"""A destination never names a key that does not exist: a failed store puts back what was there, and proves it.

The real destination classes against moto on loopback.  AWS errors the stub
cannot answer (AccessDenied, a KMS key the reader cannot use) come from a
botocore event handler on the very client the destination uses, so the
request never leaves it; lost answers come from the stub, after moto applied
the call.  What a destination holds afterwards is read with a plain client,
not with the class under test.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations import file as secret_file
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    AccessKeySecret,
    DestinationError,
    DestinationUncertain,
    PasswordSecret,
    render,
    store_and_read_back,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.file import FileDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.secretsmanager import SecretsManagerDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.ssm import SSMParameterDestination

OLD = AccessKeySecret("alice", "AKIAOLDKEY0000000001", "o" * 40)
NEW = AccessKeySecret("alice", "AKIANEWKEY0000000002", "n" * 40)
NAME = "rotator/123456789012/alice/access-key"
PARAMETER = "/rotator/123456789012/alice/access-key"
ATTEMPTS = 3  # aws.connect() gives clients of 3 attempts


# --- Secrets Manager ---------------------------------------------------------------------------

def current_secret(aws, name=NAME):
    """The AWSCURRENT value as a consumer reads it."""
    return json.loads(aws.client("secretsmanager").get_secret_value(SecretId=name, VersionStage="AWSCURRENT")
                      ["SecretString"])


def stages(aws, name=NAME):
    return aws.client("secretsmanager").describe_secret(SecretId=name)["VersionIdsToStages"]


def secret_exists(aws, name=NAME):
    try:
        aws.client("secretsmanager").describe_secret(SecretId=name)
    except aws.client("secretsmanager").exceptions.ResourceNotFoundException:
        return False
    return True


@pytest.fixture
def manager(aws):
    return SecretsManagerDestination(aws.connect(), NAME, "alice")


def seed_secret(aws, *secrets):
    client = aws.client("secretsmanager")
    client.create_secret(Name=NAME, SecretString=render(secrets[0], "json"))
    for secret in secrets[1:]:
        client.put_secret_value(SecretId=NAME, SecretString=render(secret, "json"))


@pytest.mark.parametrize("code", ["AccessDeniedException", "DecryptionFailure"])
def test_secretsmanager_read_back_refused_puts_the_previous_version_back(aws, manager, code, refusal):
    older = AccessKeySecret("alice", "AKIAOLDERKEY00000000", "p" * 40)
    seed_secret(aws, older, OLD)
    before = stages(aws)
    refusal(manager.client, "GetSecretValue", code)
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(manager, NEW)
    assert not isinstance(raised.value, DestinationUncertain)
    assert "holds what it held before" in str(raised.value)
    assert NEW.secret_access_key not in str(raised.value)
    assert current_secret(aws) == OLD.document()
    # AWSPREVIOUS too is where it was: the failed version carries no label a consumer resolves.
    labelled = {version: labels for version, labels in stages(aws).items() if labels}
    assert labelled == {version: labels for version, labels in before.items() if labels}


def test_secretsmanager_read_back_throttled_past_the_retries_puts_the_previous_version_back(aws, manager):
    seed_secret(aws, OLD)
    aws.faults(throttle_rate=1.0, actions=["GetSecretValue"])
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(manager, NEW)
    aws.faults()
    assert not isinstance(raised.value, DestinationUncertain)
    assert len(aws.calls("GetSecretValue")) == ATTEMPTS
    assert current_secret(aws) == OLD.document()


def test_secretsmanager_write_applied_but_every_answer_lost_puts_the_previous_version_back(aws, manager):
    seed_secret(aws, OLD)
    aws.faults(drop_rate=1.0, drop_phase="response", actions=["PutSecretValue"], max_faults=ATTEMPTS)
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(manager, NEW)
    assert not isinstance(raised.value, DestinationUncertain)
    applied = [call for call in aws.calls("PutSecretValue") if call.get("fault")]
    assert len(applied) == ATTEMPTS
    assert current_secret(aws) == OLD.document()


def test_secretsmanager_restore_refused_too_is_uncertain(aws, manager, refusal):
    seed_secret(aws, OLD)
    refusal(manager.client, "GetSecretValue", "AccessDeniedException")
    refusal(manager.client, "UpdateSecretVersionStage", "AccessDeniedException")
    with pytest.raises(DestinationUncertain) as raised:
        store_and_read_back(manager, NEW)
    assert "may hold the new secret" in str(raised.value)
    assert NEW.secret_access_key not in str(raised.value)
    assert current_secret(aws) == NEW.document()


@pytest.mark.parametrize("fault", ["read-refused", "create-answer-lost"])
def test_secretsmanager_first_write_that_fails_leaves_no_secret(aws, manager, fault, refusal):
    if fault == "read-refused":
        refusal(manager.client, "GetSecretValue", "AccessDeniedException")
    else:
        aws.faults(drop_rate=1.0, drop_phase="response", actions=["CreateSecret"], max_faults=ATTEMPTS)
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(manager, NEW)
    aws.faults()
    assert not isinstance(raised.value, DestinationUncertain)
    assert not secret_exists(aws)


def test_secretsmanager_pending_write_refused_read_back_leaves_the_current_version_alone(aws, manager, refusal):
    password = PasswordSecret("alice", "Old-password-1", "123456789012")
    destination = SecretsManagerDestination(aws.connect(), NAME, "alice", kind="password")
    aws.client("secretsmanager").create_secret(Name=NAME, SecretString=render(password, "json"))
    before = stages(aws)
    refusal(destination.client, "GetSecretValue", "AccessDeniedException")
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(destination, PasswordSecret("alice", "New-password-2", "123456789012"), pending=True)
    assert not isinstance(raised.value, DestinationUncertain)
    assert current_secret(aws) == password.document()
    assert {version: labels for version, labels in stages(aws).items() if labels} == before


# --- SSM Parameter Store ---------------------------------------------------------------------

def parameter(aws, name=PARAMETER):
    try:
        return json.loads(aws.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
    except aws.client("ssm").exceptions.ParameterNotFound:
        return None


@pytest.fixture
def ssm(aws):
    return SSMParameterDestination(aws.connect(), PARAMETER, "alice")


def seed_parameter(aws, secret, name=PARAMETER):
    aws.client("ssm").put_parameter(Name=name, Value=render(secret, "json"), Type="SecureString")


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_ssm_read_back_refused_puts_the_previous_value_back(aws, ssm, code, refusal):
    seed_parameter(aws, OLD)
    refusal(ssm.client, "GetParameter", code, after="PutParameter")
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(ssm, NEW)
    assert not isinstance(raised.value, DestinationUncertain)
    assert "holds what it held before" in str(raised.value)
    assert parameter(aws) == OLD.document()


def test_ssm_value_the_writer_cannot_read_is_not_overwritten(aws, ssm, refusal):
    seed_parameter(aws, OLD)
    aws.control("POST", "calls/reset")
    refusal(ssm.client, "GetParameter", "AccessDeniedException")
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(ssm, NEW)
    assert not isinstance(raised.value, DestinationUncertain)
    assert aws.calls("PutParameter") == []
    assert parameter(aws) == OLD.document()


def test_ssm_write_applied_but_every_answer_lost_puts_the_previous_value_back(aws, ssm):
    seed_parameter(aws, OLD)
    aws.faults(drop_rate=1.0, drop_phase="response", actions=["PutParameter"], max_faults=ATTEMPTS)
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(ssm, NEW)
    assert not isinstance(raised.value, DestinationUncertain)
    assert len([call for call in aws.calls("PutParameter") if call.get("fault")]) == ATTEMPTS
    assert parameter(aws) == OLD.document()


def test_ssm_restore_refused_too_is_uncertain(aws, ssm, refusal):
    seed_parameter(aws, OLD)
    refusal(ssm.client, "GetParameter", "AccessDeniedException", after="PutParameter")
    refusal(ssm.client, "PutParameter", "AccessDeniedException", after="PutParameter")
    with pytest.raises(DestinationUncertain) as raised:
        store_and_read_back(ssm, NEW)
    assert "may hold the new secret" in str(raised.value)
    assert parameter(aws) == NEW.document()


@pytest.mark.parametrize("fault", ["read-refused", "put-answer-lost"])
def test_ssm_first_write_that_fails_leaves_no_parameter(aws, ssm, fault, refusal):
    if fault == "read-refused":
        refusal(ssm.client, "GetParameter", "AccessDeniedException", after="PutParameter")
    else:
        aws.faults(drop_rate=1.0, drop_phase="response", actions=["PutParameter"], max_faults=ATTEMPTS)
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(ssm, NEW)
    assert not isinstance(raised.value, DestinationUncertain)
    assert parameter(aws) is None


def test_ssm_pending_write_that_fails_leaves_no_pending_parameter(aws, refusal):
    destination = SSMParameterDestination(aws.connect(), PARAMETER, "alice", kind="password")
    password = PasswordSecret("alice", "Old-password-1", "123456789012")
    seed_parameter(aws, password)
    refusal(destination.client, "GetParameter", "AccessDeniedException", after="PutParameter")
    with pytest.raises(DestinationError):
        store_and_read_back(destination, PasswordSecret("alice", "New-password-2"), pending=True)
    assert parameter(aws, PARAMETER + "-pending") is None
    assert parameter(aws) == password.document()


# --- files -------------------------------------------------------------------------------------

FORMATS = ["json", "csv", "credentials"]
OTHER_PROFILE = "[bob]\naws_access_key_id = AKIABOB0000000000001\naws_secret_access_key = bob-secret\n"


def seed_file(path, fmt, secret=OLD):
    text = render(secret, fmt, "alice")
    if fmt == "credentials":
        text = OTHER_PROFILE + "\n" + text
    path.write_text(text)
    return text


class FlakyOpen:
    """``open`` as the file destination sees it, refusing the first ``times`` reads of one path after ``armed``."""

    def __init__(self, path, times=1):
        self.path = str(path)
        self.times = times
        self.armed = False

    def __call__(self, name, *args, **kwargs):
        if self.armed and str(name) == self.path and self.times > 0 and not args and "w" not in kwargs.get("mode", "r"):
            self.times -= 1
            raise PermissionError(13, "Permission denied", self.path)
        return open(name, *args, **kwargs)  # noqa: SIM115 - the real open, handed back to the caller


def arm_after_write(monkeypatch, destination, flaky):
    real_write = destination.write

    def write(secret, pending=False):
        real_write(secret, pending=pending)
        flaky.armed = True

    monkeypatch.setattr(destination, "write", write)


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_read_back_refused_puts_the_previous_text_back(tmp_path, monkeypatch, fmt):
    path = tmp_path / "credentials"
    before = seed_file(path, fmt)
    destination = FileDestination(str(path), fmt, "alice", "alice")
    flaky = FlakyOpen(path)
    monkeypatch.setattr(secret_file, "open", flaky, raising=False)
    arm_after_write(monkeypatch, destination, flaky)
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(destination, NEW)
    assert not isinstance(raised.value, DestinationUncertain)
    assert flaky.times == 0
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credentials"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_write_applied_then_failed_puts_the_previous_text_back(tmp_path, monkeypatch, fmt):
    path = tmp_path / "alice"
    before = seed_file(path, fmt)
    real_replace = secret_file.os.replace

    def replace_then_fail(source, target):
        real_replace(source, target)
        monkeypatch.setattr(secret_file.os, "replace", real_replace)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(secret_file.os, "replace", replace_then_fail)
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(FileDestination(str(path), fmt, "alice", "alice"), NEW)
    assert not isinstance(raised.value, DestinationUncertain)
    assert path.read_text() == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_restore_failing_too_is_uncertain(tmp_path, monkeypatch, fmt):
    path = tmp_path / "alice"
    seed_file(path, fmt)
    destination = FileDestination(str(path), fmt, "alice", "alice")
    flaky = FlakyOpen(path)
    monkeypatch.setattr(secret_file, "open", flaky, raising=False)
    arm_after_write(monkeypatch, destination, flaky)
    real_replace = secret_file.os.replace
    writes = []

    def second_replace_fails(source, target):
        writes.append(target)
        if len(writes) > 1:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(secret_file.os, "replace", second_replace_fails)
    with pytest.raises(DestinationUncertain) as raised:
        store_and_read_back(destination, NEW)
    assert "may hold the new secret" in str(raised.value)
    assert NEW.secret_access_key in path.read_text()


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_first_write_that_fails_leaves_no_file(tmp_path, monkeypatch, fmt):
    path = tmp_path / "alice"
    destination = FileDestination(str(path), fmt, "alice", "alice")
    flaky = FlakyOpen(path)
    monkeypatch.setattr(secret_file, "open", flaky, raising=False)
    arm_after_write(monkeypatch, destination, flaky)
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(destination, NEW)
    assert not isinstance(raised.value, DestinationUncertain)
    assert list(tmp_path.iterdir()) == []

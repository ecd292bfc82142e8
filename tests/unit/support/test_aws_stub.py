"""Checks that the fake AWS stub behaves as the rest of the test suite relies on."""

from __future__ import annotations

import datetime as dt
import importlib.util
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

SUPPORT_DIR = Path(__file__).resolve().parents[2] / "support"
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


def load_stubctl():
    """Import stubctl by path: tests/support is a script directory, not a package."""
    spec = importlib.util.spec_from_file_location("stubctl", SUPPORT_DIR / "stubctl.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stubctl = load_stubctl()


@pytest.fixture(scope="module")
def state_file(tmp_path_factory):
    """One stub for the whole module; stopped (and checked gone) afterwards."""
    path = tmp_path_factory.mktemp("aws_stub") / "state.json"
    state = stubctl.start(path)
    yield path
    stubctl.stop(path)
    assert not stubctl.pid_alive(state["pid"])


@pytest.fixture(autouse=True)
def fresh_stub(state_file):
    """Each test starts from empty AWS, real clock, no faults and no call log."""
    stubctl.control(state_file, "POST", "reset")


def client(state_file, service, config=None):
    """boto3 client talking to the stub's proxy with dummy credentials."""
    return boto3.client(
        service,
        endpoint_url=stubctl.read_state(state_file)["endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def recorded_secrets(state_file):
    return stubctl.control(state_file, "GET", "secrets")["secrets"]


def recorded_calls(state_file):
    return stubctl.control(state_file, "GET", "calls")["calls"]


def as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_state_file_lists_loopback_endpoints(state_file):
    state = stubctl.read_state(state_file)
    assert state["endpoint_url"].startswith("http://127.0.0.1:")
    assert state["moto_url"].startswith("http://127.0.0.1:")
    assert state["endpoint_url"] != state["moto_url"]


def test_access_key_secret_is_recorded(state_file):
    iam = client(state_file, "iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    assert key["SecretAccessKey"] in recorded_secrets(state_file)


def test_login_profile_passwords_are_recorded(state_file):
    iam = client(state_file, "iam")
    iam.create_user(UserName="bob")
    iam.create_login_profile(UserName="bob", Password="Fi rst&P@ss=+/1")
    iam.update_login_profile(UserName="bob", Password="Sec%ond<P@ss>2")
    secrets = recorded_secrets(state_file)
    assert "Fi rst&P@ss=+/1" in secrets
    assert "Sec%ond<P@ss>2" in secrets


def test_secrets_survive_reset(state_file):
    iam = client(state_file, "iam")
    iam.create_user(UserName="carol")
    secret = iam.create_access_key(UserName="carol")["AccessKey"]["SecretAccessKey"]
    stubctl.control(state_file, "POST", "reset")
    assert secret in recorded_secrets(state_file)


def test_clock_offset_backdates_access_keys(state_file):
    iam = client(state_file, "iam")
    iam.create_user(UserName="dave")
    stubctl.control(state_file, "POST", "clock", {"offset_days": -100})
    try:
        old_id = iam.create_access_key(UserName="dave")["AccessKey"]["AccessKeyId"]
    finally:
        stubctl.control(state_file, "POST", "clock", {"offset_days": 0})
    new_id = iam.create_access_key(UserName="dave")["AccessKey"]["AccessKeyId"]

    keys = iam.list_access_keys(UserName="dave")["AccessKeyMetadata"]
    created = {key["AccessKeyId"]: as_utc(key["CreateDate"]) for key in keys}
    now = dt.datetime.now(dt.UTC)
    assert abs(now - dt.timedelta(days=100) - created[old_id]) < dt.timedelta(days=1)
    assert abs(now - created[new_id]) < dt.timedelta(days=1)


def test_drop_fault_closes_connection_until_cleared(state_file):
    """Every call after the budget fails, including botocore's own retries.

    botocore's ``max_attempts`` counts retries, so each failing call shows up
    twice in the log; only the shape of the log is asserted.
    """
    iam = client(state_file, "iam", NO_RETRY)
    stubctl.control(state_file, "POST", "faults", {"fail_after": 1, "mode": "drop"})
    iam.list_users()
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        iam.list_users()
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        iam.list_users()
    stubctl.control(state_file, "POST", "faults", {"fail_after": None})
    iam.list_users()
    statuses = [call["status"] for call in recorded_calls(state_file)]
    assert statuses[0] == 200 and statuses[-1] == 200
    assert len(statuses) >= 4 and set(statuses[1:-1]) == {None}


def test_error_fault_returns_internal_failure(state_file):
    iam = client(state_file, "iam", NO_RETRY)
    secrets = client(state_file, "secretsmanager", NO_RETRY)
    stubctl.control(state_file, "POST", "faults", {"fail_after": 0, "mode": "error"})
    for call in (iam.list_users, secrets.list_secrets):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["Error"]["Code"] == "InternalFailure"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    stubctl.control(state_file, "POST", "faults", {"fail_after": None})
    iam.list_users()


def test_calls_are_logged_in_order_across_protocols(state_file):
    iam = client(state_file, "iam")
    iam.create_user(UserName="erin")
    iam.create_access_key(UserName="erin")
    client(state_file, "secretsmanager").create_secret(Name="erin-key", SecretString="x")
    assert recorded_calls(state_file) == [
        {"action": "CreateUser", "status": 200},
        {"action": "CreateAccessKey", "status": 200},
        {"action": "CreateSecret", "status": 200},
    ]
    stubctl.control(state_file, "POST", "calls/reset")
    assert recorded_calls(state_file) == []


def test_bodies_and_head_requests_are_relayed(state_file):
    """A large S3 upload exercises Expect: 100-continue and Content-Length relaying."""
    s3 = client(state_file, "s3", Config(s3={"addressing_style": "path"}))
    payload = bytes(range(256)) * 4096
    s3.create_bucket(Bucket="relay")
    s3.put_object(Bucket="relay", Key="blob", Body=payload)
    assert s3.head_object(Bucket="relay", Key="blob")["ContentLength"] == len(payload)
    assert s3.get_object(Bucket="relay", Key="blob")["Body"].read() == payload


def test_unknown_control_route_is_rejected(state_file):
    with pytest.raises(RuntimeError, match="404"):
        stubctl.control(state_file, "GET", "nope")


def test_cli_start_and_stop_terminate_the_process(tmp_path):
    """The CLI returns once the stub is ready; stop() leaves no process or state file."""
    path = tmp_path / "cli-state.json"
    command = [sys.executable, str(SUPPORT_DIR / "stubctl.py"), "--state-file", str(path)]
    started = subprocess.run([*command, "start"], capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode == 0, started.stderr
    state = stubctl.read_state(path)
    assert started.stdout.strip() == state["endpoint_url"]
    assert stubctl.pid_alive(state["pid"])

    stubctl.stop(path)
    assert not stubctl.pid_alive(state["pid"])
    assert not path.exists()

"""Checks that the fake AWS stub behaves as the rest of the test suite relies on."""

from __future__ import annotations

import datetime as dt
import importlib.util
import signal
import subprocess
import sys
import textwrap
import time
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
        {"action": "CreateUser", "status": 200, "user": "erin"},
        {"action": "CreateAccessKey", "status": 200, "user": "erin"},
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


# In a retries dict, max_attempts counts retries; total_max_attempts counts attempts.
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def set_faults(state_file, **settings):
    return stubctl.control(state_file, "POST", "faults", settings)


def fault_status(state_file):
    return stubctl.control(state_file, "GET", "faults")


def error_code(call):
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_throttling_is_aws_shaped_for_query_and_json_services(state_file):
    iam = client(state_file, "iam", ONE_ATTEMPT)
    secrets = client(state_file, "secretsmanager", ONE_ATTEMPT)
    set_faults(state_file, throttle_rate=1.0)
    assert error_code(iam.list_users) == ("Throttling", 400)
    assert error_code(secrets.list_secrets) == ("ThrottlingException", 400)
    assert fault_status(state_file)["injected"]["throttle"] == 2


def test_botocore_retries_throttling_and_counts_it(state_file):
    """A throttled call succeeds on a retry; the stub's counters and call log show the attempts."""
    iam = client(state_file, "iam", Config(retries={"max_attempts": 10, "mode": "standard"}))
    set_faults(state_file, throttle_rate=0.5, seed=3)
    for _call in range(10):
        iam.list_users()
    throttled = fault_status(state_file)["injected"]["throttle"]
    calls = recorded_calls(state_file)
    assert throttled > 0
    assert len(calls) == 10 + throttled
    assert sum(1 for call in calls if call.get("fault") == "throttle") == throttled


def test_rates_are_reproducible_with_a_seed(state_file):
    def pattern(seed):
        iam = client(state_file, "iam", ONE_ATTEMPT)
        set_faults(state_file, throttle_rate=0.3, error_rate=0.2, seed=seed)
        stubctl.control(state_file, "POST", "calls/reset")
        for _call in range(30):
            try:
                iam.list_users()
            except ClientError:
                pass
        return [call.get("fault") for call in recorded_calls(state_file)]

    first = pattern(11)
    assert first == pattern(11)
    assert first != pattern(12)
    assert {"throttle", "error", None} <= set(first)


def test_rates_apply_only_to_the_selected_actions_and_are_bounded(state_file):
    iam = client(state_file, "iam", ONE_ATTEMPT)
    set_faults(state_file, error_rate=1.0, actions=["CreateUser"], max_faults=2)
    iam.list_users()
    assert error_code(lambda: iam.create_user(UserName="u1")) == ("InternalFailure", 500)
    assert error_code(lambda: iam.create_user(UserName="u1")) == ("InternalFailure", 500)
    iam.create_user(UserName="u1")  # the bound is reached
    assert fault_status(state_file)["injected"]["error"] == 2


def test_drop_rate_closes_the_connection_before_or_after_aws(state_file):
    iam = client(state_file, "iam", ONE_ATTEMPT)
    set_faults(state_file, drop_rate=1.0, actions=["CreateUser"])
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        iam.create_user(UserName="never")
    set_faults(state_file, drop_rate=1.0, drop_phase="response", actions=["CreateUser"])
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        iam.create_user(UserName="done")
    set_faults(state_file)
    names = [user["UserName"] for user in iam.list_users()["Users"]]
    assert names == ["done"]  # the request reached AWS; only its answer was lost
    faults = [call.get("fault") for call in recorded_calls(state_file)]
    assert faults[:2] == ["drop", "drop-response"]


def test_latency_is_added_to_every_call(state_file):
    iam = client(state_file, "iam", ONE_ATTEMPT)
    set_faults(state_file, latency_ms=300)
    started = time.monotonic()
    iam.list_users()
    assert time.monotonic() - started >= 0.3


def test_invalid_fault_settings_are_refused(state_file):
    for bad in ({"throttle_rate": 1.5}, {"throttle_rate": 0.6, "error_rate": 0.6}, {"latency_ms": 10**6},
                {"consistency_seconds": -1}, {"mode": "explode"}, {"actions": "CreateUser"}, {"bogus": 1},
                {"drop_phase": "later"}):
        with pytest.raises(RuntimeError, match="400"):
            set_faults(state_file, **bad)


def test_new_keys_are_refused_during_the_consistency_window(state_file):
    iam = client(state_file, "iam")
    iam.create_user(UserName="frank")
    set_faults(state_file, consistency_seconds=1.5)
    key = iam.create_access_key(UserName="frank")["AccessKey"]
    sts = boto3.client("sts", endpoint_url=stubctl.read_state(state_file)["endpoint_url"], region_name="us-east-1",
                       aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                       config=ONE_ATTEMPT)
    assert error_code(sts.get_caller_identity) == ("InvalidClientTokenId", 403)
    iam.list_users()  # other keys are not affected
    time.sleep(1.6)
    assert sts.get_caller_identity()["Arn"].endswith(":user/frank")
    assert fault_status(state_file)["injected"]["consistency"] == 1


def test_hang_holds_the_request_until_the_faults_change(state_file):
    """The (N+1)-th request is held and reported, so a test can kill its client; then it is dropped."""
    endpoint = stubctl.read_state(state_file)["endpoint_url"]
    script = textwrap.dedent(f"""
        import boto3
        from botocore.config import Config
        iam = boto3.client("iam", endpoint_url="{endpoint}", region_name="us-east-1", aws_access_key_id="t",
                           aws_secret_access_key="t", config=Config(retries={{"total_max_attempts": 1}}, read_timeout=120))
        iam.list_users()
        iam.create_user(UserName="held")
    """)
    set_faults(state_file, fail_after=1, mode="hang")
    child = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while fault_status(state_file)["held"] is None and time.monotonic() < deadline:
            assert child.poll() is None
            time.sleep(0.05)
        held = fault_status(state_file)["held"]
        assert held["action"] == "CreateUser" and held["user"] == "held" and held["call"] == 2
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    set_faults(state_file)
    iam = client(state_file, "iam")
    assert iam.list_users()["Users"] == []  # the held request never reached AWS


def test_hang_response_lets_aws_act_but_withholds_the_answer(state_file):
    iam = client(state_file, "iam", Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=1))
    set_faults(state_file, fail_after=0, mode="hang-response")
    with pytest.raises(Exception):  # noqa: B017 - read timeout or closed connection
        iam.create_user(UserName="acted")
    assert fault_status(state_file)["held"]["action"] == "CreateUser"
    set_faults(state_file)
    assert [user["UserName"] for user in iam.list_users()["Users"]] == ["acted"]


def test_secrets_sent_outside_the_secret_sinks_are_listed_as_leaks(state_file):
    iam = client(state_file, "iam")
    iam.create_user(UserName="gina")
    secret = iam.create_access_key(UserName="gina")["AccessKey"]["SecretAccessKey"]
    before = stubctl.control(state_file, "GET", "leaks")["leaks"]
    client(state_file, "secretsmanager").create_secret(Name="gina", SecretString=secret)  # a sink: fine
    assert stubctl.control(state_file, "GET", "leaks")["leaks"] == before
    iam.tag_user(UserName="gina", Tags=[{"Key": "oops", "Value": secret}])
    leaks = stubctl.control(state_file, "GET", "leaks")["leaks"][len(before):]
    assert [leak["action"] for leak in leaks] == ["TagUser"]
    assert recorded_secrets(state_file)[leaks[0]["secret_index"]] == secret


def test_cli_sets_rates_and_reports_them(state_file):
    command = [sys.executable, str(SUPPORT_DIR / "stubctl.py"), "--state-file", str(state_file)]
    subprocess.run([*command, "faults", "off", "--throttle-rate", "0.3", "--actions", "ListUsers,GetUser",
                    "--seed", "5"], check=True, capture_output=True)
    status = fault_status(state_file)
    assert status["throttle_rate"] == 0.3 and status["actions"] == ["ListUsers", "GetUser"] and status["seed"] == 5
    subprocess.run([*command, "faults", "off"], check=True, capture_output=True)
    assert fault_status(state_file)["throttle_rate"] == 0.0


# -- AWS rules: where moto is more lenient than AWS, the stub answers as AWS does --------------

IAM_USER_NAME_SYMBOLS = "+=,.@_-"  # what an IAM user name may bring besides letters and digits


def aws_rules(state_file, **settings):
    return stubctl.control(state_file, "POST", "aws-rules", settings)


def refusal(call):
    """(code, HTTP status, message) of the error a call is answered with."""
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


SSM_BAD_NAME = ('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, '
                "it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of "
                "letters, numbers and the following 3 symbols .-_")


@pytest.mark.parametrize("symbol", ["@", "+", "=", ",", " "])
def test_ssm_refuses_parameter_names_with_symbols_aws_refuses(state_file, symbol):
    """moto 5.2.5 stores /rotator/a@b; AWS answers ValidationException (JSON protocol) and stores nothing."""
    ssm = client(state_file, "ssm", ONE_ATTEMPT)
    name = f"/rotator/first{symbol}last"
    assert refusal(lambda: ssm.put_parameter(Name=name, Value="v", Type="SecureString")) == (
        "ValidationException", 400, SSM_BAD_NAME)
    assert refusal(lambda: ssm.get_parameter(Name=name)) == ("ValidationException", 400, SSM_BAD_NAME)
    assert refusal(lambda: ssm.delete_parameter(Name=name)) == ("ValidationException", 400, SSM_BAD_NAME)
    assert ssm.describe_parameters()["Parameters"] == []


def test_ssm_accepts_every_character_aws_allows(state_file):
    ssm = client(state_file, "ssm", ONE_ATTEMPT)
    name = "/rotator/Alice.Smith_01-x/key"
    ssm.put_parameter(Name=name, Value="v", Type="SecureString")
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "v"


def test_ssm_limits_hierarchy_depth_and_name_length(state_file):
    ssm = client(state_file, "ssm", ONE_ATTEMPT)
    ssm.put_parameter(Name="/" + "/".join(["l"] * 15), Value="v", Type="String")
    code, status, _message = refusal(lambda: ssm.put_parameter(Name="/" + "/".join(["l"] * 16), Value="v",
                                                               Type="String"))
    assert (code, status) == ("HierarchyLevelLimitExceededException", 400)
    ssm.put_parameter(Name="n" * 1011, Value="v", Type="String")
    assert refusal(lambda: ssm.put_parameter(Name="n" * 1012, Value="v", Type="String"))[:2] == (
        "ValidationException", 400)
    assert len(ssm.describe_parameters()["Parameters"]) == 2


def test_ssm_refusal_is_the_json_error_aws_sends(state_file):
    """The raw answer: HTTP 400, application/x-amz-json-1.1, {"__type": "ValidationException", "message": ...}."""
    import json
    import urllib.request

    endpoint = stubctl.read_state(state_file)["endpoint_url"]
    request = urllib.request.Request(endpoint + "/", method="POST", data=json.dumps({
        "Name": "a@b", "Value": "v", "Type": "String"}).encode(), headers={
        "X-Amz-Target": "AmazonSSM.PutParameter", "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 400
    assert raised.value.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert json.loads(raised.value.read()) == {"__type": "ValidationException", "message": SSM_BAD_NAME}


def test_secrets_manager_refuses_the_comma_and_accepts_the_other_user_name_symbols(state_file):
    secrets = client(state_file, "secretsmanager", ONE_ATTEMPT)
    allowed = "rotator/" + IAM_USER_NAME_SYMBOLS.replace(",", "") + "Az09"
    secrets.create_secret(Name=allowed, SecretString="v")
    for bad in ("rotator/first,last", "rotator/first last", "rotator/a#b"):
        assert refusal(lambda: secrets.create_secret(Name=bad, SecretString="v")) == (
            "ValidationException", 400,
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: "
            "-/_+=.@!")
    secrets.create_secret(Name="s" * 512, SecretString="v")
    assert refusal(lambda: secrets.create_secret(Name="s" * 513, SecretString="v"))[:2] == (
        "ValidationException", 400)
    assert sorted(entry["Name"] for entry in secrets.list_secrets()["SecretList"]) == sorted([allowed, "s" * 512])


def fifty_tags(prefix="k"):
    return [{"Key": f"{prefix}{number}", "Value": "v"} for number in range(50)]


def user_tags(iam, user):
    return {tag["Key"]: tag["Value"] for tag in iam.list_user_tags(UserName=user)["Tags"]}


def test_tag_user_beyond_fifty_tags_is_limit_exceeded(state_file):
    """moto 5.2.5 lets a user hold 51+ tags; AWS answers LimitExceeded (HTTP 409), the 2-keys code."""
    iam = client(state_file, "iam", ONE_ATTEMPT)
    iam.create_user(UserName="tagged", Tags=fifty_tags())
    iam.tag_user(UserName="tagged", Tags=[{"Key": "k7", "Value": "overwritten"}])  # an existing key: no new tag
    assert refusal(lambda: iam.tag_user(UserName="tagged", Tags=[{"Key": "rotator:state", "Value": "v1"}])) == (
        "LimitExceeded", 409, "Cannot exceed quota for TagsPerUser: 50")
    tags = user_tags(iam, "tagged")
    assert len(tags) == 50 and "rotator:state" not in tags and tags["k7"] == "overwritten"


def test_more_than_fifty_tags_in_one_request_are_refused(state_file):
    iam = client(state_file, "iam", ONE_ATTEMPT)
    many = fifty_tags() + [{"Key": "one-more", "Value": "v"}]
    assert refusal(lambda: iam.create_user(UserName="crowded", Tags=many))[:2] == ("ValidationError", 400)
    assert iam.list_users()["Users"] == []
    iam.create_user(UserName="plain")
    assert refusal(lambda: iam.tag_user(UserName="plain", Tags=many))[:2] == ("ValidationError", 400)
    assert user_tags(iam, "plain") == {}


def test_tag_keys_and_values_have_aws_lengths(state_file):
    iam = client(state_file, "iam", ONE_ATTEMPT)
    iam.create_user(UserName="sized")
    iam.tag_user(UserName="sized", Tags=[{"Key": "k" * 128, "Value": "v" * 256}])
    assert refusal(lambda: iam.tag_user(UserName="sized", Tags=[{"Key": "k" * 129, "Value": "v"}]))[:2] == (
        "ValidationError", 400)
    assert refusal(lambda: iam.tag_user(UserName="sized", Tags=[{"Key": "x", "Value": "v" * 257}]))[:2] == (
        "ValidationError", 400)
    assert user_tags(iam, "sized") == {"k" * 128: "v" * 256}


def test_aws_rules_are_set_read_and_reset(state_file):
    defaults = stubctl.control(state_file, "GET", "aws-rules")
    assert defaults["names"] is True and defaults["tags"] is True
    assert aws_rules(state_file, names=False)["names"] is False
    client(state_file, "ssm", ONE_ATTEMPT).put_parameter(Name="a@b", Value="v", Type="String")  # moto's leniency
    assert stubctl.control(state_file, "GET", "aws-rules")["tags"] is True  # omitted = default
    stubctl.control(state_file, "POST", "reset")
    assert stubctl.control(state_file, "GET", "aws-rules") == defaults


def test_invalid_aws_rules_are_refused(state_file):
    for bad in ({"names": "yes"}, {"bogus": True}):
        with pytest.raises(RuntimeError, match="400"):
            aws_rules(state_file, **bad)


def test_credential_report_is_started_then_in_progress_then_complete(state_file):
    """moto 5.2.5 serves the report at once; AWS generates it: STARTED, INPROGRESS (ReportInProgress), COMPLETE."""
    iam = client(state_file, "iam", ONE_ATTEMPT)
    iam.create_user(UserName="reported")
    assert refusal(iam.get_credential_report)[:2] == ("ReportNotPresent", 410)
    started = time.monotonic()
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert refusal(iam.get_credential_report)[:2] == ("ReportInProgress", 404)
    assert iam.generate_credential_report()["State"] == "INPROGRESS"
    while iam.generate_credential_report()["State"] != "COMPLETE":
        assert time.monotonic() - started < 10
        time.sleep(0.1)
    assert time.monotonic() - started >= stubctl.control(state_file, "GET", "aws-rules")["report_delay_seconds"] > 0
    report = iam.get_credential_report()
    assert report["Content"].decode().splitlines()[1].startswith("reported,arn:aws:iam::123456789012:user/reported,")
    assert abs(as_utc(report["GeneratedTime"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=30)


def test_credential_report_is_reused_for_four_hours_then_expires(state_file):
    """Within 4 hours AWS answers COMPLETE and serves the old report: a user created since is not in it."""
    iam = client(state_file, "iam", ONE_ATTEMPT)
    aws_rules(state_file, report_delay_seconds=0)
    iam.create_user(UserName="early")
    assert iam.generate_credential_report()["State"] == "STARTED"
    first = iam.get_credential_report()
    iam.create_user(UserName="late")
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    again = iam.get_credential_report()
    assert (again["Content"], again["GeneratedTime"]) == (first["Content"], first["GeneratedTime"])
    assert [line.split(",")[0] for line in again["Content"].decode().splitlines()[1:]] == ["early"]

    stubctl.control(state_file, "POST", "clock", {"offset_days": 4.1 / 24})
    try:
        assert refusal(iam.get_credential_report)[:2] == ("ReportExpired", 410)
        assert iam.generate_credential_report()["State"] == "STARTED"
        fresh = iam.get_credential_report()
    finally:
        stubctl.control(state_file, "POST", "clock", {"offset_days": 0})
    assert [line.split(",")[0] for line in fresh["Content"].decode().splitlines()[1:]] == ["early", "late"]
    assert as_utc(fresh["GeneratedTime"]) - as_utc(first["GeneratedTime"]) >= dt.timedelta(hours=4)


def key_client(state_file, service, key):
    return boto3.client(service, endpoint_url=stubctl.read_state(state_file)["endpoint_url"], region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                        config=ONE_ATTEMPT)


def last_used(iam, key):
    return iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]


def test_access_key_last_used_is_exact_by_default(state_file):
    iam = client(state_file, "iam", ONE_ATTEMPT)
    iam.create_user(UserName="exact")
    key = iam.create_access_key(UserName="exact")["AccessKey"]
    key_client(state_file, "sts", key).get_caller_identity()
    assert last_used(iam, key)["ServiceName"] == "sts"


def test_access_key_last_used_lags_by_the_setting(state_file):
    """moto 5.2.5 shows a use at once; with a lag, a new use is not shown, the previous one (or none) is."""
    iam = client(state_file, "iam", ONE_ATTEMPT)
    aws_rules(state_file, last_used_lag_seconds=1.0)
    iam.create_user(UserName="lagged")
    key = iam.create_access_key(UserName="lagged")["AccessKey"]
    sts = key_client(state_file, "sts", key)
    sts.get_caller_identity()
    assert last_used(iam, key) == {"ServiceName": "N/A", "Region": "N/A"}
    time.sleep(1.1)
    first = last_used(iam, key)
    assert (first["ServiceName"], first["Region"]) == ("sts", "us-east-1")
    key_client(state_file, "iam", key).list_users()
    assert last_used(iam, key) == first
    time.sleep(1.1)
    second = last_used(iam, key)
    assert second["ServiceName"] == "iam" and second["LastUsedDate"] > first["LastUsedDate"]


def test_assume_role_of_a_missing_role_is_access_denied_when_asked(state_file):
    """moto 5.2.5 grants AssumeRole of any ARN; AWS refuses a role that does not exist."""
    iam = client(state_file, "iam", ONE_ATTEMPT)
    iam.create_user(UserName="assumer")
    key = iam.create_access_key(UserName="assumer")["AccessKey"]
    sts = key_client(state_file, "sts", key)
    missing = "arn:aws:iam::222222222222:role/missing"
    sts.assume_role(RoleArn=missing, RoleSessionName="lenient")  # the default keeps moto's leniency
    aws_rules(state_file, assume_role_requires_role=True)
    assert refusal(lambda: sts.assume_role(RoleArn=missing, RoleSessionName="strict")) == (
        "AccessDenied", 403,
        f"User: arn:aws:iam::123456789012:user/assumer is not authorized to perform: sts:AssumeRole on resource: "
        f"{missing}")
    iam.create_role(RoleName="present", AssumeRolePolicyDocument="{}")
    assumed = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/present", RoleSessionName="strict")
    assert assumed["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/present/strict"


def test_cli_sets_and_prints_the_aws_rules(state_file):
    command = [sys.executable, str(SUPPORT_DIR / "stubctl.py"), "--state-file", str(state_file), "aws-rules"]
    subprocess.run([*command, "--names", "off", "--last-used-lag-seconds", "5"], check=True, capture_output=True)
    printed = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    assert '"names": false' in printed and '"last_used_lag_seconds": 5.0' in printed and '"tags": true' in printed


def test_put_secret_value_moves_awscurrent_from_where_it_is_after_a_stage_move(state_file):
    """AWS moves AWSCURRENT to the new version from whichever version holds it (moto: from the one it last set)."""
    sm = client(state_file, "secretsmanager")
    sm.create_secret(Name="moved", SecretString="one")
    first = next(iter(sm.describe_secret(SecretId="moved")["VersionIdsToStages"]))
    second = sm.put_secret_value(SecretId="moved", SecretString="two")["VersionId"]
    sm.update_secret_version_stage(SecretId="moved", VersionStage="AWSCURRENT", MoveToVersionId=first,
                                   RemoveFromVersionId=second)
    third = sm.put_secret_value(SecretId="moved", SecretString="three")["VersionId"]
    assert sm.describe_secret(SecretId="moved")["VersionIdsToStages"] == {
        first: ["AWSPREVIOUS"], second: [], third: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId="moved", VersionStage="AWSCURRENT")["SecretString"] == "three"

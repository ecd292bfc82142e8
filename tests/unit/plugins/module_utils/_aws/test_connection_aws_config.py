"""``aws_config``: botocore.config.Config parameters, as amazon.aws takes them, on every client of a connection."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    CONNECTION_ARGSPEC,
    connection_errors,
)
from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate

ROLE = "arn:aws:iam::222222222222:role/rotator"


def params(**values):
    result = {name: spec.get("default") for name, spec in CONNECTION_ARGSPEC.items()}
    result.update(values)
    return result


def test_aws_config_reaches_every_client_and_our_retries_stay_on(aws):
    connection = aws.connect(aws_config={"connect_timeout": 7, "read_timeout": 11, "user_agent_extra": "team/ops"})
    role = connection.assume_role(ROLE, "rotation")
    clients = [connection.client("iam"), connection.client("sts", region="eu-west-1"), role.client("iam"),
               connection.in_region("eu-west-1").client("secretsmanager"),
               connection.with_credentials("AKIAEXAMPLE", "example").client("sts")]
    for client in clients:
        assert client.meta.config.connect_timeout == 7
        assert client.meta.config.read_timeout == 11
        # Ours first, so a request is still known as the collection's; the user's after it.
        assert client.meta.config.user_agent_extra == "rotator.aws_iam team/ops"
    assert connection.client("iam").meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert role.client("iam").meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert role.client("iam").get_user()  # the settings make working clients


def test_retries_in_aws_config_replace_ours_key_by_key_but_a_single_attempt_client_stays_single(aws):
    connection = aws.connect(aws_config={"retries": {"mode": "adaptive", "max_attempts": 4}})
    # botocore keeps a retries dict's max_attempts (retries after the first) as the whole count.
    assert connection.client("iam").meta.config.retries == {"mode": "adaptive", "total_max_attempts": 5}
    # CreateAccessKey is never retried blindly, whatever the user asked of the other calls.
    assert connection.client("iam", retries=False).meta.config.retries == {"mode": "adaptive",
                                                                           "total_max_attempts": 1}
    only_mode = aws.connect(aws_config={"retries": {"mode": "adaptive"}})
    assert only_mode.client("iam").meta.config.retries == {"mode": "adaptive", "total_max_attempts": 3}


def test_a_parameter_botocore_does_not_know_is_an_input_error():
    assert connection_errors(params(aws_config={"connect_timeout": 5, "bogus_option": 1})) == [
        "aws_config is not a valid botocore configuration: Got unexpected keyword argument 'bogus_option'"]
    assert connection_errors(params(aws_config={"retries": {"mode": "fast"}})) == [
        "aws_config is not a valid botocore configuration: Invalid value provided to \"mode\": \"fast\" must be "
        "one of: ('legacy', 'standard', 'adaptive')"]
    assert connection_errors(params(aws_config={"connect_timeout": 5})) == []


def test_a_bad_aws_config_fails_the_module_before_any_call(aws, connection_args, run_module):
    key_id = aws.user("alice", keys=1)[0][0]
    seeded = len(aws.calls())
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, users=["alice"], force=True,
                                                            rotate_after_days=0, secret={"type": "none"},
                                                            aws_config={"bogus_option": 1}))
    assert failed is True
    assert result["changed"] is False
    assert result["msg"] == ("aws_config is not a valid botocore configuration: "
                             "Got unexpected keyword argument 'bogus_option'")
    assert aws.calls()[seeded:] == []
    keys = aws.client("iam").list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert [(key["AccessKeyId"], key["Status"]) for key in keys] == [(key_id, "Active")]


def test_the_module_takes_aws_config(aws, connection_args, run_module):
    aws.user("alice", keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, users=["alice"], secret={"type": "none"},
                                                            aws_config={"user_agent_extra": "team/ops"}))
    assert failed is False
    assert [user["status"] for user in result["users"]] == ["compliant"]
    assert result["invocation"]["module_args"]["aws_config"] == {"user_agent_extra": "team/ops"}

"""Cases 8, 10 and 16: destinations AWS would refuse, or that users would share, are refused before any change.

``prepare()`` is the input check both rotation modules run; it gets a
module object with the parameters a play gives, and the stub's AWS.
"""

from __future__ import annotations

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.module import prepare, rotation_argument_spec
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import ACCESS_KEY, PASSWORD
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.registry import SECRET_ARGSPEC

READS = {"GetCallerIdentity"}


class Failed(Exception):
    def __init__(self, **result):
        super().__init__(result["msg"])
        self.result = result


class Module:
    """The part of AnsibleModule that prepare() uses."""

    check_mode = False
    no_log = False

    def __init__(self, params):
        self.params = params

    def fail_json(self, **result):
        raise Failed(**result)


def module(aws, users, **secret):
    params = {name: spec.get("default") for name, spec in rotation_argument_spec().items()}
    params.update(access_key="testing", secret_key="testing", region="us-east-1", endpoint_url=aws.endpoint_url,
                  retry_mode="standard", max_attempts=3, users=users, user_name=None)
    params["secret"] = dict({name: spec.get("default") for name, spec in SECRET_ARGSPEC.items()}, **secret)
    return Module(params)


def refused(aws, users, kind=ACCESS_KEY, **secret):
    with pytest.raises(Failed) as raised:
        prepare(module(aws, users, **secret), (), kind, IAMGateway.for_connection)
    assert raised.value.result["changed"] is False
    assert [call["action"] for call in aws.calls() if call["action"] not in READS] == []
    return str(raised.value)


# --- case 8: one destination for several users ----------------------------------------------------

@pytest.mark.parametrize("secret, where", [
    pytest.param({"type": "secretsmanager", "name": "shared/deployers"}, "secretsmanager shared/deployers",
                 id="secretsmanager"),
    pytest.param({"type": "ssm", "name": "/shared/deployers"}, "ssm /shared/deployers", id="ssm"),
])
def test_several_users_in_one_secret_are_refused(aws, secret, where):
    message = refused(aws, ["alice", "bob", "carol"], **secret)
    assert "users alice, bob, carol would all write %s" % where in message


def test_several_users_in_one_file_are_refused(aws, tmp_path):
    message = refused(aws, ["alice", "bob"], type="file", path=str(tmp_path / "keys.json"))
    assert "users alice, bob would all write file %s" % (tmp_path / "keys.json") in message


def test_several_users_in_one_profile_are_refused(aws, tmp_path):
    path = tmp_path / "credentials"
    message = refused(aws, ["alice", "bob"], type="file", path=str(path), format="credentials", profile="ci")
    assert "users alice, bob would all write file %s profile ci" % path in message


def test_distinct_profiles_of_one_credentials_file_are_accepted(aws, tmp_path):
    path = str(tmp_path / "credentials")
    prepared = prepare(module(aws, ["alice", "bob"], type="file", path=path, format="credentials"), (), ACCESS_KEY,
                       IAMGateway.for_connection)
    users, destinations = prepared.users, prepared.destinations
    assert users == ["alice", "bob"]
    assert [destinations.for_user(user).describe()["profile"] for user in users] == ["alice", "bob"]


# --- case 16: a pending name that is another user's destination ------------------------------------

def test_a_pending_parameter_that_is_another_users_parameter_is_refused(aws):
    message = refused(aws, ["bob", "bob-pending"], PASSWORD, type="ssm", name="/vault/{user_name}")
    assert "users bob, bob-pending would all write ssm /vault/bob-pending" in message


def test_a_pending_file_that_is_another_users_file_is_refused(aws, tmp_path):
    message = refused(aws, ["bob", "bob.pending"], PASSWORD, type="file", path=str(tmp_path / "{user_name}"))
    assert "users bob, bob.pending would all write file %s" % (tmp_path / "bob.pending") in message


# --- case 10: names AWS refuses ------------------------------------------------------------------

def test_a_user_name_with_a_comma_is_no_secrets_manager_name(aws):
    aws.user("ops,admin")
    aws.control("POST", "calls/reset")
    message = refused(aws, ["alice", "ops,admin"])
    assert "secret.name 'rotator/%s/ops,admin/access-key' holds ','" % aws.account in message
    assert "(user ops,admin)" in message and "(user alice)" not in message


@pytest.mark.parametrize("kind", [ACCESS_KEY, PASSWORD])
def test_user_names_with_plus_at_and_equals_are_no_ssm_names(aws, kind):
    message = refused(aws, ["alice", "al+ice@example.com", "x=y"], kind, type="ssm")
    leaf = {ACCESS_KEY: "access-key", PASSWORD: "console-password"}[kind]
    assert "/al+ice@example.com/%s' holds '+' '@'" % leaf in message
    assert "/x=y/%s' holds '=', which parameter names cannot contain" % leaf in message
    assert "(user al+ice@example.com)" in message and "(user x=y)" in message


@pytest.mark.parametrize("kind", [ACCESS_KEY, PASSWORD])
def test_names_aws_accepts_are_accepted(aws, kind):
    users = ["alice", "svc_deploy-1.prod"]
    for secret_type in ("ssm", "secretsmanager"):
        names = prepare(module(aws, users, type=secret_type), (), kind, IAMGateway.for_connection).users
        assert names == users


# --- case 16: owner, group and mode ---------------------------------------------------------------

@pytest.mark.parametrize("settings, expected", [
    pytest.param({"mode": "0999"}, "secret.mode '0999' is not an octal mode", id="mode"),
    pytest.param({"owner": "no-such-owner-here"}, "secret.owner no-such-owner-here does not exist", id="owner"),
    pytest.param({"group": "no-such-group-here"}, "secret.group no-such-group-here does not exist", id="group"),
])
def test_file_attributes_that_cannot_be_applied_are_refused(aws, tmp_path, settings, expected):
    message = refused(aws, ["alice"], type="file", path=str(tmp_path / "{user_name}.json"), **settings)
    assert expected in message
    assert list(tmp_path.iterdir()) == []

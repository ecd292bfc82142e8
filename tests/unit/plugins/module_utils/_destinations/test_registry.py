"""The ``secret`` option built from what each destination declares, its checks, and the factory."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.rotator.aws_iam.plugins.doc_fragments.secret import ModuleDocFragment
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    ACCESS_KEY,
    PASSWORD,
    SecretDestination,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.file import FileDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.none import NoDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.registry import (
    DESTINATIONS,
    SECRET_ARGSPEC,
    DestinationFactory,
    DestinationRegistry,
    secret_errors,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.secretsmanager import SecretsManagerDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.ssm import SSMParameterDestination
from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_password_rotate


class VaultDestination(SecretDestination):
    """A destination as a new file would declare it."""

    type = "vault"
    options = dict(mount=dict(type="str"), namespace=dict(type="str", no_log=True))
    default_names = {ACCESS_KEY: "keys/{user_name}", PASSWORD: "passwords/{user_name}"}

    def __init__(self, path, kind):
        self.path = path
        self.kind = kind

    @classmethod
    def option_errors(cls, options, secret_kind):
        return ["secret.mount is required for secret type vault"] if not options.get("mount") else []

    @classmethod
    def for_user(cls, factory, user_name):
        return cls(factory.expand("%s/%s" % (factory.options["mount"], cls.default_names[factory.kind]), user_name),
                   factory.kind)


def options(**values):
    result = {name: None for name in SECRET_ARGSPEC}
    result.update(values)
    return result


# --- the registry -------------------------------------------------------------------------------

def test_the_secret_option_is_made_of_what_each_destination_declares():
    assert [destination.type for destination in DESTINATIONS] == ["secretsmanager", "ssm", "file", "none"]
    assert SECRET_ARGSPEC == dict(
        type=dict(type="str", choices=["secretsmanager", "ssm", "file", "none"], default="secretsmanager"),
        name=dict(type="str"),
        kms_key_id=dict(type="str"),
        region=dict(type="str"),
        assume_role_arn=dict(type="str"),
        assume_role_external_id=dict(type="str", no_log=True),
        path=dict(type="path"),
        format=dict(type="str", choices=["csv", "credentials", "json"]),
        profile=dict(type="str"),
        owner=dict(type="str"),
        group=dict(type="str"),
        mode=dict(type="raw"),
    )
    for destination in DESTINATIONS:
        assert {name: SECRET_ARGSPEC[name] for name in destination.options} == destination.options


def test_a_new_destination_brings_its_options_into_the_spec():
    registry = DestinationRegistry((SecretsManagerDestination, VaultDestination))
    assert registry.argspec == dict(
        type=dict(type="str", choices=["secretsmanager", "vault"], default="secretsmanager"),
        name=dict(type="str"),
        kms_key_id=dict(type="str"),
        region=dict(type="str"),
        assume_role_arn=dict(type="str"),
        assume_role_external_id=dict(type="str", no_log=True),
        mount=dict(type="str"),
        namespace=dict(type="str", no_log=True),
    )
    assert registry.destination("vault") is VaultDestination


def test_a_new_destination_checks_its_own_options_and_refuses_the_others():
    registry = DestinationRegistry((SecretsManagerDestination, VaultDestination))
    vault = dict.fromkeys(registry.argspec, None)
    assert registry.secret_errors(dict(vault, type="vault", mount="kv")) == []
    assert registry.secret_errors(dict(vault, type="vault", name="{oops}", region="eu-west-1")) == [
        "secret.name does not apply to secret type vault",
        "secret.region does not apply to secret type vault",
        "secret.mount is required for secret type vault",
    ]
    assert registry.secret_errors(dict(vault, type="secretsmanager", mount="kv", name="{oops}"), PASSWORD) == [
        "secret.mount does not apply to secret type secretsmanager",
        "secret.name '{oops}' uses {oops}; only {user_name} and {account_id} are known",
    ]


def test_two_destinations_may_share_an_option_only_if_it_means_one_thing():
    class Clashing(VaultDestination):
        type = "clashing"
        options = dict(name=dict(type="path"))

    assert DestinationRegistry((SecretsManagerDestination, SSMParameterDestination)).argspec["name"] == dict(type="str")
    with pytest.raises(ValueError, match="secret.name of secret type clashing differs"):
        DestinationRegistry((SecretsManagerDestination, Clashing))


def test_the_factory_makes_the_chosen_destination_of_a_registry():
    registry = DestinationRegistry((NoDestination, VaultDestination))
    factory = DestinationFactory({"type": "vault", "mount": "kv/{account_id}"}, None, "123456789012", PASSWORD,
                                 registry=registry)
    destination = factory.for_user("alice")
    assert isinstance(destination, VaultDestination)
    assert (destination.path, destination.kind) == ("kv/123456789012/passwords/alice", PASSWORD)
    assert isinstance(DestinationFactory({"type": "none"}, None, "1", registry=registry).for_user("bob"), NoDestination)


# --- default names and the secrets account ----------------------------------------------------------

class Connection:
    """What the AWS stores use of a connection: clients, the region, other regions and roles."""

    def __init__(self, region="us-east-1", label="module"):
        self.region = region
        self.label = label
        self.base = self
        self.assumed = []

    def client(self, service):
        return (service, self.label, self.region)

    def in_region(self, region):
        return Connection(region, self.label)

    def assume_role(self, role, session_name, external_id, region):
        self.assumed.append((role, session_name, external_id, region))
        return Connection(region, role)


@pytest.mark.parametrize("destination, kind, name", [
    (SecretsManagerDestination, ACCESS_KEY, "rotator/123456789012/alice/access-key"),
    (SecretsManagerDestination, PASSWORD, "rotator/123456789012/alice/console-password"),
    (SSMParameterDestination, ACCESS_KEY, "/rotator/123456789012/alice/access-key"),
    (SSMParameterDestination, PASSWORD, "/rotator/123456789012/alice/console-password"),
])
def test_each_aws_store_has_its_default_name_per_kind(destination, kind, name):
    made = DestinationFactory({"type": destination.type}, Connection(), "123456789012", kind).for_user("alice")
    assert isinstance(made, destination)
    assert (made.name, made.kind, made.client, made.account) == (name, kind, (destination.type, "module", "us-east-1"), "")


@pytest.mark.parametrize("secret_type", ["secretsmanager", "ssm"])
def test_the_secrets_account_is_assumed_once_for_all_users(secret_type):
    connection = Connection()
    role = "arn:aws:iam::222222222222:role/secrets"
    factory = DestinationFactory({"type": secret_type, "name": "central/{user_name}", "assume_role_arn": role,
                                  "assume_role_external_id": "ext", "region": "eu-west-1"}, connection, "123456789012")
    made = [factory.for_user(user) for user in ("alice", "bob")]
    assert connection.assumed == [(role, "rotator-aws-iam-secrets", "ext", "eu-west-1")]
    assert [(each.name, each.client, each.account) for each in made] == [
        ("central/alice", (secret_type, role, "eu-west-1"), role),
        ("central/bob", (secret_type, role, "eu-west-1"), role),
    ]


def test_a_secrets_region_without_a_role_uses_the_module_credentials():
    made = DestinationFactory({"type": "ssm", "region": "eu-west-1"}, Connection(), "123456789012").for_user("alice")
    assert (made.client, made.region) == (("ssm", "module", "eu-west-1"), "eu-west-1")


@pytest.mark.parametrize("module, kind", [(iam_access_key_rotate, ACCESS_KEY), (iam_password_rotate, PASSWORD)])
def test_each_module_documents_the_default_names_the_destinations_declare(module, kind):
    for destination in DESTINATIONS:
        if destination.default_names:
            assert "C(%s)" % destination.default_names[kind] in module.DOCUMENTATION


def test_the_doc_fragment_documents_the_secret_option_the_registry_builds():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["secret"]
    assert (documented["type"], documented["default"]) == ("dict", {"type": "secretsmanager"})
    suboptions = documented["suboptions"]
    assert list(suboptions) == list(SECRET_ARGSPEC)
    for name, spec in SECRET_ARGSPEC.items():
        shown = {key: suboptions[name][key] for key in ("type", "choices", "default") if key in suboptions[name]}
        assert shown == {key: spec[key] for key in ("type", "choices", "default") if key in spec}, name


def test_file_and_none_need_no_name():
    assert FileDestination.default_names == {} and NoDestination.default_names == {}


# --- the secret option's checks -------------------------------------------------------------------

def test_passwords_have_no_credentials_format():
    assert secret_errors(options(type="file", path="/x", format="credentials"), PASSWORD) == [
        "secret.format credentials holds access keys, not passwords; use json or csv"]
    assert secret_errors(options(type="file", path="/x", format="credentials")) == []


STORE_OPTIONS = {"name": "x", "kms_key_id": "alias/x", "region": "eu-west-1",
                 "assume_role_arn": "arn:aws:iam::123456789012:role/R", "assume_role_external_id": "ext"}
FILE_OPTIONS = {"path": "/tmp/x", "format": "credentials", "profile": "p", "owner": "root", "group": "root", "mode": "0600"}


@pytest.mark.parametrize("kind, option, value", [
    pytest.param(kind, option, value, id="%s-%s" % (kind, option))
    for kind, irrelevant in (("secretsmanager", FILE_OPTIONS), ("ssm", FILE_OPTIONS),
                             ("file", STORE_OPTIONS), ("none", dict(STORE_OPTIONS, **FILE_OPTIONS)))
    for option, value in irrelevant.items()
])
def test_options_of_other_types_are_refused(kind, option, value):
    valid = {"file": {"path": "/tmp/x"}}.get(kind, {})
    assert secret_errors(options(type=kind, **valid)) == []
    errors = secret_errors(options(type=kind, **dict(valid, **{option: value})))
    assert "secret.%s does not apply to secret type %s" % (option, kind) in errors


@pytest.mark.parametrize("values", [
    pytest.param({"type": "secretsmanager"}, id="secretsmanager-defaults"),
    pytest.param(dict(STORE_OPTIONS, type="secretsmanager", name="rotator/{account_id}/{user_name}"),
                 id="secretsmanager-all-options"),
    pytest.param(dict(STORE_OPTIONS, type="ssm", name="/rotator/{user_name}"), id="ssm-all-options"),
    pytest.param({"type": "file", "path": "~/keys/{user_name}.csv", "format": "csv"}, id="file-csv"),
    pytest.param({"type": "file", "path": "~/.aws/credentials", "format": "credentials", "profile": "{user_name}"},
                 id="file-credentials-profile"),
    pytest.param({"type": "none"}, id="none"),
])
def test_valid_secret_options(values):
    assert secret_errors(options(**values)) == []
    if values.get("format") != "credentials":
        assert secret_errors(options(**values), PASSWORD) == []


@pytest.mark.parametrize("values, expected", [
    pytest.param({"type": "file"}, "secret.path is required for secret type file", id="file-without-path"),
    pytest.param({"type": "file", "path": ""}, "secret.path is required for secret type file", id="file-empty-path"),
    pytest.param({"type": "file", "path": "/x", "profile": "p"}, "secret.profile applies only to secret.format credentials",
                 id="profile-without-credentials-format"),
    pytest.param({"type": "file", "path": "/x", "format": "json", "profile": "p"},
                 "secret.profile applies only to secret.format credentials", id="profile-with-json-format"),
    pytest.param({"type": "file", "path": "/keys/{user}.csv"}, "uses {user}", id="path-bad-placeholder"),
    pytest.param({"type": "file", "path": "/x", "format": "credentials", "profile": "{name}"}, "uses {name}",
                 id="profile-bad-placeholder"),
    pytest.param({"type": "secretsmanager", "name": "{account}"}, "uses {account}", id="name-bad-placeholder"),
    pytest.param({"type": "ssm", "name": "/x/{user_name"}, "not a valid template", id="name-bad-braces"),
    pytest.param({"type": "secretsmanager", "name": "  "}, "secret.name must not be empty", id="name-blank"),
    pytest.param({"type": "ssm", "name": ""}, "secret.name must not be empty", id="name-empty"),
])
def test_invalid_secret_options(values, expected):
    errors = secret_errors(options(**values))
    assert any(expected in error for error in errors), errors

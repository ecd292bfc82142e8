"""The aws_accounts inventory plugin: names, templates, the OU tree, filters, reading the organization, caching."""

from __future__ import annotations

import importlib

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.release import __version__ as ANSIBLE_CORE_RELEASE
from ansible.template import trust_as_template
from ansible.utils.plugin_docs import add_fragments

from ansible_collections.rotator.aws_iam.plugins.inventory import aws_accounts
from ansible_collections.rotator.aws_iam.plugins.inventory.aws_accounts import (
    CACHE_VERSION,
    InventoryModule,
    OrganizationTree,
    account_id_list,
    check_template,
    fetch_organization,
    host_names,
    host_variables,
    is_active,
    ou_group_names,
    render_template,
    role_arn,
    sanitize_group_name,
    sanitize_host_name,
    select_accounts,
    tag_variable_name,
    tags_match,
)

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws import connection as connection_module
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import CONNECTION_ARGSPEC, connect

ANSIBLE_CORE_VERSION = tuple(int(part) for part in ANSIBLE_CORE_RELEASE.split(".")[:2])

# Root r-1 > Workloads (ou-w) > Prod (ou-p); Root > Sandbox (ou-s); Root > Empty (ou-e)
OUS = [
    {"id": "r-1", "name": "Root", "parent_id": None},
    {"id": "ou-w", "name": "Workloads", "parent_id": "r-1"},
    {"id": "ou-s", "name": "Sandbox", "parent_id": "r-1"},
    {"id": "ou-p", "name": "Prod", "parent_id": "ou-w"},
    {"id": "ou-e", "name": "Empty", "parent_id": "r-1"},
]


def account(account_id, name, parent_id, **tags):
    return {"id": account_id, "name": name, "email": name.replace(" ", "") + "@example.com",
            "arn": "arn:aws:organizations::111111111111:account/o-1/" + account_id, "parent_id": parent_id,
            "tags": tags}


ACCOUNTS = [
    account("111111111111", "management", "r-1"),
    account("222222222222", "Prod App", "ou-p", env="prod", team="payments"),
    account("333333333333", "Legacy", "ou-w", env="prod"),
    account("444444444444", "dev_sandbox", "ou-s", env="dev"),
]


def ids(accounts):
    return [item["id"] for item in accounts]


# -- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, expected", [
    ("Prod App", "prod-app"),
    ("dev_sandbox", "dev_sandbox"),
    ("  Team / Payments (EU) ", "team-payments-eu"),
    ("a--b", "a-b"),
    ("-.leading and trailing.-", "leading-and-trailing"),
    ("Prod.Eu-1", "prod.eu-1"),
    ("Café Ünïcode", "caf-n-code"),
    ("{{ lookup('pipe', 'id') }}", "lookup-pipe-id"),
    ("!!!", ""),
])
def test_sanitize_host_name(name, expected):
    assert sanitize_host_name(name) == expected


@pytest.mark.parametrize("name, expected", [
    ("Root", "root"),
    ("Prod Workloads", "prod_workloads"),
    ("team-a/eu-west", "team_a_eu_west"),
    ("__x__", "x"),
    ("2024 Migration", "_2024_migration"),
    ("ou_Prod", "ou_prod"),
    ("???", ""),
])
def test_sanitize_group_name(name, expected):
    assert sanitize_group_name(name) == expected


@pytest.mark.parametrize("prefix, key, expected", [
    ("aws_account_tag_", "CostCenter", "aws_account_tag_costcenter"),
    ("aws_account_tag_", "cost:center/eu", "aws_account_tag_cost_center_eu"),
    ("t_", "env", "t_env"),
])
def test_tag_variable_name(prefix, key, expected):
    assert tag_variable_name(prefix, key) == expected


# -- templates -----------------------------------------------------------------------------------


def test_render_template_with_every_placeholder():
    rendered = render_template("{account_id}/{account_name}/{account_email}/{{literal}}", ACCOUNTS[1], "t")
    assert rendered == "222222222222/Prod App/ProdApp@example.com/{literal}"


@pytest.mark.parametrize("template, fragment", [
    ("{account}", "has the placeholder {account}"),
    ("{}", "has the placeholder {}"),
    ("{0}", "has the placeholder {0}"),
    ("{account_id.__class__}", "{account_id.__class__}"),
    ("{account_id[0]}", "{account_id[0]}"),
    ("{account_id:>20}", "{account_id:>20}"),
    ("{account_id!r}", "{account_id!r}"),
    ("{account_id", "not a valid format string"),
    ("account_id}", "not a valid format string"),
])
def test_bad_templates_are_refused(template, fragment):
    with pytest.raises(AnsibleError, match="^opt ") as error:
        check_template(template, "opt")
    assert fragment in str(error.value)


def test_role_arn_default_template():
    template = "arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"
    assert role_arn(template, ACCOUNTS[1]) == "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"


def test_role_arn_with_the_account_name():
    assert role_arn("arn:aws:iam::{account_id}:role/rotator-{account_name}", ACCOUNTS[3]) == \
        "arn:aws:iam::444444444444:role/rotator-dev_sandbox"


def test_role_arn_that_is_not_an_arn_fails_naming_the_account():
    with pytest.raises(AnsibleError, match=r"gives 'arn:aws:iam::222222222222:role/Prod App' for account "
                                           r"222222222222 \(Prod App\), which is not an IAM role ARN"):
        role_arn("arn:aws:iam::{account_id}:role/{account_name}", ACCOUNTS[1])


# -- accounts and filters ------------------------------------------------------------------------


@pytest.mark.parametrize("listed, active", [
    ({"Status": "ACTIVE"}, True),
    ({"State": "ACTIVE"}, True),
    ({"Status": "ACTIVE", "State": "ACTIVE"}, True),
    ({"Status": "SUSPENDED"}, False),
    ({"Status": "PENDING_CLOSURE"}, False),
    ({"Status": "ACTIVE", "State": "SUSPENDED"}, False),
    ({"State": "PENDING_ACTIVATION"}, False),
    ({}, False),
])
def test_is_active_prefers_state_to_status(listed, active):
    assert is_active(listed) is active


def test_account_id_list_keeps_leading_zeros_of_unquoted_ids():
    assert account_id_list(["012345678901", 12345678901, " 222222222222 "]) == \
        ["012345678901", "012345678901", "222222222222"]
    assert account_id_list(None) == []


@pytest.mark.parametrize("tag_filters, matches", [
    ({}, True),
    (None, True),
    ({"env": "prod"}, True),
    ({"env": "prod", "team": "payments"}, True),
    ({"env": "dev"}, False),
    ({"env": ["dev", "prod"]}, True),
    ({"env": ["dev", "qa"]}, False),
    ({"owner": "x"}, False),
    ({"size": 3}, True),
])
def test_tags_match(tag_filters, matches):
    assert tags_match({"env": "prod", "team": "payments", "size": "3"}, tag_filters) is matches


def test_tree_ancestry_path_and_subtree():
    tree = OrganizationTree(OUS)
    assert tree.ancestry("ou-p") == ["r-1", "ou-w", "ou-p"]
    assert tree.path("ou-p") == "Root/Workloads/Prod"
    assert tree.path("r-1") == "Root"
    assert tree.ancestry("ou-unknown") == []
    assert tree.subtree(["ou-w"]) == {"ou-w", "ou-p"}
    assert tree.subtree(["r-1"]) == {"r-1", "ou-w", "ou-s", "ou-p", "ou-e"}
    assert tree.group_scope([]) == {"r-1", "ou-w", "ou-s", "ou-p", "ou-e"}
    assert tree.group_scope(["ou-p"]) == {"r-1", "ou-w", "ou-p"}
    assert tree.group_scope(["ou-w", "ou-s"]) == {"r-1", "ou-w", "ou-p", "ou-s"}


def test_tree_survives_a_cycle():
    tree = OrganizationTree([{"id": "a", "name": "A", "parent_id": "b"}, {"id": "b", "name": "B", "parent_id": "a"}])
    assert tree.ancestry("a") == ["b", "a"]
    assert tree.subtree(["a"]) == {"a", "b"}


@pytest.mark.parametrize("ou_ids, tag_filters, exclude, expected", [
    ([], {}, [], ["111111111111", "222222222222", "333333333333", "444444444444"]),
    (["ou-w"], {}, [], ["222222222222", "333333333333"]),
    (["ou-p"], {}, [], ["222222222222"]),
    (["ou-p", "ou-s"], {}, [], ["222222222222", "444444444444"]),
    (["r-1"], {}, [], ["111111111111", "222222222222", "333333333333", "444444444444"]),
    (["ou-e"], {}, [], []),
    ([], {"env": "prod"}, [], ["222222222222", "333333333333"]),
    ([], {"env": "prod"}, ["333333333333"], ["222222222222"]),
    ([], {}, [111111111111, "444444444444"], ["222222222222", "333333333333"]),
    (["ou-w"], {"team": "payments"}, ["222222222222"], []),
], ids=["all", "ou with nested ou", "nested ou", "two ous", "root", "empty ou", "tag", "tag and exclusion",
        "exclusions", "everything"])
def test_select_accounts(ou_ids, tag_filters, exclude, expected):
    assert ids(select_accounts(ACCOUNTS, OrganizationTree(OUS), ou_ids, tag_filters, exclude)) == expected


def test_select_accounts_with_an_unknown_ou_fails():
    with pytest.raises(AnsibleError, match=r"ou_ids: ou-typo not in the organization \(its roots and OUs are "
                                           r"ou-e, ou-p, ou-s, ou-w, r-1\)"):
        select_accounts(ACCOUNTS, OrganizationTree(OUS), ["ou-w", "ou-typo"])


def test_account_outside_the_tree_is_kept_without_ou_filter_only():
    stray = [account("555555555555", "stray", None)]
    assert ids(select_accounts(stray, OrganizationTree(OUS))) == ["555555555555"]
    assert select_accounts(stray, OrganizationTree(OUS), ["r-1"]) == []


# -- host and group names ------------------------------------------------------------------------


def test_host_names_from_names_ids_and_a_template():
    assert host_names(ACCOUNTS) == ({"111111111111": "management", "222222222222": "prod-app",
                                     "333333333333": "legacy", "444444444444": "dev_sandbox"}, [])
    assert host_names(ACCOUNTS, "id")[0]["222222222222"] == "222222222222"
    names, _shared = host_names(ACCOUNTS, "id", "{account_name} ({account_id})")
    assert names["222222222222"] == "prod-app-222222222222"


def test_host_names_that_collide_get_the_account_id():
    accounts = ACCOUNTS + [account("555555555555", "prod app", "ou-s"), account("666666666666", "***", "ou-s")]
    names, shared = host_names(accounts)
    assert names["222222222222"] == "prod-app-222222222222"
    assert names["555555555555"] == "prod-app-555555555555"
    assert names["333333333333"] == "legacy"
    assert names["666666666666"] == "666666666666"
    assert shared == ["prod-app"]


def test_ou_group_names():
    tree = OrganizationTree(OUS)
    assert ou_group_names(tree) == {"r-1": "root", "ou-w": "workloads", "ou-s": "sandbox", "ou-p": "prod",
                                    "ou-e": "empty"}
    assert ou_group_names(tree, "ou_")["ou-p"] == "ou_prod"


def test_ou_group_names_that_collide_or_are_reserved_get_the_ou_id():
    tree = OrganizationTree(OUS + [
        {"id": "ou-p2", "name": "PROD", "parent_id": "ou-s"},
        {"id": "ou-all", "name": "All", "parent_id": "r-1"},
        {"id": "ou-acc", "name": "AWS Accounts", "parent_id": "r-1"},
        {"id": "ou-q", "name": "?!", "parent_id": "r-1"},
    ])
    names = ou_group_names(tree, "", ("all", "ungrouped", "aws_accounts"))
    assert names["ou-p"] == "prod_ou_p"
    assert names["ou-p2"] == "prod_ou_p2"
    assert names["ou-all"] == "all_ou_all"
    assert names["ou-acc"] == "aws_accounts_ou_acc"
    assert names["ou-q"] == "ou_q"
    assert names["ou-w"] == "workloads"
    assert len(set(names.values())) == len(names)


# -- host variables ------------------------------------------------------------------------------


def test_host_variables():
    variables = host_variables(ACCOUNTS[1], OrganizationTree(OUS),
                               "arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole")
    assert variables == {
        "aws_account_id": "222222222222",
        "aws_account_name": "Prod App",
        "aws_account_email": "ProdApp@example.com",
        "aws_account_arn": "arn:aws:organizations::111111111111:account/o-1/222222222222",
        "aws_account_parent_id": "ou-p",
        "aws_account_ou_path": "Root/Workloads/Prod",
        "aws_account_tags": {"env": "prod", "team": "payments"},
        "rotator_assume_role_arn": "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole",
    }


def test_host_variables_with_flattened_tags_never_replace_the_plugins_own():
    item = account("222222222222", "Prod App", "ou-p", **{"Cost:Center": "42", "tags": "x", "id": "evil"})
    variables = host_variables(item, OrganizationTree(OUS), None, True, "aws_account_")
    assert variables["aws_account_cost_center"] == "42"
    assert variables["aws_account_tags"] == {"Cost:Center": "42", "tags": "x", "id": "evil"}
    assert variables["aws_account_id"] == "222222222222"
    assert "rotator_assume_role_arn" not in variables


# -- reading the organization --------------------------------------------------------------------


class FakePaginator:
    def __init__(self, client, operation):
        self.client = client
        self.operation = operation

    def paginate(self, **kwargs):
        """One item per page, so that a caller reading only the first page misses items."""
        self.client.calls.append((self.operation, kwargs))
        key, items = self.client.responses(self.operation, kwargs)
        if not items:
            yield {key: []}
        for index, item in enumerate(items):
            page = {key: [item]}
            if index + 1 < len(items):
                page["NextToken"] = str(index + 1)
            yield page


class FakeOrganizations:
    """list_* answers of an organization: Root > Workloads > Prod, with a suspended account in Workloads."""

    LISTED = [
        {"Id": "111111111111", "Name": "management", "Email": "m@example.com", "Arn": "arn:m", "Status": "ACTIVE"},
        {"Id": "222222222222", "Name": "Prod App", "Email": "p@example.com", "Arn": "arn:p", "State": "ACTIVE",
         "Status": "ACTIVE"},
        {"Id": "333333333333", "Name": "Gone", "Email": "g@example.com", "Arn": "arn:g", "State": "SUSPENDED"},
        {"Id": "444444444444", "Name": "Legacy", "Email": "l@example.com", "Arn": "arn:l", "Status": "ACTIVE"},
    ]
    CHILD_ACCOUNTS = {"r-1": ["111111111111"], "ou-w": ["333333333333", "444444444444"], "ou-p": ["222222222222"]}
    CHILD_OUS = {"r-1": [("ou-w", "Workloads")], "ou-w": [("ou-p", "Prod")], "ou-p": []}
    TAGS = {"111111111111": [], "222222222222": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "pay"}],
            "444444444444": [{"Key": "env", "Value": "prod"}]}

    def __init__(self):
        self.calls = []

    def get_paginator(self, operation):
        return FakePaginator(self, operation)

    def responses(self, operation, kwargs):
        if operation == "list_accounts":
            return "Accounts", self.LISTED
        if operation == "list_roots":
            return "Roots", [{"Id": "r-1", "Name": "Root", "Arn": "arn:r"}]
        if operation == "list_accounts_for_parent":
            return "Accounts", [{"Id": item} for item in self.CHILD_ACCOUNTS[kwargs["ParentId"]]]
        if operation == "list_organizational_units_for_parent":
            return "OrganizationalUnits", [{"Id": i, "Name": n} for i, n in self.CHILD_OUS[kwargs["ParentId"]]]
        if operation == "list_tags_for_resource":
            return "Tags", self.TAGS[kwargs["ResourceId"]]
        raise AssertionError("unexpected call " + operation)


def test_fetch_organization_reads_every_page_and_only_active_accounts():
    client = FakeOrganizations()
    data = fetch_organization(client)
    assert data["version"] == CACHE_VERSION
    assert data["ous"] == [{"id": "r-1", "name": "Root", "parent_id": None},
                           {"id": "ou-w", "name": "Workloads", "parent_id": "r-1"},
                           {"id": "ou-p", "name": "Prod", "parent_id": "ou-w"}]
    assert data["accounts"] == [
        {"id": "111111111111", "name": "management", "email": "m@example.com", "arn": "arn:m", "parent_id": "r-1",
         "tags": {}},
        {"id": "222222222222", "name": "Prod App", "email": "p@example.com", "arn": "arn:p", "parent_id": "ou-p",
         "tags": {"env": "prod", "team": "pay"}},
        {"id": "444444444444", "name": "Legacy", "email": "l@example.com", "arn": "arn:l", "parent_id": "ou-w",
         "tags": {"env": "prod"}},
    ]
    tagged = [kwargs["ResourceId"] for operation, kwargs in client.calls if operation == "list_tags_for_resource"]
    assert tagged == ["111111111111", "222222222222", "444444444444"]
    assert [operation for operation, _kwargs in client.calls].count("list_organizational_units_for_parent") == 3


# -- connection options: Ansible's plugin options, the file over the environment ----------------


class DocFragments:
    """The doc fragment loader add_fragments takes: Ansible's fragments and this collection's, imported directly.

    Ansible's plugin loader needs its collection loader for the collection's fragments, and a plain pytest run has
    none; everything else (merging the fragments, the option definitions, env, precedence, types) is Ansible's own.
    """

    COLLECTION = "rotator.aws_iam."

    def get(self, name):
        if name.startswith(self.COLLECTION):
            module = "ansible_collections.rotator.aws_iam.plugins.doc_fragments." + name[len(self.COLLECTION):]
        else:
            module = "ansible.plugins.doc_fragments." + name
        try:
            fragment = importlib.import_module(module).ModuleDocFragment
        except ImportError:
            return None  # add_fragments then tries the last part of the name as the fragment's variable
        return type("Fragment", (fragment,), {"ansible_name": name})


@pytest.fixture(scope="module")
def plugin_options():
    """The plugin's options registered with Ansible's configuration, as the plugin loader registers them."""
    doc = yaml.load(trust_as_template(aws_accounts.DOCUMENTATION), Loader=AnsibleLoader)
    add_fragments(doc, aws_accounts.__file__, fragment_loader=DocFragments())
    C.config.initialize_plugin_configuration_definitions("inventory", InventoryModule.NAME, doc["options"])
    return doc["options"]


def env_names(spec):
    """The environment variables of a CONNECTION_ARGSPEC option, most preferred first (env_fallback's order)."""
    return spec["fallback"][1] if spec.get("fallback") else []


ENV_OPTIONS = {name: env_names(spec) for name, spec in CONNECTION_ARGSPEC.items() if env_names(spec)}


class RecordingConnection:
    """What connect() returns in these tests: it records the parameters and reads FakeOrganizations."""

    def __init__(self, params):
        self.params = params

    def client(self, service):
        assert service == "organizations"
        return FakeOrganizations()


@pytest.fixture
def read_inventory(plugin_options, tmp_path, monkeypatch):
    """read_inventory(configuration text) -> the parameters connect() got, after a real parse of the file."""
    for names in ENV_OPTIONS.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    connections = []

    def connect(params):
        connections.append(RecordingConnection(params))
        return connections[-1]
    monkeypatch.setattr(aws_accounts, "connect", connect)

    def read(text=""):
        path = tmp_path / "aws_accounts.yml"
        path.write_text("plugin: rotator.aws_iam.aws_accounts\n" + text)
        plugin = InventoryModule()
        plugin._load_name = InventoryModule.NAME
        inventory = InventoryData()
        plugin.parse(inventory, DataLoader(), str(path), cache=False)
        assert sorted(inventory.hosts) == ["legacy", "management", "prod-app"]
        assert len(connections) == 1
        return connections.pop().params
    return read


def test_every_environment_variable_of_the_modules_is_an_env_entry_of_the_plugin(plugin_options):
    # Ansible takes the last of an option's env entries that is set, env_fallback the first: reversed lists.
    documented = {name: [entry["name"] for entry in plugin_options[name].get("env", [])] for name in CONNECTION_ARGSPEC}
    assert documented == {name: list(reversed(env_names(spec))) for name, spec in CONNECTION_ARGSPEC.items()}


# One value per option in the configuration file, another in each of its environment variables.
FILE_AND_ENV = {
    "access_key": ("AKIAFILE", "AKIAENV"),
    "secret_key": ("file-secret", "env-secret"),
    "session_token": ("file-token", "env-token"),
    "profile": ("file-profile", "env-profile"),
    "region": ("eu-west-1", "ap-south-1"),
    "endpoint_url": ("http://127.0.0.1:1", "http://127.0.0.1:2"),
    "aws_ca_bundle": ("/file/ca.pem", "/env/ca.pem"),
    "retry_mode": ("standard", "adaptive"),
    "max_attempts": (3, 7),
}


def test_file_and_env_cover_every_option_with_environment_variables():
    assert set(FILE_AND_ENV) == set(ENV_OPTIONS)


@pytest.mark.parametrize("option, variable", [(option, variable) for option, names in ENV_OPTIONS.items()
                                              for variable in names])
def test_an_option_in_the_file_wins_over_its_environment_variable(read_inventory, monkeypatch, option, variable):
    in_file, in_env = FILE_AND_ENV[option]
    monkeypatch.setenv(variable, str(in_env))
    assert read_inventory("%s: %s\n" % (option, in_file))[option] == in_file


@pytest.mark.parametrize("option, variable", [(option, variable) for option, names in ENV_OPTIONS.items()
                                              for variable in names])
def test_an_option_the_file_omits_comes_from_its_environment_variable(read_inventory, monkeypatch, option, variable):
    _in_file, in_env = FILE_AND_ENV[option]
    monkeypatch.setenv(variable, str(in_env))
    params = read_inventory()
    assert params[option] == in_env
    assert {name: value for name, value in params.items() if name != option and value is not None} == {
        "validate_certs": True, "assume_role_session_name": "rotator-aws-iam", "assume_role_duration_seconds": 3600}


@pytest.mark.parametrize("option", sorted(name for name, names in ENV_OPTIONS.items() if len(names) > 1))
def test_of_several_environment_variables_the_modules_first_one_wins(read_inventory, monkeypatch, option):
    names = ENV_OPTIONS[option]
    for index, variable in enumerate(names):
        monkeypatch.setenv(variable, "value-%d" % index)
    assert read_inventory()[option] == "value-0"
    monkeypatch.delenv(names[0])
    assert read_inventory()[option] == "value-1"


def test_an_alias_in_the_file_wins_over_the_environment(read_inventory, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    params = read_inventory("aws_access_key_id: AKIAFILE\naws_secret_access_key: file-secret\n")
    assert (params["access_key"], params["secret_key"]) == ("AKIAFILE", "file-secret")


def test_options_without_environment_variables_come_from_the_file_or_their_defaults(read_inventory):
    defaults = read_inventory()
    assert {name: value for name, value in defaults.items() if value is not None} == {
        "validate_certs": True, "assume_role_session_name": "rotator-aws-iam", "assume_role_duration_seconds": 3600}
    assert set(defaults) == set(CONNECTION_ARGSPEC)
    params = read_inventory("validate_certs: false\nassume_role_arn: arn:aws:iam::111111111111:role/reader\n"
                            "assume_role_external_id: ext\nassume_role_session_name: s1\n"
                            "assume_role_duration_seconds: 900\n")
    assert (params["validate_certs"], params["assume_role_arn"], params["assume_role_external_id"],
            params["assume_role_session_name"], params["assume_role_duration_seconds"]) == \
        (False, "arn:aws:iam::111111111111:role/reader", "ext", "s1", 900)


def test_a_template_in_the_file_is_rendered_and_one_in_the_environment_is_not(read_inventory, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "{{ 'templated' }}")
    params = read_inventory("profile: \"{{ 'org-' ~ 'reader' }}\"\n")
    assert params["profile"] == "org-reader"
    assert params["secret_key"] == "{{ 'templated' }}"


def test_a_ca_bundle_from_the_environment_is_expanded(read_inventory, monkeypatch):
    monkeypatch.setenv("HOME", "/home/reader")
    monkeypatch.setenv("AWS_CA_BUNDLE", "~/ca.pem")
    assert read_inventory()["aws_ca_bundle"] == "/home/reader/ca.pem"


def test_an_empty_ca_bundle_variable_is_no_bundle(read_inventory, monkeypatch):
    # As for the modules: TLS is checked against the default CAs, not a bundle named "".
    monkeypatch.setenv("AWS_CA_BUNDLE", "")
    assert connect(read_inventory()).verify is True


def test_an_empty_max_attempts_variable_is_unset(read_inventory, monkeypatch):
    # Ansible's rule for an empty environment variable of a typed option: the option's default.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "")
    assert connect(read_inventory()).max_attempts == 10


# ansible-core's own words for a bad option value: 2.19 reworded them and added a help text.
if ANSIBLE_CORE_VERSION >= (2, 19):
    BAD_ENVIRONMENT_VALUES = [
        ("AWS_MAX_ATTEMPTS", "many", "Config 'max_attempts' for 'rotator.aws_iam.aws_accounts' inventory plugin from "
                                     "'env: AWS_MAX_ATTEMPTS' has an invalid value: Invalid value provided for 'int': "
                                     "'many'", None),
        ("AWS_RETRY_MODE", "legacy", "Invalid value 'legacy' for config 'retry_mode' for 'rotator.aws_iam.aws_accounts' "
                                     "inventory plugin.", "Valid values are: standard, adaptive"),
    ]
else:
    BAD_ENVIRONMENT_VALUES = [
        # 2.18 drops the reason after the colon.
        ("AWS_MAX_ATTEMPTS", "many", "Invalid type for configuration option plugin_type: inventory plugin: "
                                     "rotator.aws_iam.aws_accounts setting: max_attempts (from env: AWS_MAX_ATTEMPTS): "
                                     + ("invalid literal for int() with base 10: 'many'"
                                        if ANSIBLE_CORE_VERSION < (2, 18) else ""), None),
        ("AWS_RETRY_MODE", "legacy", 'Invalid value "legacy" for configuration option "plugin_type: inventory plugin: '
                                     'rotator.aws_iam.aws_accounts setting: retry_mode ", valid values are: standard, '
                                     'adaptive', None),
    ]


@pytest.mark.parametrize("variable, value, message, help_text", BAD_ENVIRONMENT_VALUES)
def test_bad_environment_values_fail_before_aws_is_called(read_inventory, monkeypatch, variable, value, message,
                                                          help_text):
    monkeypatch.setenv(variable, value)
    with pytest.raises(AnsibleError) as error:
        read_inventory()
    # The help text is what ansible-inventory prints under the error (2.19 and later).
    assert (str(error.value), getattr(error.value, "_help_text", None)) == (message, help_text)


def test_aws_errors_become_ansible_errors_with_a_hint(read_inventory, monkeypatch):
    import botocore.exceptions

    class Connection:
        def client(self, service):
            assert service == "organizations"
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "AWSOrganizationsNotInUseException", "Message": "not a member"}}, "ListAccounts")

    monkeypatch.setattr(aws_accounts, "connect", lambda params: Connection())
    with pytest.raises(AnsibleError) as error:
        read_inventory()
    assert error.value.message == ("aws_accounts: cannot read the AWS Organization: AWSOrganizationsNotInUseException: "
                                   "not a member; the account of these credentials is not in an AWS Organization")


def test_without_boto3_the_inventory_fails_saying_so(read_inventory, monkeypatch):
    # What an ImportError in _aws/connection.py leaves: no library, and no AWS error to catch.
    monkeypatch.setattr(connection_module, "HAS_BOTO3", False)
    monkeypatch.setattr(aws_accounts, "AWS_ERRORS", ())
    monkeypatch.setattr(aws_accounts, "connect", connect)
    with pytest.raises(AnsibleError) as error:
        read_inventory()
    assert error.value.message == "aws_accounts: boto3 and botocore are required"


def test_connection_errors_become_ansible_errors(read_inventory, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "env-profile")
    monkeypatch.setattr(aws_accounts, "connect", connect)
    with pytest.raises(AnsibleError) as error:
        read_inventory("access_key: AKIAFILE\nsecret_key: file-secret\n")
    assert error.value.message == ("aws_accounts: profile and access_key/secret_key/session_token are mutually "
                                   "exclusive: pass a profile or explicit keys, not both")
    assert "file-secret" not in str(error.value)


# -- the plugin ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, accepted", [
    ("aws_accounts.yml", True),
    ("prod.aws_accounts.yaml", True),
    ("prod_aws_accounts.yml", True),
    ("aws_ec2.yml", False),
    ("aws_accounts.yml.bak", False),
    ("aws_accounts.json", False),
])
def test_verify_file(tmp_path, name, accepted):
    path = tmp_path / name
    path.write_text("plugin: rotator.aws_iam.aws_accounts\n")
    assert InventoryModule().verify_file(str(path)) is accepted


def test_verify_file_of_a_missing_file():
    assert InventoryModule().verify_file("/nonexistent/aws_accounts.yml") is False


PLUGIN_DEFAULTS = dict(
    cache=False, hostname="name", hostname_template=None,
    assume_role_arn_template="arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
    ou_ids=[], tag_filters={}, exclude_account_ids=[], flatten_tags=False, tag_variable_prefix="aws_account_tag_",
    ou_group_prefix="", accounts_group="aws_accounts", strict=False, compose={}, groups={}, keyed_groups=[],
    leading_separator=True, use_extra_vars=False,
)


@pytest.fixture
def plugin(monkeypatch):
    """The plugin with its options as a dict, AWS replaced by fetch_organization's data, and a dict as cache."""
    instance = InventoryModule()
    instance.options = dict(PLUGIN_DEFAULTS)
    instance.fetches = 0
    instance.data = {"version": CACHE_VERSION, "accounts": ACCOUNTS, "ous": OUS}

    def fetch():
        instance.fetches += 1
        return instance.data
    monkeypatch.setattr(instance, "get_option", lambda name: instance.options[name])
    monkeypatch.setattr(instance, "_read_config_data", lambda path: None)
    monkeypatch.setattr(instance, "_fetch", fetch)
    instance._cache = {}
    return instance


def run(plugin, cache=True, **settings):
    plugin.options.update(settings)
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), "/x/aws_accounts.yml", cache=cache)
    return inventory


def members(inventory, group):
    return sorted(host.name for host in inventory.groups[group].hosts)


def children(inventory, group):
    return sorted(child.name for child in inventory.groups[group].child_groups)


def test_parse_makes_hosts_groups_and_variables(plugin):
    inventory = run(plugin)
    assert sorted(inventory.hosts) == ["dev_sandbox", "legacy", "management", "prod-app"]
    assert children(inventory, "root") == ["empty", "sandbox", "workloads"]
    assert children(inventory, "workloads") == ["prod"]
    assert members(inventory, "root") == ["management"]
    assert members(inventory, "workloads") == ["legacy"]
    assert members(inventory, "prod") == ["prod-app"]
    assert members(inventory, "empty") == []
    assert members(inventory, "aws_accounts") == ["dev_sandbox", "legacy", "management", "prod-app"]
    variables = inventory.get_host("prod-app").vars
    assert variables["aws_account_id"] == "222222222222"
    assert variables["aws_account_tags"] == {"env": "prod", "team": "payments"}
    assert variables["rotator_assume_role_arn"] == "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"


def test_parse_with_an_ou_filter_keeps_the_ous_above_and_below(plugin):
    inventory = run(plugin, ou_ids=["ou-w"], ou_group_prefix="ou_", accounts_group="")
    assert sorted(inventory.hosts) == ["legacy", "prod-app"]
    assert "ou_sandbox" not in inventory.groups and "ou_empty" not in inventory.groups
    assert "aws_accounts" not in inventory.groups
    assert children(inventory, "ou_root") == ["ou_workloads"]
    assert children(inventory, "ou_workloads") == ["ou_prod"]
    assert members(inventory, "ou_root") == []


def test_parse_with_tag_filter_exclusion_ids_flattened_tags_and_constructed_options(plugin):
    inventory = run(
        plugin, tag_filters={"env": "prod"}, exclude_account_ids=["333333333333"], hostname="id", flatten_tags=True,
        assume_role_arn_template="arn:aws:iam::{account_id}:role/rotator",
        compose={"rotator_access_key_users": trust_as_template("['ci-' ~ aws_account_tags.team]")},
        keyed_groups=[{"key": trust_as_template("aws_account_tags.env"), "prefix": "env"}],
        groups={"payments": trust_as_template("aws_account_tag_team == 'payments'")},
    )
    assert sorted(inventory.hosts) == ["222222222222"]
    variables = inventory.get_host("222222222222").vars
    assert variables["aws_account_tag_team"] == "payments"
    assert variables["rotator_assume_role_arn"] == "arn:aws:iam::222222222222:role/rotator"
    assert variables["rotator_access_key_users"] == ["ci-payments"]
    assert members(inventory, "env_prod") == ["222222222222"]
    assert members(inventory, "payments") == ["222222222222"]


def test_parse_refuses_bad_templates_before_reading_aws(plugin):
    with pytest.raises(AnsibleError, match="hostname_template"):
        run(plugin, hostname_template="{account_nam}")
    assert plugin.fetches == 0


@pytest.mark.parametrize("group", ["aws-accounts", "1accounts", "aws accounts"])
def test_parse_refuses_a_bad_accounts_group(plugin, group):
    with pytest.raises(AnsibleError, match="accounts_group '%s' is not a valid group name" % group):
        run(plugin, accounts_group=group)
    assert plugin.fetches == 0


def test_parse_with_an_accounts_group_in_capitals(plugin):
    inventory = run(plugin, accounts_group="AWS_Accounts")
    assert members(inventory, "AWS_Accounts") == ["dev_sandbox", "legacy", "management", "prod-app"]


def test_cache_is_read_written_and_refreshed(plugin):
    plugin.options["cache"] = True
    run(plugin)
    assert plugin.fetches == 1
    key = plugin.get_cache_key("/x/aws_accounts.yml")
    assert plugin._cache[key]["accounts"] == ACCOUNTS

    plugin.data = {"version": CACHE_VERSION, "accounts": ACCOUNTS[:1], "ous": OUS}
    inventory = run(plugin)
    assert plugin.fetches == 1, "the second run reads the cache"
    assert len(inventory.hosts) == 4

    inventory = run(plugin, cache=False)
    assert plugin.fetches == 2, "--flush-cache reads AWS again"
    assert sorted(inventory.hosts) == ["management"]
    assert plugin._cache[key]["accounts"] == ACCOUNTS[:1]


def test_cache_of_another_layout_is_replaced(plugin):
    plugin.options["cache"] = True
    plugin._cache[plugin.get_cache_key("/x/aws_accounts.yml")] = {"version": 0, "hosts": []}
    inventory = run(plugin)
    assert plugin.fetches == 1
    assert len(inventory.hosts) == 4
    assert plugin._cache[plugin.get_cache_key("/x/aws_accounts.yml")]["version"] == CACHE_VERSION


def test_no_cache_is_touched_when_caching_is_off(plugin):
    run(plugin)
    run(plugin)
    assert plugin.fetches == 2
    assert not plugin._cache

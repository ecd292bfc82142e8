# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: aws_accounts
short_description: The accounts of an AWS Organization as inventory hosts, its OUs as groups
version_added: 0.1.0
description:
  - Reads the accounts and organizational units (OUs) of an AWS Organization and makes one inventory host per
    active account (C(State) or C(Status) V(ACTIVE)), so a play can rotate IAM credentials in every account.
  - Every OU, the root included, becomes a group named after the OU (sanitised, see O(ou_group_prefix)); a nested
    OU is a child group of its parent OU's group, and an account is a member of the group of the OU it is in.
  - "Each host gets the variables C(aws_account_id), C(aws_account_name), C(aws_account_email), C(aws_account_arn),
    C(aws_account_parent_id) (the OU or root the account is in), C(aws_account_ou_path) (the names of the OUs from
    the root down, joined with C(/)), C(aws_account_tags) (the account's tags as a dictionary) and
    C(rotator_assume_role_arn) (from O(assume_role_arn_template)), which C(playbooks/rotate.yml) and the modules
    of this collection use to reach the account."
  - Uses a YAML configuration file whose name ends with C(aws_accounts.yml) or C(aws_accounts.yaml).
  - The credentials must be allowed to read the organization, that is those of the management account or of a
    delegated administrator account (or a role there, see O(assume_role_arn)).
  - Every list call paginates, and every call retries throttling and transient errors with botocore's retry modes
    (O(retry_mode), O(max_attempts)), as the modules of this collection do.
author:
  - Rotator maintainers (@rotator-aws-iam)
notes:
  - "The calls made are C(organizations:ListAccounts), C(ListRoots), C(ListOrganizationalUnitsForParent),
    C(ListAccountsForParent) (for the root and each OU) and C(ListTagsForResource) (for each active account).
    With O(cache) enabled they are made only when the cache is empty or expired, or with C(--flush-cache)."
  - The cache holds the organization as read from AWS; filters, host names, templates and the constructed options
    are applied on every run, so changing them needs no C(--flush-cache).
  - A connection option in the configuration file wins over its environment variables. Of several environment
    variables of one option, the one listed last is used, which is the one the modules use (for example
    E(AWS_ACCESS_KEY_ID) before E(AWS_ACCESS_KEY) before E(EC2_ACCESS_KEY)).
  - String values of the connection options in the configuration file may be Jinja templates, for example a lookup
    of a vault; values from environment variables are taken as they are.
    O(hostname_template) and O(assume_role_arn_template) are not Jinja but Python format strings.
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - rotator.aws_iam.connection
options:
  plugin:
    description:
      - Marks the file as a configuration of this plugin.
    required: true
    type: str
    choices: [rotator.aws_iam.aws_accounts]
  hostname:
    description:
      - What the name of an account's host is made from, when O(hostname_template) is not set.
      - V(name) is the account name, sanitised (see O(hostname_template)); V(id) is the account ID.
      - When several accounts would get the same host name, each of them gets C(-<account id>) appended and a warning
        is shown.
    type: str
    choices: [name, id]
    default: name
  hostname_template:
    description:
      - A Python format string for the host name, with the placeholders C({account_id}), C({account_name}) and
        C({account_email}); overrides O(hostname).
      - The result is sanitised like account names are with O(hostname=name) (lower case; every run of characters
        other than letters, digits, C(.), C(_) and C(-) becomes one C(-); no C(-) or C(.) at either end).
    type: str
  assume_role_arn_template:
    description:
      - A Python format string for the host variable C(rotator_assume_role_arn), the role the rotation assumes in the
        account, with the placeholders C({account_id}), C({account_name}) and C({account_email}).
      - A result that is not an IAM role ARN fails the inventory, rather than leave a host that would be rotated with
        the credentials of the account the inventory was read from.
      - Set to an empty string to set no C(rotator_assume_role_arn).
    type: str
    default: "arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"
  ou_ids:
    description:
      - Only accounts in these OUs or in OUs nested in them, by OU ID (C(ou-xxxx-xxxxxxxx)) or root ID (C(r-xxxx)).
      - Only these OUs, the OUs nested in them and the OUs above them become groups.
      - An ID that is not in the organization fails the inventory.
      - All accounts when empty.
    type: list
    elements: str
    default: []
  tag_filters:
    description:
      - Only accounts that carry every one of these tags with this value (or, when the value is a list, with one of
        these values).
    type: dict
    default: {}
  exclude_account_ids:
    description:
      - Accounts that never become hosts, by account ID.
      - Quote the IDs in YAML, so that an ID with leading zeros keeps them.
    type: list
    elements: str
    default: []
  flatten_tags:
    description:
      - Also set each account tag as a host variable of its own, named O(tag_variable_prefix) followed by the tag key
        in lower case with every character other than letters, digits and C(_) replaced by C(_).
      - A flattened tag never replaces one of the variables the plugin sets itself.
    type: bool
    default: false
  tag_variable_prefix:
    description:
      - The prefix of the host variables made by O(flatten_tags).
    type: str
    default: aws_account_tag_
  ou_group_prefix:
    description:
      - A prefix for the group names of OUs, to keep them apart from other groups of the inventory.
      - A group name is the prefix and the OU name in lower case, with every run of characters other than letters,
        digits and C(_) replaced by C(_) (and C(_) in front when it would start with a digit). When several OUs would
        get the same group name, or an OU would get a reserved name (C(all), C(ungrouped), O(accounts_group)),
        C(_<ou id>) is appended.
    type: str
    default: ""
  accounts_group:
    description:
      - A group every account host is in, whatever its OU; set to an empty string for none.
    type: str
    default: aws_accounts
  assume_role_arn:
    description:
      - The ARN of a role to assume with the credentials above to read the organization, usually a role in the
        management account or in a delegated administrator account.
      - This is not the role the rotation assumes in each account; that is O(assume_role_arn_template).
  # The connection options that the modules also read from environment variables, with the same variables as env:
  # entries. The modules take the first variable that is set, Ansible the last, hence the reversed lists.
  access_key:
    description:
      - AWS access key ID. With neither keys nor O(profile), boto3's default credential chain is used.
      - Mutually exclusive with O(profile).
    type: str
    aliases: [aws_access_key_id, aws_access_key, ec2_access_key]
    env:
      - name: EC2_ACCESS_KEY
      - name: AWS_ACCESS_KEY
      - name: AWS_ACCESS_KEY_ID
  secret_key:
    description:
      - AWS secret access key.
    type: str
    aliases: [aws_secret_access_key, aws_secret_key, ec2_secret_key]
    env:
      - name: EC2_SECRET_KEY
      - name: AWS_SECRET_KEY
      - name: AWS_SECRET_ACCESS_KEY
  session_token:
    description:
      - AWS STS session token for temporary credentials.
    type: str
    aliases: [aws_session_token, security_token, aws_security_token, access_token]
    env:
      - name: EC2_SECURITY_TOKEN
      - name: AWS_SECURITY_TOKEN
      - name: AWS_SESSION_TOKEN
  profile:
    description:
      - A named profile of the AWS configuration files.
      - Mutually exclusive with O(access_key), O(secret_key) and O(session_token).
    type: str
    aliases: [aws_profile]
    env:
      - name: AWS_DEFAULT_PROFILE
      - name: AWS_PROFILE
  region:
    description:
      - The AWS region of the API endpoints; C(us-east-1) when not set.
    type: str
    aliases: [aws_region, ec2_region]
    env:
      - name: EC2_REGION
      - name: AWS_DEFAULT_REGION
      - name: AWS_REGION
  endpoint_url:
    description:
      - Use a custom endpoint instead of the AWS service endpoints, for example a local test server.
    type: str
    aliases: [aws_endpoint_url, ec2_url, s3_url]
    env:
      - name: EC2_URL
      - name: AWS_URL
      - name: AWS_ENDPOINT_URL
  aws_ca_bundle:
    description:
      - A CA bundle to validate TLS certificates with.
    type: path
    env:
      - name: AWS_CA_BUNDLE
  retry_mode:
    description:
      - The botocore retry mode for throttling and transient errors; V(standard) when not set.
    type: str
    choices: [standard, adaptive]
    env:
      - name: AWS_RETRY_MODE
  max_attempts:
    description:
      - The most attempts of one API call, the first included; V(10) when not set.
    type: int
    env:
      - name: AWS_MAX_ATTEMPTS
"""

EXAMPLES = r"""
# aws_accounts.yml: every active account of the organization, with the credentials of the environment
# (AWS_PROFILE, AWS_ACCESS_KEY_ID, ..., or an instance role) of the management account.
plugin: rotator.aws_iam.aws_accounts

---
# prod_aws_accounts.yml: the production OU only, without the break-glass account, through a role in the
# management account, rotating through a role of your own in each account.
plugin: rotator.aws_iam.aws_accounts
assume_role_arn: arn:aws:iam::111111111111:role/org-inventory-reader
assume_role_external_id: "{{ lookup('ansible.builtin.env', 'ORG_READER_EXTERNAL_ID') }}"
ou_ids: [ou-ab12-prod0001]
exclude_account_ids: ["222222222222"]
tag_filters:
  rotation: enabled
  environment: [prod, staging]
assume_role_arn_template: "arn:aws:iam::{account_id}:role/iam-rotator"
hostname_template: "{account_name}-{account_id}"
ou_group_prefix: ou_
flatten_tags: true
# The organization is read once an hour at most.
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-aws-accounts
cache_timeout: 3600
# Constructed variables and groups, from the host variables above.
compose:
  rotator_access_key_users: aws_account_tags['rotation:users'] | default('') | split(',') | select | list
keyed_groups:
  - key: aws_account_tags.environment | default('none')
    prefix: env
groups:
  payments: aws_account_tags.team | default('') == 'payments'
"""

import os
import re
import string
from collections import Counter, deque

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    AWS_ERRORS,
    CONNECTION_ARGSPEC,
    ROLE_ARN_PATTERN,
    AWSConnectionError,
    connect,
    error_code,
    error_message,
)

# The layout of the cached organization; a cache of another layout is read again from AWS.
CACHE_VERSION = 1
TEMPLATE_FIELDS = ("account_id", "account_name", "account_email")
RESERVED_GROUPS = ("all", "ungrouped")
GROUP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ORGANIZATION_HINTS = {
    "AWSOrganizationsNotInUseException": "the account of these credentials is not in an AWS Organization",
    "AccessDeniedException": "read the organization with the credentials of its management account or of a "
                             "delegated administrator account",
}


# -- pure parts: names, templates, the OU tree and the filters ----------------------------------


def sanitize_host_name(name):
    """A host name from an account name: lower case, runs of other characters than [a-z0-9._-] made one '-'."""
    text = re.sub(r"[^a-z0-9._-]+", "-", to_native(name).strip().lower())
    return re.sub(r"-{2,}", "-", text).strip("-.")


def sanitize_group_name(name):
    """A group name that is a valid variable name: lower case, runs of other characters than [a-z0-9_] made one '_'."""
    text = re.sub(r"[^a-z0-9_]+", "_", to_native(name).strip().lower())
    text = re.sub(r"_{2,}", "_", text).strip("_")
    if text[:1].isdigit():
        text = "_" + text
    return text


def tag_variable_name(prefix, key):
    return prefix + re.sub(r"[^a-z0-9_]", "_", to_native(key).lower())


def template_fields(account):
    return {"account_id": account["id"], "account_name": account["name"], "account_email": account["email"]}


def check_template(template, option):
    """Fail on a format string with other placeholders than TEMPLATE_FIELDS (no attributes, indexes or specs)."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise AnsibleError("%s %r is not a valid format string: %s" % (option, template, exc)) from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS or spec or conversion:
            raise AnsibleError("%s %r has the placeholder {%s}; the placeholders are %s"
                               % (option, template, field + ("!" + conversion if conversion else "")
                                  + (":" + spec if spec else ""),
                                  ", ".join("{%s}" % name for name in TEMPLATE_FIELDS)))


def render_template(template, account, option):
    check_template(template, option)
    return template.format_map(template_fields(account))


def role_arn(template, account):
    """The role to assume in the account, checked to be a role ARN."""
    arn = render_template(template, account, "assume_role_arn_template")
    if not ROLE_ARN_PATTERN.match(arn):
        raise AnsibleError("assume_role_arn_template %r gives %r for account %s (%s), which is not an IAM role ARN "
                           "(arn:aws:iam::123456789012:role/Name)" % (template, arn, account["id"], account["name"]))
    return arn


def is_active(account):
    """Whether an account of ListAccounts is active; State replaces the deprecated Status."""
    return (account.get("State") or account.get("Status")) == "ACTIVE"


def account_id_list(values):
    """Account IDs as strings; an unquoted ID that YAML read as an integer gets its leading zeros back."""
    return [("%012d" % value) if isinstance(value, int) else to_native(value).strip() for value in values or []]


def tags_match(tags, tag_filters):
    """Whether the tags carry every key of tag_filters with its value, or one of its values when it is a list."""
    for key, wanted in (tag_filters or {}).items():
        value = tags.get(key)
        if value is None:
            return False
        choices = wanted if isinstance(wanted, (list, tuple)) else [wanted]
        if value not in [to_native(choice) for choice in choices]:
            return False
    return True


class OrganizationTree:
    """The root(s) and OUs of an organization: [{"id", "name", "parent_id"}], parents before children or not."""

    def __init__(self, ous):
        self.ous = {ou["id"]: ou for ou in ous}
        self.children = {}
        for ou in ous:
            self.children.setdefault(ou["parent_id"], []).append(ou["id"])

    def ancestry(self, node_id):
        """The IDs from the root down to node_id, inclusive; [] for an unknown node."""
        chain = []
        while node_id in self.ous and node_id not in chain:
            chain.append(node_id)
            node_id = self.ous[node_id]["parent_id"]
        return chain[::-1]

    def path(self, node_id):
        return "/".join(self.ous[node]["name"] for node in self.ancestry(node_id))

    def subtree(self, node_ids):
        """The given nodes and every node nested in them."""
        found = set()
        queue = deque(node_ids)
        while queue:
            node = queue.popleft()
            if node in found:
                continue
            found.add(node)
            queue.extend(self.children.get(node, []))
        return found

    def unknown(self, node_ids):
        return [node for node in node_ids if node not in self.ous]

    def group_scope(self, ou_ids):
        """The OUs that become groups: all of them, or the selected ones, those nested in them and those above."""
        if not ou_ids:
            return set(self.ous)
        scope = self.subtree(ou_ids)
        for node in ou_ids:
            scope.update(self.ancestry(node))
        return scope


def select_accounts(accounts, tree, ou_ids=(), tag_filters=None, exclude_account_ids=()):
    """The accounts that become hosts, in their original order."""
    ou_ids = list(ou_ids or [])
    unknown = tree.unknown(ou_ids)
    if unknown:
        raise AnsibleError("ou_ids: %s not in the organization (its roots and OUs are %s)"
                           % (", ".join(unknown), ", ".join(sorted(tree.ous)) or "none"))
    scope = tree.subtree(ou_ids) if ou_ids else None
    excluded = set(account_id_list(exclude_account_ids))
    selected = []
    for account in accounts:
        if account["id"] in excluded:
            continue
        if scope is not None and account.get("parent_id") not in scope:
            continue
        if not tags_match(account.get("tags") or {}, tag_filters):
            continue
        selected.append(account)
    return selected


def host_names(accounts, hostname="name", hostname_template=None):
    """{account id: host name}, and the names that several accounts would have had."""
    if hostname_template:
        check_template(hostname_template, "hostname_template")
    names = {}
    for account in accounts:
        if hostname_template:
            raw = render_template(hostname_template, account, "hostname_template")
        elif hostname == "id":
            raw = account["id"]
        else:
            raw = account["name"]
        names[account["id"]] = sanitize_host_name(raw) or account["id"]
    counts = Counter(names.values())
    shared = sorted(name for name, count in counts.items() if count > 1)
    for account_id, name in names.items():
        if counts[name] > 1:
            names[account_id] = "%s-%s" % (name, account_id)
    return names, shared


def ou_group_names(tree, prefix="", reserved=()):
    """{OU id: group name}; names that collide, or are reserved, get the OU ID appended."""
    base = {}
    for ou_id, ou in tree.ous.items():
        base[ou_id] = sanitize_group_name(prefix + ou["name"]) or sanitize_group_name(prefix + ou_id)
    counts = Counter(base.values())
    reserved = set(reserved)
    return {ou_id: sanitize_group_name("%s_%s" % (name, ou_id)) if counts[name] > 1 or name in reserved else name
            for ou_id, name in base.items()}


def host_variables(account, tree, assume_role_arn_template=None, flatten_tags=False,
                   tag_variable_prefix="aws_account_tag_"):
    """The variables of an account's host."""
    tags = dict(account.get("tags") or {})
    variables = {}
    if flatten_tags:
        for key, value in tags.items():
            variables[tag_variable_name(tag_variable_prefix, key)] = value
    parent_id = account.get("parent_id")
    variables.update(
        aws_account_id=account["id"],
        aws_account_name=account["name"],
        aws_account_email=account["email"],
        aws_account_arn=account.get("arn", ""),
        aws_account_parent_id=parent_id,
        aws_account_ou_path=tree.path(parent_id) if parent_id else "",
        aws_account_tags=tags,
    )
    if assume_role_arn_template:
        variables["rotator_assume_role_arn"] = role_arn(assume_role_arn_template, account)
    return variables


# -- reading the organization ----------------------------------------------------------------


def paginate(client, operation, key, **kwargs):
    """Every item of every page of a list call."""
    items = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key) or [])
    return items


def fetch_organization(client):
    """The active accounts (with their tags and OU) and the OU tree, as plain JSON-able data for the cache."""
    listed = [account for account in paginate(client, "list_accounts", "Accounts") if is_active(account)]
    ous = []
    parents = {}
    queue = deque()
    for root in paginate(client, "list_roots", "Roots"):
        ous.append({"id": root["Id"], "name": root.get("Name") or "Root", "parent_id": None})
        queue.append(root["Id"])
    seen = set()
    while queue:
        parent = queue.popleft()
        if parent in seen:
            continue
        seen.add(parent)
        for account in paginate(client, "list_accounts_for_parent", "Accounts", ParentId=parent):
            parents[account["Id"]] = parent
        for ou in paginate(client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent):
            ous.append({"id": ou["Id"], "name": ou.get("Name") or ou["Id"], "parent_id": parent})
            queue.append(ou["Id"])
    accounts = []
    for account in listed:
        tags = paginate(client, "list_tags_for_resource", "Tags", ResourceId=account["Id"])
        accounts.append({
            "id": account["Id"],
            "name": account.get("Name") or "",
            "email": account.get("Email") or "",
            "arn": account.get("Arn") or "",
            "parent_id": parents.get(account["Id"]),
            "tags": {tag["Key"]: tag["Value"] for tag in tags},
        })
    return {"version": CACHE_VERSION, "accounts": accounts, "ous": ous}


def valid_cache(data):
    return isinstance(data, dict) and data.get("version") == CACHE_VERSION and isinstance(data.get("accounts"), list)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "rotator.aws_iam.aws_accounts"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("aws_accounts.yml", "aws_accounts.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._file_options = self._read_config_data(path)
        settings = self._settings()

        cache_key = self.get_cache_key(path)
        user_cache_setting = self.get_option("cache")
        read_cache = user_cache_setting and cache
        update_cache = user_cache_setting and not cache
        data = None
        if read_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if not valid_cache(data):
            data = self._fetch()
            update_cache = update_cache or bool(read_cache)
        if update_cache:
            self._cache[cache_key] = data
        self._populate(data, settings)

    def _settings(self):
        """The options of the plugin's own, checked before anything is read from AWS."""
        settings = dict(
            hostname=self.get_option("hostname"),
            hostname_template=self.get_option("hostname_template") or None,
            assume_role_arn_template=self.get_option("assume_role_arn_template") or None,
            ou_ids=[to_native(ou) for ou in self.get_option("ou_ids") or []],
            tag_filters=self.get_option("tag_filters") or {},
            exclude_account_ids=account_id_list(self.get_option("exclude_account_ids")),
            flatten_tags=self.get_option("flatten_tags"),
            tag_variable_prefix=self.get_option("tag_variable_prefix") or "",
            ou_group_prefix=self.get_option("ou_group_prefix") or "",
            accounts_group=self.get_option("accounts_group") or None,
        )
        for option in ("hostname_template", "assume_role_arn_template"):
            if settings[option]:
                check_template(settings[option], option)
        if not isinstance(settings["tag_filters"], dict):
            raise AnsibleError("tag_filters must be a dictionary of tag keys and values")
        if settings["accounts_group"] and not GROUP_NAME.match(settings["accounts_group"]):
            raise AnsibleError("accounts_group %r is not a valid group name (letters, digits and _, not starting "
                               "with a digit)" % settings["accounts_group"])
        return settings

    def _connection_params(self):
        """The parameters connect() takes: each option from the configuration file, else from its env: entries."""
        params = {name: self._option(name) for name in CONNECTION_ARGSPEC}
        if self._option_and_origin("aws_ca_bundle")[1] == "env: AWS_CA_BUNDLE" and not os.environ["AWS_CA_BUNDLE"]:
            # Ansible makes an empty path the working directory; to the modules an empty variable is no bundle.
            params["aws_ca_bundle"] = None
        return params

    def _option_and_origin(self, name):
        """An option's value and where it comes from ("Direct": the configuration file).

        ansible-core 2.17 and 2.18's get_option_and_origin() looks the option
        up again without the file's values, so a value set in the file would
        lose to its environment variable or default; this is the lookup
        set_options() made with them, the same on every version.
        """
        return C.config.get_config_value_and_origin(name, plugin_type="inventory", plugin_name=self._load_name,
                                                    direct=getattr(self, "_file_options", None))

    def _option(self, name):
        """An option's value; one from the configuration file is templated when it is a (trusted) Jinja template.

        Ansible tags environment values as trusted too, but they are taken as they are, as the modules take them.
        """
        value, origin = self._option_and_origin(name)
        if origin == "Direct" and isinstance(value, str) and self.templar.is_template(value):
            value = self.templar.template(value)
        return value

    def _fetch(self):
        try:
            connection = connect(self._connection_params())
            return fetch_organization(connection.client("organizations"))
        except AWSConnectionError as exc:
            raise AnsibleError("aws_accounts: %s" % exc) from None
        except AWS_ERRORS as exc:
            hint = ORGANIZATION_HINTS.get(error_code(exc))
            raise AnsibleError("aws_accounts: cannot read the AWS Organization: %s%s"
                               % (error_message(exc), "; " + hint if hint else "")) from None

    def _populate(self, data, settings):
        tree = OrganizationTree(data.get("ous") or [])
        accounts = select_accounts(data["accounts"], tree, settings["ou_ids"], settings["tag_filters"],
                                   settings["exclude_account_ids"])
        reserved = RESERVED_GROUPS + ((settings["accounts_group"],) if settings["accounts_group"] else ())
        groups = ou_group_names(tree, settings["ou_group_prefix"], reserved)
        scope = tree.group_scope(settings["ou_ids"])
        for ou_id in tree.ous:
            if ou_id in scope:
                self.inventory.add_group(groups[ou_id])
        for ou_id, ou in tree.ous.items():
            if ou_id in scope and ou["parent_id"] in scope:
                self.inventory.add_child(groups[ou["parent_id"]], groups[ou_id])
        if settings["accounts_group"]:
            self.inventory.add_group(settings["accounts_group"])

        names, shared = host_names(accounts, settings["hostname"], settings["hostname_template"])
        if shared:
            self.display.warning("aws_accounts: several accounts would be named %s; their host names end with "
                                 "their account ID" % ", ".join(shared))
        strict = self.get_option("strict")
        for account in accounts:
            host = names[account["id"]]
            variables = host_variables(account, tree, settings["assume_role_arn_template"], settings["flatten_tags"],
                                       settings["tag_variable_prefix"])
            self.inventory.add_host(host)
            if account.get("parent_id") in scope:
                self.inventory.add_child(groups[account["parent_id"]], host)
            if settings["accounts_group"]:
                self.inventory.add_child(settings["accounts_group"], host)
            for key, value in variables.items():
                self.inventory.set_variable(host, key, value)
            self._set_composite_vars(self.get_option("compose"), variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)

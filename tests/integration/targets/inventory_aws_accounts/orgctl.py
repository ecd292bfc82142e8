"""Test-side helper of the inventory_aws_accounts target: seeds an AWS Organization in the stub, checks inventories.

    orgctl.py --config CONFIG --work-dir DIR seed          reset the stub, create the organization, print nothing secret
    orgctl.py --config CONFIG --work-dir DIR get KIND NAME print an ID of the seeded organization (ou, account)
    orgctl.py --config CONFIG --work-dir DIR check CASE FILE   check an `ansible-inventory --list` output
    orgctl.py --config CONFIG --work-dir DIR check-cache DIR   check the inventory cache written by the plugin
    orgctl.py --config CONFIG --work-dir DIR calls-reset | org-calls   the Organizations calls the stub saw

The organization (moto gives member accounts random IDs; the management account is 123456789012):

    Root (r-...)                      master                  no tags
    +-- Workloads                     Legacy                  env=prod
    |   +-- Prod                      Prod App                env=prod, team=payments, rotation:users=ci-deployer
    +-- Sandbox                       dev_sandbox             env=dev
    (Root)                            Closed One (suspended)  env=prod

The IAM user ci-deployer, with one access key, lives in the account Prod App only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import boto3
import botocore.config
import yaml

CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3})
MANAGEMENT_ACCOUNT = "123456789012"
ORG_ACTIONS = ("ListAccounts", "ListRoots", "ListOrganizationalUnitsForParent", "ListAccountsForParent",
               "ListTagsForResource", "ListChildren", "ListParents", "DescribeOrganization")
ACCOUNTS = [
    # name, OU, tags
    ("Prod App", "Prod", {"env": "prod", "team": "payments", "rotation:users": "ci-deployer"}),
    ("dev_sandbox", "Sandbox", {"env": "dev"}),
    ("Legacy", "Workloads", {"env": "prod"}),
    ("Closed One", None, {"env": "prod"}),
]
ROLE = "arn:aws:iam::%s:role/OrganizationAccountAccessRole"


class Context:
    def __init__(self, args):
        with open(args.config) as handle:
            self.config = yaml.safe_load(handle)
        self.work_dir = args.work_dir
        self.state_path = os.path.join(self.work_dir, "org.json")

    def session(self, role_arn=None):
        base = boto3.session.Session(aws_access_key_id=self.config["aws_access_key"],
                                     aws_secret_access_key=self.config["aws_secret_key"],
                                     region_name=self.config["aws_region"])
        if not role_arn:
            return base
        credentials = self.client("sts", base).assume_role(RoleArn=role_arn, RoleSessionName="orgctl")["Credentials"]
        return boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                     aws_secret_access_key=credentials["SecretAccessKey"],
                                     aws_session_token=credentials["SessionToken"],
                                     region_name=self.config["aws_region"])

    def client(self, service, session=None):
        return (session or self.session()).client(service, endpoint_url=self.config["aws_endpoint_url"], config=CONFIG)

    def stubctl(self, *words):
        out = subprocess.run([sys.executable, self.config["stubctl"], "--state-file", self.config["stub_state_file"],
                              *words], check=True, capture_output=True, text=True)
        return json.loads(out.stdout or "{}")

    def state(self):
        with open(self.state_path) as handle:
            return json.load(handle)


def seed(ctx):
    ctx.stubctl("reset")
    org = ctx.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ous = {"Root": root}
    for name, parent in (("Workloads", "Root"), ("Prod", "Workloads"), ("Sandbox", "Root")):
        ous[name] = org.create_organizational_unit(ParentId=ous[parent], Name=name)["OrganizationalUnit"]["Id"]
    accounts = {"master": MANAGEMENT_ACCOUNT}
    for name, ou, tags in ACCOUNTS:
        status = org.create_account(Email="%s@example.com" % name.replace(" ", "").lower(), AccountName=name,
                                    Tags=[{"Key": key, "Value": value} for key, value in tags.items()])
        account_id = status["CreateAccountStatus"]["AccountId"]
        accounts[name] = account_id
        if ou:
            org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=ous[ou])
    org.close_account(AccountId=accounts["Closed One"])
    iam = ctx.client("iam", ctx.session(ROLE % accounts["Prod App"]))
    iam.create_user(UserName="ci-deployer")
    key_id = iam.create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    state = {"ous": ous, "accounts": accounts, "seeded_key": key_id}
    with open(ctx.state_path, "w") as handle:
        json.dump(state, handle)
    return state


def unwrap(value):
    """ansible-inventory --list marks values from inventory plugins as {"__ansible_unsafe": value}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


class Inventory:
    def __init__(self, path):
        with open(path) as handle:
            self.data = unwrap(json.load(handle))
        self.hostvars = self.data.get("_meta", {}).get("hostvars", {})

    def hosts(self):
        return sorted(self.hostvars)

    def groups(self):
        return sorted(name for name in self.data if name != "_meta")

    def members(self, group):
        return sorted(self.data.get(group, {}).get("hosts", []))

    def children(self, group):
        return sorted(self.data.get(group, {}).get("children", []))


class Checker:
    def __init__(self):
        self.failures = []

    def equal(self, what, actual, expected):
        if actual != expected:
            self.failures.append("%s: expected %r, got %r" % (what, expected, actual))


def role(account_id, name="OrganizationAccountAccessRole"):
    return "arn:aws:iam::%s:role/%s" % (account_id, name)


def check_all(inv, state, check):
    """Every active account, the OU tree as groups, the host variables, a composed variable."""
    ids = state["accounts"]
    check.equal("hosts", inv.hosts(), ["dev_sandbox", "legacy", "master", "prod-app"])
    check.equal("root children", inv.children("root"), ["sandbox", "workloads"])
    check.equal("workloads children", inv.children("workloads"), ["prod"])
    check.equal("root hosts", inv.members("root"), ["master"])
    check.equal("workloads hosts", inv.members("workloads"), ["legacy"])
    check.equal("prod hosts", inv.members("prod"), ["prod-app"])
    check.equal("sandbox hosts", inv.members("sandbox"), ["dev_sandbox"])
    check.equal("aws_accounts hosts", inv.members("aws_accounts"), inv.hosts())
    check.equal("all children", sorted(inv.children("all")), ["aws_accounts", "root", "ungrouped"])
    prod = inv.hostvars["prod-app"]
    check.equal("prod-app variables", {key: value for key, value in prod.items() if key != "aws_account_arn"}, {
        "aws_account_id": ids["Prod App"],
        "aws_account_name": "Prod App",
        "aws_account_email": "prodapp@example.com",
        "aws_account_parent_id": state["ous"]["Prod"],
        "aws_account_ou_path": "Root/Workloads/Prod",
        "aws_account_tags": {"env": "prod", "team": "payments", "rotation:users": "ci-deployer"},
        "rotator_assume_role_arn": role(ids["Prod App"]),
        "rotator_access_key_users": ["ci-deployer"],
    })
    check.equal("prod-app arn", prod["aws_account_arn"].endswith("/" + ids["Prod App"]), True)
    for host, name in (("legacy", "Legacy"), ("dev_sandbox", "dev_sandbox"), ("master", "master")):
        check.equal(host + " id", inv.hostvars[host]["aws_account_id"], ids[name])
        check.equal(host + " role", inv.hostvars[host]["rotator_assume_role_arn"], role(ids[name]))
        check.equal(host + " users", inv.hostvars[host]["rotator_access_key_users"], [])
    check.equal("master OU path", inv.hostvars["master"]["aws_account_ou_path"], "Root")


def check_ou(inv, state, check):
    """ou_ids: the accounts under Workloads, Prod included; the groups above and below Workloads only."""
    check.equal("hosts", inv.hosts(), ["legacy", "prod-app"])
    check.equal("groups", sorted(set(inv.groups()) - {"all", "ungrouped"}), ["aws_accounts", "prod", "root", "workloads"])
    check.equal("root children", inv.children("root"), ["workloads"])
    check.equal("workloads children", inv.children("workloads"), ["prod"])
    check.equal("prod-app parent", inv.hostvars["prod-app"]["aws_account_parent_id"], state["ous"]["Prod"])


def check_tag(inv, state, check):
    """tag_filters and a role template with the account name."""
    check.equal("hosts", inv.hosts(), ["dev_sandbox"])
    check.equal("role", inv.hostvars["dev_sandbox"]["rotator_assume_role_arn"],
                role(state["accounts"]["dev_sandbox"], "rotator-dev_sandbox"))
    check.equal("sandbox hosts", inv.members("sandbox"), ["dev_sandbox"])


def check_exclude(inv, state, check):
    """exclude_account_ids, IDs as host names, flattened tags, keyed groups, an OU group prefix, no role."""
    ids = state["accounts"]
    check.equal("hosts", inv.hosts(), sorted([ids["Prod App"], ids["dev_sandbox"]]))
    check.equal("env_prod", inv.members("env_prod"), [ids["Prod App"]])
    check.equal("env_dev", inv.members("env_dev"), [ids["dev_sandbox"]])
    check.equal("ou_prod", inv.members("ou_prod"), [ids["Prod App"]])
    check.equal("no aws_accounts group", "aws_accounts" in inv.groups(), False)
    prod = inv.hostvars[ids["Prod App"]]
    check.equal("flattened tags", {key: value for key, value in prod.items() if key.startswith("tag_")},
                {"tag_env": "prod", "tag_team": "payments", "tag_rotation_users": "ci-deployer"})
    check.equal("no role", "rotator_assume_role_arn" in prod, False)


def check_example(inv, state, check):
    """The example inventory's plugin configuration, with its group_vars, against the stub."""
    ids = state["accounts"]
    check.equal("hosts", inv.hosts(), ["dev_sandbox", "legacy", "master", "prod-app"])
    for host, name in (("prod-app", "Prod App"), ("legacy", "Legacy")):
        check.equal(host + " role", inv.hostvars[host]["rotator_assume_role_arn"], role(ids[name], "iam-rotator"))


CHECKS = {"all": check_all, "ou": check_ou, "tag": check_tag, "exclude": check_exclude, "cached": check_all,
          "example": check_example}


def check_cache(ctx, directory):
    """The jsonfile cache holds one entry: the organization as the plugin read it (four active accounts)."""
    files = sorted(os.listdir(directory))
    if len(files) != 1 or not files[0].startswith("ansible_inventory_"):
        return "expected one ansible_inventory_* file in %s, found %s" % (directory, files)
    with open(os.path.join(directory, files[0])) as handle:
        document = json.load(handle)
    # ansible-core 2.19's jsonfile plugin wraps the value as {"__payload__": "<json>"}.
    data = json.loads(document["__payload__"]) if "__payload__" in document else document
    accounts = ctx.state()["accounts"]
    expected = sorted(accounts[name] for name in ("master", "Prod App", "dev_sandbox", "Legacy"))
    cached = sorted(account["id"] for account in data.get("accounts", []))
    if cached != expected:
        return "the cache holds the accounts %s, not %s" % (cached, expected)
    return None


def org_calls(ctx):
    return [call for call in ctx.stubctl("calls")["calls"] if call["action"] in ORG_ACTIONS]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--work-dir", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("seed")
    get = sub.add_parser("get")
    get.add_argument("kind", choices=["ou", "account"])
    get.add_argument("name")
    check = sub.add_parser("check")
    check.add_argument("case", choices=sorted(CHECKS))
    check.add_argument("path")
    cache = sub.add_parser("check-cache")
    cache.add_argument("directory")
    sub.add_parser("calls-reset")
    sub.add_parser("org-calls")
    args = parser.parse_args()
    ctx = Context(args)

    if args.command == "seed":
        state = seed(ctx)
        print(json.dumps({"ous": state["ous"], "accounts": state["accounts"]}))
    elif args.command == "get":
        print(ctx.state()["ous" if args.kind == "ou" else "accounts"][args.name])
    elif args.command == "check":
        checker = Checker()
        CHECKS[args.case](Inventory(args.path), ctx.state(), checker)
        if checker.failures:
            print("inventory %s (%s) is wrong:\n  %s" % (args.case, args.path, "\n  ".join(checker.failures)))
            return 1
        print("inventory %s: as expected" % args.case)
    elif args.command == "check-cache":
        problem = check_cache(ctx, args.directory)
        if problem:
            print(problem)
            return 1
        print("cache: as expected")
    elif args.command == "calls-reset":
        ctx.stubctl("calls-reset")
    elif args.command == "org-calls":
        calls = org_calls(ctx)
        print(json.dumps({"count": len(calls), "actions": sorted({call["action"] for call in calls})}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

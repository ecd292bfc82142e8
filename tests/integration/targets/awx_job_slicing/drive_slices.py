"""A sliced AWX job over five accounts of the stub, with ansible-runner; prints no secret.

Usage: python drive_slices.py --config INTEGRATION_CONFIG --work DIR [--slices N]

1. Seeds five accounts (one assumed role each), three users per account: two
   with a key 120 days old (due), one with a fresh key (not due).
2. Runs rotate_and_report.yml as AWX runs a job template with
   ``job_slice_count: N``: one ansible-runner job per slice, side by side,
   each limited to the hosts AWX gives that slice (``awx_slices``), each
   writing its report.json into its own artifacts directory.
3. Checks that every account ran in exactly one slice (the jobs' events) and
   that each due user got exactly one new key and the others none
   (CreateAccessKey in the stub's call log, per account and user).
4. Runs merge.yml (playbooks/report_merge.yml) over the slices' artifacts, as
   the workflow node after the sliced job, and checks the one merged report:
   every account once, with its users, what the rotation did, the slices.
5. Checks that the merge refuses a slice reported twice (a relaunched slice)
   and names the accounts of a slice that is missing.
6. Searches every artifact for every secret the stub saw.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import ansible_runner
import boto3
import yaml

HERE = Path(__file__).resolve().parent
INVENTORY = yaml.safe_load((HERE / "inventory.yml").read_text())["all"]["hosts"]
ACCOUNTS = {host: variables["rotator_assume_role_arn"].split(":")[4] for host, variables in INVENTORY.items()}
# Per account: users whose key is 120 days old (due with the default 90 days) and one whose key is fresh.
DUE_USERS = ("app", "ci")
FRESH_USERS = ("fresh",)
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def awx_slices(hosts, count):
    """The hosts of each slice of a job with ``job_slice_count: count``, as AWX makes them.

    AWX (awx/main/models/inventory.py, ``Inventory.get_script_data`` and
    ``get_sliced_hosts``) orders the inventory's enabled hosts by name and gives
    slice number k (1-based) ``hosts[k - 1::count]``: the hosts at positions
    k-1, k-1+count, ... of that order.
    """
    ordered = sorted(hosts)
    return [ordered[number::count] for number in range(count)]


def user_name(host, user):
    """User names are unique across the accounts, so the stub's call log names the account too."""
    return "%s-%s" % (host, user)


def stub(config, method, path, body=None):
    sys.path.insert(0, str(Path(config["stubctl"]).parent))
    import stubctl  # pylint: disable=import-outside-toplevel,import-error

    return stubctl.control(config["stub_state_file"], method, path, body)


def iam_client(config, role_arn):
    session = boto3.session.Session(aws_access_key_id=config["aws_access_key"],
                                    aws_secret_access_key=config["aws_secret_key"], region_name=config["aws_region"])
    creds = session.client("sts", endpoint_url=config["aws_endpoint_url"]).assume_role(
        RoleArn=role_arn, RoleSessionName="seed")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"], region_name=config["aws_region"]).client(
        "iam", endpoint_url=config["aws_endpoint_url"])


def seed(config):
    stub(config, "POST", "/_stub/reset", {})
    clients = {host: iam_client(config, variables["rotator_assume_role_arn"]) for host, variables in INVENTORY.items()}
    for offset, users in ((-120, DUE_USERS), (0, FRESH_USERS)):
        stub(config, "POST", "/_stub/clock", {"offset_days": offset})
        for host, iam in clients.items():
            for user in users:
                iam.create_user(UserName=user_name(host, user))
                iam.create_access_key(UserName=user_name(host, user))
    stub(config, "POST", "/_stub/clock", {"offset_days": 0})
    stub(config, "POST", "/_stub/calls/reset", {})


def private_data_dir(work, name, playbook, config):
    """An AWX job's private data directory: the project's playbook, the inventory, the credential's environment."""
    root = work / name
    (root / "project").mkdir(parents=True)
    (root / "inventory").mkdir()
    shutil.copy(HERE / playbook, root / "project" / playbook)
    shutil.copy(HERE / "inventory.yml", root / "inventory" / "hosts.yml")
    envvars = {"AWS_ACCESS_KEY_ID": config["aws_access_key"], "AWS_SECRET_ACCESS_KEY": config["aws_secret_key"],
               "AWS_ENDPOINT_URL": config["aws_endpoint_url"], "AWS_REGION": config["aws_region"],
               "AWS_MAX_ATTEMPTS": "3", "ANSIBLE_COLLECTIONS_PATH": config["collections_path"]}
    return root, envvars


def start_job(root, envvars, playbook, ident, limit=None, extravars=None):
    thread, runner = ansible_runner.run_async(
        private_data_dir=str(root), playbook=playbook, inventory=str(root / "inventory" / "hosts.yml"), limit=limit,
        envvars=envvars, extravars=extravars or {}, ident=ident, quiet=True)
    return thread, runner


def finish(job):
    thread, runner = job
    thread.join()
    return runner


def events_of(runner, kind):
    return [event for event in runner.events if event["event"] == kind]


def failure_messages(runner):
    return [str(event["event_data"].get("res", {}).get("msg")) for event in events_of(runner, "runner_on_failed")]


def run_slices(work, config, slices):
    root, envvars = private_data_dir(work, "sliced", "rotate_and_report.yml", config)
    # AWX runs the slices side by side, each on the hosts of its slice.
    jobs = [start_job(root, envvars, "rotate_and_report.yml", "slice-%d" % (number + 1), limit=",".join(hosts))
            for number, hosts in enumerate(slices)]
    runners = [finish(job) for job in jobs]
    ran_in = Counter()
    for number, (hosts, runner) in enumerate(zip(slices, runners)):
        ident = "slice-%d" % (number + 1)
        check(runner.status == "successful" and runner.rc == 0, "%s: %s rc %s: %s" % (
            ident, runner.status, runner.rc, failure_messages(runner)))
        hosts_seen = sorted({event["event_data"]["host"] for event in events_of(runner, "runner_on_ok")})
        check(hosts_seen == sorted(hosts), "%s worked on %s, not its slice %s" % (ident, hosts_seen, sorted(hosts)))
        ran_in.update(hosts_seen)
        report = json.loads((root / "artifacts" / ident / "report.json").read_text())
        # In the slice's inventory order (AWX gives each slice an inventory of its hosts only; here --limit).
        names = sorted(account["name"] for account in report["accounts"])
        check(names == hosts, "%s's report.json lists %s, not %s" % (ident, names, hosts))
        print("%s: hosts %s; its report.json lists %s" % (ident, ", ".join(hosts_seen), ", ".join(names)))
    check(ran_in == Counter(list(INVENTORY)), "accounts by the number of slices they ran in: %s" % dict(ran_in))
    print("no account twice: every one of %d accounts ran in exactly one slice: %s" % (
        len(INVENTORY), ", ".join("%s x%d" % item for item in sorted(ran_in.items()))))
    return root


def check_created_keys(config):
    """Each due user got exactly one new key, in its own account; the fresh users none."""
    calls = [call for call in stub(config, "GET", "/_stub/calls")["calls"]
             if call["action"] == "CreateAccessKey" and call["status"] == 200]
    per_user = Counter(call.get("user") for call in calls)
    expected = {user_name(host, user): 1 for host in INVENTORY for user in DUE_USERS}
    check(dict(per_user) == expected, "CreateAccessKey per user: %s, expected %s" % (dict(per_user), expected))
    per_account = Counter(user.rsplit("-", 1)[0] for user in per_user.elements())
    check(per_account == Counter({host: len(DUE_USERS) for host in INVENTORY}),
          "CreateAccessKey per account: %s" % dict(per_account))
    print("no account twice: CreateAccessKey per account %s; per user: %d users x1, %d not due x0; %d in all" % (
        dict(sorted(per_account.items())), len(per_user), len(INVENTORY) * len(FRESH_USERS), len(calls)))


def slices_dir(work, sliced_root, name, idents, relaunched=None):
    """A directory of the slices' reports as the merge reads it: <dir>/<slice>/report.json."""
    directory = work / name
    for ident in idents:
        (directory / ident).mkdir(parents=True)
        shutil.copy(sliced_root / "artifacts" / ident / "report.json", directory / ident / "report.json")
    if relaunched:
        (directory / ("%s-relaunched" % relaunched)).mkdir()
        shutil.copy(sliced_root / "artifacts" / relaunched / "report.json",
                    directory / ("%s-relaunched" % relaunched) / "report.json")
    return directory


def run_merge(work, config, name, directory, output):
    root, envvars = private_data_dir(work, name, "merge.yml", config)
    extravars = {"rotator_report_slices_dir": str(directory), "rotator_report_dir": str(output),
                 "rotator_report_check_inventory": True}
    return finish(start_job(root, envvars, "merge.yml", name, extravars=extravars))


def check_merged(output, slices):
    report = json.loads((output / "report.json").read_text())
    names = [account["name"] for account in report["accounts"]]
    check(names == sorted(INVENTORY), "merged accounts %s" % names)
    for account in report["accounts"]:
        host = account["name"]
        check(account["account_id"] == ACCOUNTS[host] and account["error"] is None, "account %s: %s" % (
            host, {key: account[key] for key in ("account_id", "error")}))
        users = {user["user_name"]: user for user in account["users"]}
        expected_users = sorted(user_name(host, user) for user in DUE_USERS + FRESH_USERS)
        check(sorted(users) == expected_users, "%s's users: %s" % (host, sorted(users)))
        for user in DUE_USERS:
            entry = users.get(user_name(host, user)) or {"access_keys": [], "access_key_rotation": {}}
            check(len(entry["access_keys"]) == 2 and entry["access_key_rotation"].get("status") == "pending",
                  "%s: %d keys, %s" % (user_name(host, user), len(entry["access_keys"]), entry["access_key_rotation"]))
        for user in FRESH_USERS:
            entry = users.get(user_name(host, user)) or {"access_keys": [], "access_key_rotation": {}}
            check(len(entry["access_keys"]) == 1 and entry["access_key_rotation"].get("status") == "compliant",
                  "%s: %d keys, %s" % (user_name(host, user), len(entry["access_keys"]), entry["access_key_rotation"]))
        changes = sorted((change["user_name"], change["status"]) for change in account["changes"])
        check(changes == sorted((user_name(host, user), "rotated") for user in DUE_USERS),
              "%s's changes: %s" % (host, changes))
    expected_slices = [{"name": "slice-%d" % (number + 1), "accounts": hosts} for number, hosts in enumerate(slices)]
    got_slices = [{"name": item["name"], "accounts": sorted(item["accounts"])} for item in report["slices"]]
    check(got_slices == expected_slices, "merged slices %s" % got_slices)
    check(report["missing_accounts"] == [], "missing accounts %s" % report["missing_accounts"])
    totals = {key: report["totals"][key] for key in ("accounts", "accounts_failed", "users", "access_keys", "changes")}
    expected_totals = {"accounts": 5, "accounts_failed": 0, "users": 15, "access_keys": 25, "changes": 10}
    check(totals == expected_totals, "merged totals %s, expected %s" % (totals, expected_totals))
    user_rows = list(csv.DictReader(io.StringIO((output / "users.csv").read_text())))
    key_rows = list(csv.DictReader(io.StringIO((output / "keys.csv").read_text())))
    rows = Counter((row["account"], row["user_name"]) for row in user_rows)
    check(sorted(rows.values()) == [1] * 15 and len(key_rows) == 25, "users.csv %s, keys.csv %d rows" % (
        dict(rows), len(key_rows)))
    page = (output / "report.html").read_text()
    page_rows = Counter(host for host in INVENTORY for _row in range(page.count('<tr data-account="%s"' % host)))
    check(page_rows == Counter({host: 3 for host in INVENTORY}), "report.html user rows per account %s" % page_rows)
    print("one merged report: %s; %d accounts, each once (%s), %d users, %d keys, %d changes; users.csv %d rows, "
          "keys.csv %d rows, report.html %d user rows" % (
              ", ".join(item["name"] for item in got_slices), len(names), ", ".join(names), totals["users"],
              totals["access_keys"], totals["changes"], len(user_rows), len(key_rows), sum(page_rows.values())))


def check_refusals(work, config, sliced_root, slices):
    idents = ["slice-%d" % (number + 1) for number in range(len(slices))]
    # A slice relaunched on its own (AWX lets one relaunch a slice) reported its accounts a second time.
    output = work / "merged-relaunched"
    runner = run_merge(work, config, "merge-relaunched", slices_dir(work, sliced_root, "relaunched", idents,
                                                                    relaunched=idents[-1]), output)
    messages = failure_messages(runner)
    twice = ["account %s (%s) is in %s and %s-relaunched" % (host, ACCOUNTS[host], idents[-1], idents[-1])
             for host in sorted(slices[-1])]
    check(runner.status == "failed" and len(messages) == 1 and all(line in messages[0] for line in twice),
          "merge of a relaunched slice: %s, %s" % (runner.status, messages))
    check(not output.exists(), "the refused merge wrote %s" % sorted(path.name for path in output.glob("*")))
    print("refused: a relaunched slice: %s" % "; ".join(twice))
    # A slice whose report is missing: the merge names its accounts and fails, after writing what it has.
    output = work / "merged-missing"
    runner = run_merge(work, config, "merge-missing", slices_dir(work, sliced_root, "missing", idents[1:]), output)
    expected = "accounts in no slice's report: %s" % ", ".join(sorted(slices[0]))
    check(runner.status == "failed" and failure_messages(runner) == [expected],
          "merge without %s: %s, %s" % (idents[0], runner.status, failure_messages(runner)))
    written = json.loads((output / "report.json").read_text())
    check([account["name"] for account in written["accounts"]] == sorted(sum(slices[1:], [])),
          "the merge without %s lists %s" % (idents[0], [account["name"] for account in written["accounts"]]))
    print("missing: %s" % expected)


def check_no_secret(config, work):
    secrets = [secret for secret in stub(config, "GET", "/_stub/secrets")["secrets"] if secret]
    check(len(secrets) >= 10, "the stub saw only %d secrets" % len(secrets))
    files = [path for path in work.rglob("*") if path.is_file()]
    leaks = [(index, str(path)) for path in files for index, secret in enumerate(secrets)
             if secret in path.read_text(errors="replace")]
    for index, path in leaks:
        failures.append("secret #%d appears in %s" % (index, path))
    print("secrets: %d seen by the stub, searched in %d files of the jobs, %d found" % (
        len(secrets), len(files), len(leaks)))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--slices", type=int, default=3)
    args = parser.parse_args(argv)
    config = yaml.safe_load(Path(args.config).read_text())
    # ansible-test's collection tree, the one this script runs from: the jobs load the collection from it.
    config["collections_path"] = os.environ["ANSIBLE_COLLECTIONS_PATH"]
    work = Path(args.work)
    slices = awx_slices(INVENTORY, args.slices)
    check(sorted(sum(slices, [])) == sorted(INVENTORY) and len(set(sum(slices, []))) == len(INVENTORY),
          "the slices %s are not a partition of %s" % (slices, sorted(INVENTORY)))
    print("job_slice_count %d: %s" % (args.slices, "; ".join(
        "slice-%d: %s" % (number + 1, ", ".join(hosts)) for number, hosts in enumerate(slices))))
    seed(config)
    sliced_root = run_slices(work, config, slices)
    check_created_keys(config)
    # The slices' artifacts directories hold their report.json: <artifacts>/slice-N/report.json.
    output = work / "merged"
    runner = run_merge(work, config, "merge", sliced_root / "artifacts", output)
    check(runner.status == "successful", "the merge: %s, %s" % (runner.status, failure_messages(runner)))
    check_merged(output, slices)
    check_refusals(work, config, sliced_root, slices)
    check_no_secret(config, work)
    for failure in failures:
        print("FAIL: %s" % failure)
    print("awx_job_slicing: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

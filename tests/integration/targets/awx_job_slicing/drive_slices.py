"""A sliced AWX job over five accounts of the stub, with ansible-runner, its report kept in S3 and in a directory.

Usage: python drive_slices.py --config INTEGRATION_CONFIG --work DIR [--slices N]

Every job gets a private data directory of its own, as AWX gives it: the
project's playbook, the inventory, ``env/envvars`` with what AWX's "Amazon
Web Services" credential injects (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SECURITY_TOKEN: a session of the stub's admin) and ``env/extravars`` with
AWX's job variables (``awx_job_id``, ``awx_workflow_job_id``) and the job
template's. ansible-runner then writes the job's ``command`` file, with that
credential, into ``artifacts/<job id>/``.

1. Seeds five accounts (one assumed role each), three users per account: two
   with a key 120 days old (due), one with a fresh key (not due); and the S3
   bucket of the reports.
2. Runs rotate_and_report.yml as AWX runs a job template with
   ``job_slice_count: N`` and ``rotator_report_slice``: one job per slice,
   side by side, each limited to the hosts AWX gives that slice
   (``awx_slices``), each writing its report.json into the bucket under the
   sliced job's run and passing that run on (set_stats).
3. Checks that every account ran in exactly one slice (the jobs' events) and
   that each due user got exactly one new key and the others none
   (CreateAccessKey in the stub's call log, per account and user).
4. Runs merge.yml (playbooks/report_merge.yml), the workflow node after the
   sliced job, with the slices' stats as AWX passes them, and checks the one
   merged report in the bucket: every account once, with its users, what the
   rotation did, the slices; every object encrypted (AES256).
5. Checks that the merge refuses a slice reported twice (a relaunched slice),
   writing nothing, and names the accounts of a slice that is missing.
6. The same with a directory as the destination (report_only.yml): files of
   mode 0640, every account once.
7. Checks the refusals: a directory inside a job's private data directory,
   and AWX with no destination, each failing before anything is written.
8. Searches every report object and file for the credential (key id,
   secret, token) and every secret the stub saw, and every job's directory
   for a report.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import stat
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
BUCKET = "iam-reports"
PREFIX = "rotation"
REPORT_FILES = ("keys.csv", "report.html", "report.json", "users.csv")
# AWX's ids: the sliced job (a workflow job) and its slice jobs; the merge node's job in the outer workflow.
SLICED_JOB = 100
OUTER_WORKFLOW = 90
# What a check reads where a report is missing, so that every check still runs and says what it found.
NO_REPORT = '{"accounts": [], "slices": [], "missing_accounts": null, "totals": {}}'
EMPTY = {"report.json": NO_REPORT, "users.csv": "", "keys.csv": "", "report.html": ""}
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


def admin_session(config):
    return boto3.session.Session(aws_access_key_id=config["aws_access_key"],
                                 aws_secret_access_key=config["aws_secret_key"], region_name=config["aws_region"])


def iam_client(config, role_arn):
    creds = admin_session(config).client("sts", endpoint_url=config["aws_endpoint_url"]).assume_role(
        RoleArn=role_arn, RoleSessionName="seed")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"], region_name=config["aws_region"]).client(
        "iam", endpoint_url=config["aws_endpoint_url"])


def s3_client(config):
    return admin_session(config).client("s3", endpoint_url=config["aws_endpoint_url"])


def awx_credential(config):
    """What AWX's "Amazon Web Services" credential with a session token injects into a job's env/envvars."""
    creds = admin_session(config).client("sts", endpoint_url=config["aws_endpoint_url"]).get_session_token(
    )["Credentials"]
    return {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SECURITY_TOKEN": creds["SessionToken"]}


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
    s3_client(config).create_bucket(Bucket=BUCKET)
    stub(config, "POST", "/_stub/calls/reset", {})


class Jobs:
    """AWX's jobs: a private data directory each, with the credential in env/envvars and the variables in
    env/extravars, run by ansible-runner with the job id as its ident."""

    def __init__(self, work, config, credential):
        self.work = work
        self.config = config
        self.credential = credential
        self.roots = []

    def private_data_dir(self, job_id, playbook, extravars):
        root = self.work / ("job-%d" % job_id)
        (root / "project").mkdir(parents=True)
        (root / "inventory").mkdir()
        (root / "env").mkdir()
        shutil.copy(HERE / playbook, root / "project" / playbook)
        shutil.copy(HERE / "inventory.yml", root / "inventory" / "hosts.yml")
        envvars = dict(self.credential, AWS_ENDPOINT_URL=self.config["aws_endpoint_url"],
                       AWS_REGION=self.config["aws_region"], AWS_MAX_ATTEMPTS="3",
                       ANSIBLE_COLLECTIONS_PATH=self.config["collections_path"])
        (root / "env" / "envvars").write_text(yaml.safe_dump(envvars))
        (root / "env" / "extravars").write_text(yaml.safe_dump(dict(extravars, awx_job_id=job_id)))
        self.roots.append(root)
        return root

    def start(self, job_id, playbook, extravars, limit=None):
        root = self.private_data_dir(job_id, playbook, extravars)
        return ansible_runner.run_async(private_data_dir=str(root), playbook=playbook,
                                        inventory=str(root / "inventory" / "hosts.yml"), limit=limit,
                                        ident=str(job_id), quiet=True)

    def run(self, job_id, playbook, extravars, limit=None):
        return finish(self.start(job_id, playbook, extravars, limit))


def finish(job):
    thread, runner = job
    thread.join()
    return runner


def events_of(runner, kind):
    return [event for event in runner.events if event["event"] == kind]


def failure_messages(runner):
    return [str(event["event_data"].get("res", {}).get("msg")) for event in events_of(runner, "runner_on_failed")]


def stats_artifacts(runner):
    """What the job passed on with set_stats: AWX keeps it as the job's artifacts, for the workflow nodes after it."""
    return [event["event_data"].get("artifact_data") for event in events_of(runner, "playbook_on_stats")]


def s3_destination(run=None):
    variables = {"rotator_report_s3_bucket": BUCKET, "rotator_report_s3_prefix": PREFIX}
    if run is not None:
        variables["rotator_report_run"] = run
    return variables


def run_slices(jobs, slices, playbook, destination, first_job):
    """The slice jobs of one sliced job, side by side; returns their runners."""
    extravars = dict(destination, awx_workflow_job_id=SLICED_JOB, rotator_report_slice="{{ awx_job_id }}")
    started = [jobs.start(first_job + number, playbook, extravars, limit=",".join(hosts))
               for number, hosts in enumerate(slices)]
    return [finish(job) for job in started]


def check_slices(slices, runners, first_job, listed):
    """Each slice worked on its hosts only, passed its run on, and its report lists its accounts."""
    ran_in = Counter()
    for number, (hosts, runner) in enumerate(zip(slices, runners)):
        ident = first_job + number
        check(runner.status == "successful" and runner.rc == 0, "job %d: %s rc %s: %s" % (
            ident, runner.status, runner.rc, failure_messages(runner)))
        hosts_seen = sorted({event["event_data"]["host"] for event in events_of(runner, "runner_on_ok")} - {"localhost"})
        check(hosts_seen == sorted(hosts), "job %d worked on %s, not its slice %s" % (ident, hosts_seen, sorted(hosts)))
        check(stats_artifacts(runner) == [{"rotator_report_run": str(SLICED_JOB)}],
              "job %d passed on %s" % (ident, stats_artifacts(runner)))
        ran_in.update(hosts_seen)
        names = sorted(account["name"] for account in listed(ident)["accounts"])
        check(names == hosts, "job %d's slice report lists %s, not %s" % (ident, names, hosts))
        print("slice job %d: hosts %s; its report.json lists %s; passed on %s" % (
            ident, ", ".join(hosts_seen), ", ".join(names), stats_artifacts(runner)[0]))
    check(ran_in == Counter(list(INVENTORY)), "accounts by the number of slices they ran in: %s" % dict(ran_in))
    print("no account twice: every one of %d accounts ran in exactly one slice: %s" % (
        len(INVENTORY), ", ".join("%s x%d" % item for item in sorted(ran_in.items()))))


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


def s3_objects(config, prefix=""):
    """Key -> (text, server-side encryption) of every object under ``prefix``."""
    s3 = s3_client(config)
    keys = [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
            for item in page.get("Contents", [])]
    return {key: (s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("utf-8"),
                  s3.head_object(Bucket=BUCKET, Key=key).get("ServerSideEncryption")) for key in keys}


def check_merged(files, slices, rotated, where):
    """The merged report: every account once, with its users (and what the rotation did, when it ran)."""
    report = json.loads(files["report.json"])
    names = [account["name"] for account in report["accounts"]]
    check(names == sorted(INVENTORY), "%s: merged accounts %s" % (where, names))
    for account in report["accounts"]:
        host = account["name"]
        check(account["account_id"] == ACCOUNTS[host] and account["error"] is None, "account %s: %s" % (
            host, {key: account[key] for key in ("account_id", "error")}))
        users = {user["user_name"]: user for user in account["users"]}
        check(sorted(users) == sorted(user_name(host, user) for user in DUE_USERS + FRESH_USERS),
              "%s's users: %s" % (host, sorted(users)))
        for user, keys, status in [(user, 2, "pending") for user in DUE_USERS] + [
                (user, 1, "compliant") for user in FRESH_USERS]:
            entry = users.get(user_name(host, user)) or {"access_keys": [], "access_key_rotation": {}}
            check(len(entry["access_keys"]) == keys and entry["access_key_rotation"].get("status") == status,
                  "%s: %d keys, %s" % (user_name(host, user), len(entry["access_keys"]), entry["access_key_rotation"]))
        changes = sorted((change["user_name"], change["status"]) for change in account["changes"])
        expected_changes = sorted((user_name(host, user), "rotated") for user in DUE_USERS) if rotated else []
        check(changes == expected_changes, "%s's changes: %s" % (host, changes))
    expected_slices = [{"name": name, "accounts": hosts} for name, hosts in slices.items()]
    got_slices = [{"name": item["name"], "accounts": sorted(item["accounts"])} for item in report["slices"]]
    check(got_slices == expected_slices, "%s: merged slices %s" % (where, got_slices))
    check(report["missing_accounts"] == [], "missing accounts %s" % report["missing_accounts"])
    totals = {key: report["totals"].get(key) for key in ("accounts", "accounts_failed", "users", "access_keys", "changes")}
    expected_totals = {"accounts": 5, "accounts_failed": 0, "users": 15, "access_keys": 25,
                       "changes": 10 if rotated else 0}
    check(totals == expected_totals, "%s: merged totals %s, expected %s" % (where, totals, expected_totals))
    user_rows = list(csv.DictReader(io.StringIO(files["users.csv"])))
    key_rows = list(csv.DictReader(io.StringIO(files["keys.csv"])))
    rows = Counter((row["account"], row["user_name"]) for row in user_rows)
    check(sorted(rows.values()) == [1] * 15 and len(key_rows) == 25, "users.csv %s, keys.csv %d rows" % (
        dict(rows), len(key_rows)))
    page_rows = Counter(host for host in INVENTORY for _row in range(files["report.html"].count(
        '<tr data-account="%s"' % host)))
    check(page_rows == Counter({host: 3 for host in INVENTORY}), "report.html user rows per account %s" % page_rows)
    print("one merged report in %s: slices %s; %d accounts, each once (%s), %s users, %s keys, %s changes; "
          "users.csv %d rows, keys.csv %d rows, report.html %d user rows" % (
              where, ", ".join(item["name"] for item in got_slices), len(names), ", ".join(names), totals["users"],
              totals["access_keys"], totals["changes"], len(user_rows), len(key_rows), sum(page_rows.values())))


def merge_vars(destination, run):
    """The merge node's variables: the job template's, AWX's, and the sliced job's stats AWX passes on."""
    return dict(destination, awx_workflow_job_id=OUTER_WORKFLOW, rotator_report_check_inventory=True,
                rotator_report_run=str(run))


def run_s3(jobs, config, slices):
    """Rotation and report in slice jobs, the report in S3; then the merge node."""
    runners = run_slices(jobs, slices, "rotate_and_report.yml", s3_destination(), SLICED_JOB + 1)

    def listed(ident):
        key = "%s/%d/slices/%d/report.json" % (PREFIX, SLICED_JOB, ident)
        return json.loads(s3_objects(config, key).get(key, (NO_REPORT, None))[0])

    check_slices(slices, runners, SLICED_JOB + 1, listed)
    check_created_keys(config)
    passed_on = (stats_artifacts(runners[0])[0] or {}).get("rotator_report_run", "")
    merge = jobs.run(SLICED_JOB + 10, "merge.yml", merge_vars(s3_destination(), passed_on))
    check(merge.status == "successful", "the merge: %s, %s" % (merge.status, failure_messages(merge)))
    objects = s3_objects(config, PREFIX + "/")
    run_prefix = "%s/%d/" % (PREFIX, SLICED_JOB)
    idents = [str(SLICED_JOB + 1 + number) for number in range(len(slices))]
    expected_keys = sorted([run_prefix + name for name in REPORT_FILES]
                           + [run_prefix + "slices/%s/report.json" % ident for ident in idents])
    check(sorted(objects) == expected_keys, "objects in s3://%s/%s: %s" % (BUCKET, PREFIX, sorted(objects)))
    encryption = Counter(sse for _text, sse in objects.values())
    check(encryption == Counter({"AES256": len(expected_keys)}), "server-side encryption of the objects: %s" % encryption)
    print("s3://%s/%s: %d objects (%s), ServerSideEncryption %s" % (
        BUCKET, run_prefix, len(objects), ", ".join(key[len(run_prefix):] for key in sorted(objects)),
        dict(encryption)))
    # The jobs' writes (this script reads with the stub's admin key): every PutObject signed with the credential
    # AWX put in env/envvars, one per object.
    puts = Counter(call.get("signer") for call in stub(config, "GET", "/_stub/calls")["calls"]
                   if call["action"].startswith("PUT /%s/" % BUCKET) and call["signer"] != config["aws_access_key"])
    check(puts == Counter({jobs.credential["AWS_ACCESS_KEY_ID"]: len(expected_keys)}), "PutObject by %s" % dict(puts))
    print("PutObject calls of the jobs: %d, signed with the key of AWX's credential in env/envvars: %d" % (
        sum(puts.values()), puts[jobs.credential["AWS_ACCESS_KEY_ID"]]))
    files = {name: objects.get(run_prefix + name, (EMPTY[name], None))[0] for name in REPORT_FILES}
    check_merged(files, dict(zip(idents, slices)), True, "s3://%s/%s" % (BUCKET, run_prefix))
    check_s3_refusals(jobs, config, slices, idents)


def copy_run(config, source_run, target_run, idents, renamed=None):
    """A run of the bucket made of another's slices (``renamed``: slice -> a second name it is also copied as)."""
    s3 = s3_client(config)
    copies = [(ident, ident) for ident in idents] + list((renamed or {}).items())
    for source, target in copies:
        s3.copy_object(Bucket=BUCKET, Key="%s/%s/slices/%s/report.json" % (PREFIX, target_run, target),
                       CopySource={"Bucket": BUCKET, "Key": "%s/%s/slices/%s/report.json" % (
                           PREFIX, source_run, source)}, ServerSideEncryption="AES256")


def check_s3_refusals(jobs, config, slices, idents):
    # A slice relaunched on its own (AWX lets one relaunch a slice) reported its accounts a second time.
    relaunched = idents[-1] + "-relaunched"
    copy_run(config, SLICED_JOB, 200, idents, {idents[-1]: relaunched})
    runner = jobs.run(201, "merge.yml", merge_vars(s3_destination(), 200))
    messages = failure_messages(runner)
    twice = ["account %s (%s) is in %s and %s" % (host, ACCOUNTS[host], idents[-1], relaunched)
             for host in sorted(slices[-1])]
    check(runner.status == "failed" and len(messages) == 1 and all(line in messages[0] for line in twice),
          "merge of a relaunched slice: %s, %s" % (runner.status, messages))
    written = sorted(key for key in s3_objects(config, "%s/200/" % PREFIX) if "/slices/" not in key)
    check(written == [], "the refused merge wrote %s" % written)
    print("refused: a relaunched slice: %s; written: %d objects" % ("; ".join(twice), len(written)))
    # A slice whose report is missing: the merge names its accounts and fails, after writing what it has.
    copy_run(config, SLICED_JOB, 300, idents[1:])
    runner = jobs.run(301, "merge.yml", merge_vars(s3_destination(), 300))
    expected = "accounts in no slice's report: %s" % ", ".join(sorted(slices[0]))
    check(runner.status == "failed" and failure_messages(runner) == [expected],
          "merge without %s: %s, %s" % (idents[0], runner.status, failure_messages(runner)))
    key = "%s/300/report.json" % PREFIX
    merged = json.loads(s3_objects(config, key).get(key, (NO_REPORT, None))[0])
    check([account["name"] for account in merged["accounts"]] == sorted(sum(slices[1:], [])),
          "the merge without %s lists %s" % (idents[0], [account["name"] for account in merged["accounts"]]))
    print("missing: %s" % expected)


def run_directory(jobs, work, slices):
    """The read-only report in slice jobs, kept in a directory outside every job's; then the merge node."""
    destination = {"rotator_report_dir": str(work / "persistent")}
    first = 400
    runners = run_slices(jobs, slices, "report_only.yml", destination, first)
    run_dir = work / "persistent" / str(SLICED_JOB)

    def listed(ident):
        path = run_dir / "slices" / str(ident) / "report.json"
        return json.loads(path.read_text() if path.exists() else NO_REPORT)

    check_slices(slices, runners, first, listed)
    merge = jobs.run(410, "merge.yml", merge_vars(destination, SLICED_JOB))
    check(merge.status == "successful", "the merge into a directory: %s, %s" % (merge.status, failure_messages(merge)))
    idents = [str(first + number) for number in range(len(slices))]
    modes = sorted((str(path.relative_to(run_dir)), oct(stat.S_IMODE(path.stat().st_mode)))
                   for path in run_dir.rglob("*"))
    expected_modes = sorted([(name, "0o640") for name in REPORT_FILES] + [("slices", "0o750")]
                            + [("slices/%s" % ident, "0o750") for ident in idents]
                            + [("slices/%s/report.json" % ident, "0o640") for ident in idents])
    check(modes == expected_modes, "%s holds %s" % (run_dir, modes))
    print("%s: %s" % (run_dir, ", ".join("%s %s" % (name, mode[2:]) for name, mode in modes)))
    check_merged({name: (run_dir / name).read_text() if (run_dir / name).exists() else EMPTY[name]
                  for name in REPORT_FILES}, dict(zip(idents, slices)), False, str(run_dir))


def check_destination_refusals(jobs, config):
    """A directory of the job's own, and no destination under AWX: the job fails before anything is written."""
    stub(config, "POST", "/_stub/calls/reset", {})
    inside = jobs.work / "job-500" / "reports"
    runner = jobs.run(500, "report_only.yml", {"rotator_report_dir": str(inside)})
    expected = ("refusing to write the report: %s is inside ansible-runner's private data directory (the one holding "
                "AWX_ISOLATED_DATA_DIR), %s; AWX deletes that directory when the job ends, and the job's credential "
                "is kept there (ansible-runner's command and env files): give a persistent directory outside it, or "
                "an S3 bucket" % (inside, jobs.work / "job-500"))
    check(runner.status == "failed" and failure_messages(runner) == [expected],
          "a directory inside the job's: %s, %s" % (runner.status, failure_messages(runner)))
    check(not inside.exists(), "%s was written" % inside)
    print("refused: %s" % expected)
    runner = jobs.run(501, "report_only.yml", {})
    expected = ("the report has no persistent destination under AWX (AWX_ISOLATED_DATA_DIR is set): the job's "
                "artifacts directory is deleted when the job ends and holds its credential, so nothing was written. "
                "Set rotator_report_s3_bucket (with rotator_report_s3_prefix; encrypted with "
                "rotator_report_s3_encryption, AES256 by default) or rotator_report_dir (a directory outside the "
                "job's private data directory, on a volume that outlives the job) as an extra variable or survey "
                "answer of the job template; see docs/awx.md")
    check(runner.status == "failed" and failure_messages(runner) == [expected],
          "AWX with no destination: %s, %s" % (runner.status, failure_messages(runner)))
    calls = [call["action"] for call in stub(config, "GET", "/_stub/calls")["calls"]]
    check(calls == [], "the refused jobs called %s" % calls)
    print("refused: %s" % expected)
    print("the refused jobs: %d AWS calls (no account read, no object written), %s not created" % (
        len(calls), inside))


def report_like(path):
    return path.name in REPORT_FILES or path.parent.name == "slices"


def check_no_credential(config, jobs, credential):
    """No credential in any report; no report in any job's directory; the credential in each job's command file."""
    secrets = [secret for secret in stub(config, "GET", "/_stub/secrets")["secrets"] if secret]
    check(len(secrets) >= 10, "the stub saw only %d secrets" % len(secrets))
    reports = {"s3://%s/%s" % (BUCKET, key): text for key, (text, _sse) in s3_objects(config).items()}
    reports.update({str(path): path.read_text() for path in (jobs.work / "persistent").rglob("*") if path.is_file()})
    searched = list(credential.items()) + [("secret #%d" % index, secret) for index, secret in enumerate(secrets)]
    leaks = [(name, where) for where, text in reports.items() for name, value in searched if value in text]
    for name, where in leaks:
        failures.append("%s appears in %s" % (name, where))
    print("credential: %s and %d secrets the stub saw, searched in %d report objects and files, %d found" % (
        ", ".join(credential), len(secrets), len(reports), len(leaks)))
    found = [str(path) for root in jobs.roots for path in root.rglob("*") if path.is_file() and report_like(path)]
    check(found == [], "reports in the jobs' directories: %s" % found)
    commands = [root / "artifacts" / root.name[len("job-"):] / "command" for root in jobs.roots]
    holding = [path for path in commands if credential["AWS_SECRET_ACCESS_KEY"] in path.read_text()]
    check(len(holding) == len(jobs.roots), "command files holding the credential: %d of %d" % (
        len(holding), len(jobs.roots)))
    print("jobs' directories: %d, report files in them: %d; command files holding the credential: %d" % (
        len(jobs.roots), len(found), len(holding)))


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
        "slice %d: %s" % (number + 1, ", ".join(hosts)) for number, hosts in enumerate(slices))))
    seed(config)
    credential = awx_credential(config)
    jobs = Jobs(work, config, credential)
    run_s3(jobs, config, slices)
    run_directory(jobs, work, slices)
    check_destination_refusals(jobs, config)
    check_no_credential(config, jobs, credential)
    for failure in failures:
        print("FAIL: %s" % failure)
    print("awx_job_slicing: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

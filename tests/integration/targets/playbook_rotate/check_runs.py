"""Check the three runs of playbooks/rotate.yml made by runme.sh; prints no secret.

Usage: python check_runs.py WORK_DIR INTEGRATION_CONFIG

WORK_DIR holds seed.json (the seeded key ids), plan/ and apply/ (what each
account selected and did, recorded by run.yml in check mode and for real),
and plan.log, apply.log and again.log (the output of the three runs).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
AWSCTL = HERE.parent / "setup_aws_stub" / "files" / "awsctl.py"
PWCTL = HERE.parent / "setup_aws_stub" / "files" / "pwctl.py"
HOSTS = ("acct-main", "acct-dev", "acct-prod")
ACCOUNTS = {"acct-main": ("123456789012", None),
            "acct-dev": ("222222222222", "arn:aws:iam::222222222222:role/rotator"),
            "acct-prod": ("333333333333", "arn:aws:iam::333333333333:role/rotator")}
NEW_KEY = "(new access key)"

# What the real run must select and do in each account: user -> status.
EXPECTED = {
    "acct-main": {
        "access_keys": {"selected": ["app-old", "app-new"], "exempted": ["legacy-exempt"],
                        "status": {"app-old": "rotated", "app-new": "compliant"}},
        "passwords": {"selected": ["ops-alice"], "without_console": [], "status": {"ops-alice": "rotated"}},
    },
    "acct-dev": {
        "access_keys": {"selected": ["svc-backup", "svc-ci"], "exempted": [],
                        "status": {"svc-backup": "rotated", "svc-ci": "rotated"}},
        "passwords": {"selected": ["dev-carol"], "without_console": ["dev-nologin"],
                      "status": {"dev-carol": "rotated"}},
    },
    "acct-prod": {
        "access_keys": {"selected": ["deployer", "reporter"], "exempted": ["glass"],
                        "status": {"deployer": "rotated", "reporter": "compliant"}},
        "passwords": None,  # no password selection in this account: the role does not run
    },
}
# Users whose keys no run may touch: not selected, excluded, exempt, or not due.
UNTOUCHED = {"acct-main": ["app-new", "legacy-exempt"], "acct-dev": ["svc-excluded", "dev-bob", "svc-twokeys"],
             "acct-prod": ["reporter", "glass", "outsider"]}
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def load(work, run, host):
    return json.loads((work / run / ("%s.json" % host)).read_text())


def shape(users):
    """What a run did per user, without key ids (a plan has a placeholder for the key it would create)."""
    return [(u["user_name"], u["status"], u["changed"], [a["action"] for a in u["actions"]]) for u in users or []]


def recap(log):
    return {host: dict(zip(("ok", "changed", "unreachable", "failed"), map(int, rest)))
            for host, *rest in RECAP.findall(log)}


def helper(config, script, role_arn, *words):
    command = [sys.executable, str(script), "--endpoint", config["aws_endpoint_url"],
               "--access-key", config["aws_access_key"], "--secret-key", config["aws_secret_key"],
               "--stubctl", config["stubctl"], "--stub-state-file", config["stub_state_file"]]
    if role_arn:
        command += ["--role-arn", role_arn]
    out = subprocess.run(command + list(words), check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def check_plan_and_apply(work):
    plan_log = (work / "plan.log").read_text()
    for host in HOSTS:
        plan, apply = load(work, "plan", host), load(work, "apply", host)
        check(apply["failed"] == [] and plan["failed"] == [], "%s: a rotation failed: %s %s"
              % (host, plan["failed"], apply["failed"]))
        for kind in ("access_keys", "passwords"):
            want = EXPECTED[host][kind]
            done = apply[kind]
            if want is None:
                check(done["users"] is None and done["selected"] is None,
                      "%s: %s ran without a selection: %s" % (host, kind, done))
                continue
            check(done["selected"] == want["selected"], "%s %s: selected %s, expected %s"
                  % (host, kind, done["selected"], want["selected"]))
            for key in ("exempted", "without_console"):
                if key in want:
                    check(done[key] == want[key], "%s %s: %s %s, expected %s" % (host, kind, key, done[key], want[key]))
            statuses = {u["user_name"]: u["status"] for u in done["users"] or []}
            check(statuses == want["status"], "%s %s: statuses %s, expected %s" % (host, kind, statuses, want["status"]))
            # --check predicted the real run: same users, statuses, changes and actions
            check(shape(plan[kind]["users"]) == shape(done["users"]),
                  "%s %s: the plan %s differs from the run %s" % (host, kind, shape(plan[kind]["users"]),
                                                                  shape(done["users"])))
            check(plan[kind]["selected"] == done["selected"], "%s %s: plan and run selected different users" % (host, kind))
            for user in plan[kind]["users"] or []:
                created = [a["access_key_id"] for a in user["actions"] if a["action"] == "create"]
                check(all(key == NEW_KEY for key in created),
                      "%s: the plan created a real key %s" % (user["user_name"], created))
                # the plan is printed, one line per user
                line = "%s: %s%s | actions: " % (user["user_name"], user["status"], " (plan)" if user["changed"] else "")
                check(line in plan_log, "%s: no plan line %r in the --check output" % (host, line))
                if kind == "access_keys" and user["changed"]:
                    check("--- before: access keys of %s" % user["user_name"] in plan_log,
                          "%s: no diff of the keys of %s in the plan" % (host, user["user_name"]))
    plan_changed = {host for host in HOSTS for kind in ("access_keys", "passwords")
                    if any(u["changed"] for u in load(work, "plan", host)[kind]["users"] or [])}
    check(plan_changed == set(HOSTS), "the plan changes %s, expected every account" % sorted(plan_changed))


def check_recaps(work):
    for run, changed in (("plan", True), ("apply", True), ("again", False)):
        found = recap((work / ("%s.log" % run)).read_text())
        check(sorted(found) == sorted(HOSTS), "%s: recap names %s" % (run, sorted(found)))
        for host, counts in found.items():
            check(counts["failed"] == 0 and counts["unreachable"] == 0, "%s: %s failed: %s" % (run, host, counts))
            check((counts["changed"] > 0) == changed, "%s: %s changed=%d" % (run, host, counts["changed"]))
    again = (work / "again.log").read_text()
    for line in ("app-old: pending | actions: none | next: deactivate on", "app-new: compliant | actions: none",
                 "ops-alice: compliant | actions: none | next: rotation on", "dev-carol: compliant",
                 "skipped, no console access: dev-nologin", "exempt by tag break-glass: glass"):
        check(line in again, "again: no line %r" % line)


def check_aws(work, config):
    seeded = json.loads((work / "seed.json").read_text())
    for host in HOSTS:
        account, role = ACCOUNTS[host]
        for user, status in EXPECTED[host]["access_keys"]["status"].items():
            keys = helper(config, AWSCTL, role, "list-keys", user)
            if status != "rotated":
                continue
            check(len(keys["ids"]) == 2 and len(keys["active"]) == 2 and seeded[user][0] in keys["ids"],
                  "%s %s: keys after the rotation %s" % (host, user, keys["keys"]))
            if host == "acct-prod":
                where = ["--type", "ssm", "--name", "/rotator/%s/%s/access-key" % (account, user)]
            else:
                where = ["--type", "secretsmanager", "--name", "rotator/%s/%s/access-key" % (account, user)]
            stored = helper(config, AWSCTL, role, "check-secret", user, *where)
            # (awsctl's authenticates_as_user expects no IAM path; svc-* live under /service/)
            check(re.match(r"^arn:aws:iam::%s:user/(.*/)?%s$" % (account, re.escape(user)), stored["arn"])
                  and stored["key_is_active"]
                  and stored["access_key_id"] not in seeded[user],
                  "%s %s: the stored key %s" % (host, user, stored))
        for user in UNTOUCHED[host]:
            keys = helper(config, AWSCTL, role, "list-keys", user)
            check(keys["ids"] == seeded[user] and keys["active"] == seeded[user],
                  "%s %s: keys %s, expected untouched %s" % (host, user, keys["ids"], seeded[user]))
        passwords = EXPECTED[host]["passwords"]
        for user in (passwords or {}).get("status", {}):
            stored = helper(config, PWCTL, role, "--account", account, "check", user, "--type", "secretsmanager",
                            "--name", "rotator/%s/%s/console-password" % (account, user))
            check(stored["stored"] and stored["matches_iam"] and not stored["pending"],
                  "%s %s: the stored password %s" % (host, user, stored))


def main(work_dir, config_path):
    work = Path(work_dir)
    with open(config_path) as handle:
        config = yaml.safe_load(handle)
    check_plan_and_apply(work)
    check_recaps(work)
    check_aws(work, config)
    for failure in failures:
        print("FAIL: %s" % failure)
    print("check_runs: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

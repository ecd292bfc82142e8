"""Check an ansible-runner run of rotate.yml (how AWX runs a job); prints no secret.

Usage: python check_runner.py PRIVATE_DATA_DIR IDENT INTEGRATION_CONFIG SECRETS_BEFORE

The run had AWX's AWS credential variables in env/envvars and a survey's
answers in env/extravars (force, and a user filter as one string). Checks its
status, that every account reported runner_on_ok events and what the rotation
tasks did, and that no secret the stub ever saw is anywhere in the artifacts.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import yaml

HOSTS = ("acct-main", "acct-dev", "acct-prod")
# The survey narrowed the run to these users and forced their rotation.  Each kind an
# account rotates is one module call that also chooses the users, so acct-dev's calls
# run and find none of them there.
EXPECTED = {
    ("acct-main", "rotator.aws_iam.iam_access_key_rotate"): {"app-new": "rotated"},
    ("acct-main", "rotator.aws_iam.iam_password_rotate"): {"ops-alice": "rotated"},
    ("acct-dev", "rotator.aws_iam.iam_access_key_rotate"): {},
    ("acct-dev", "rotator.aws_iam.iam_password_rotate"): {},
    ("acct-prod", "rotator.aws_iam.iam_access_key_rotate"): {"reporter": "rotated"},
}
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def stub_secrets(config):
    sys.path.insert(0, str(Path(config["stubctl"]).parent))
    import stubctl  # pylint: disable=import-outside-toplevel,import-error

    return stubctl.control(config["stub_state_file"], "GET", "/_stub/secrets")["secrets"]


def main(private_data_dir, ident, config_path, secrets_before):
    with open(config_path) as handle:
        config = yaml.safe_load(handle)
    artifacts = Path(private_data_dir) / "artifacts" / ident
    check((artifacts / "status").read_text().strip() == "successful", "the job's status is not successful")
    check((artifacts / "rc").read_text().strip() == "0", "the job's rc is not 0")
    events = [json.loads(path.read_text()) for path in sorted((artifacts / "job_events").glob("*.json"))]
    ok_events = defaultdict(list)
    for event in events:
        data = event.get("event_data", {})
        check(event["event"] not in ("runner_on_failed", "runner_on_unreachable"),
              "%s for %s in %s" % (event["event"], data.get("host"), data.get("task")))
        if event["event"] == "runner_on_ok":
            ok_events[data["host"]].append(data)
    check(sorted(ok_events) == sorted(HOSTS), "runner_on_ok events for %s" % sorted(ok_events))
    done = {}
    for host, datas in ok_events.items():
        for data in datas:
            if data["task_action"] in ("rotator.aws_iam.iam_access_key_rotate", "rotator.aws_iam.iam_password_rotate"):
                done[(host, data["task_action"])] = {u["user_name"]: u["status"] for u in data["res"]["users"]}
    check(done == EXPECTED, "the rotation tasks did %s, expected %s" % (done, EXPECTED))
    stats = [event for event in events if event["event"] == "playbook_on_stats"]
    check(len(stats) == 1 and sorted(stats[0]["event_data"]["changed"]) == ["acct-main", "acct-prod"],
          "changed hosts in the stats: %s" % (stats[0]["event_data"].get("changed") if stats else None))

    secrets = stub_secrets(config)
    created = len(secrets) - int(secrets_before)
    check(created >= 3, "the job created %d secrets, expected 2 keys and a password" % created)
    files = [path for path in Path(private_data_dir).rglob("*") if path.is_file()]
    leaks = [(index, str(path)) for path in files for index, secret in enumerate(secrets)
             if secret and secret in path.read_text(errors="replace")]
    for index, path in leaks:
        failures.append("secret #%d appears in %s" % (index, path))
    print("check_runner: %d events, %d secrets (%d created by the job) searched in %d files, %d found"
          % (len(events), len(secrets), created, len(files), len(leaks)))
    for failure in failures:
        print("FAIL: %s" % failure)
    print("check_runner: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

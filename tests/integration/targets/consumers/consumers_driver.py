"""Consumers of new access keys, as real processes on loopback; see runme.sh.

Usage: python consumers_driver.py INTEGRATION_CONFIG WORK_DIR [ansible-playbook verbosity...]

consumer_service.py (started here on a free port of 127.0.0.1, stopped by
its pid) receives each new key from the role's consumers, by an HTTP push
or through a credentials file, and signs STS GetCallerIdentity with it, so
GetAccessKeyLastUsed shows the new key used.  Cases:

* delivered: two consumers of one user (push "web", file "batch"); one run
  creates, stores and verifies the new key, runs both, records both, then
  deactivates the old key (0-day window), in that order;
* failing: a user whose consumer "broken" fails keeps its old key active and
  fails the host naming the consumer; another user of the same run is done;
* killed: the playbook is killed (its whole process tree, SIGKILL) after the
  first consumer confirmed, while the second waits for a marker; the rerun
  runs only the second, then deactivates the old key.

Each asserts the exact keys, what the service received (the new key id and
a secret whose SHA-256 is that of the secret the destination holds), the tag
rotator:consumers, and in the end no secret in any output (-vvvv) or tag.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "setup_fault_driver" / "files"))
from faultlib import ACCESS_KEY_TAG, ACCOUNT, Rig, say  # noqa: E402

PLAYBOOK = HERE / "files" / "rotate.yml"
CONSUMERS_TAG = "rotator:consumers"
# Every step due in the run that creates the new key, so only the consumers can hold the old key back.
DUE = {"rotator_rotate_after_days": 0, "rotator_deactivate_after_days": 0, "rotator_delete_after_days": 7,
       "rotator_in_use_guard": False, "rotator_use_credential_report": False}


class Driver:
    def __init__(self, config, work, verbosity):
        self.rig = Rig(config, work, verbosity)
        self.work = Path(work)
        self.service_dir = self.work / "service"
        self.service_dir.mkdir()
        self.files = self.work / "files"
        self.files.mkdir(mode=0o700)
        self.service = None
        self.port = None
        self.counts = {"consumers_confirmed": 0, "old_keys_held_on_failed_consumer": 0, "kill_resumed": 0}

    # -- the consumer service --------------------------------------------

    def start_service(self):
        self.service = subprocess.Popen([sys.executable, str(HERE / "consumer_service.py"), str(self.service_dir),
                                         self.rig.endpoint, self.rig.region], stdin=subprocess.DEVNULL)
        port_file = self.service_dir / "port"
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if self.service.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the consumer service did not start")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        say("consumer service pid %d on 127.0.0.1:%d" % (self.service.pid, self.port))

    def stop_service(self):
        if self.service is not None:
            self.service.kill()
            self.service.wait(timeout=30)

    def received(self, user):
        path = self.service_dir / "received.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [record for record in map(json.loads, lines) if record["user"] == user]

    # -- runs --------------------------------------------------------------

    def consumer(self, name, tasks, users=("*",), **extra):
        return {"name": name, "tasks": str(HERE / "files" / tasks), "users": list(users),
                "vars": dict(port=self.port, dir=str(self.files), **extra)}

    def start(self, label, users, consumers, **more):
        self.rig.runs += 1
        stem = "%03d-%s" % (self.rig.runs, label)
        run_vars = dict(DUE, rotator_access_key_users=list(users), rotator_consumers=consumers,
                        results_file=str(self.work / (stem + ".results.json")), **more)
        vars_file = self.work / (stem + ".vars.json")
        vars_file.write_text(json.dumps(run_vars))
        log = self.work / (stem + ".log")
        self.rig.logs.append(log)
        with log.open("w") as handle:
            process = subprocess.Popen(["ansible-playbook", "-i", "localhost,", str(PLAYBOOK), "-e", "@%s" % vars_file,
                                        *self.rig.verbosity], stdout=handle, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=self.rig.env(), start_new_session=True)
        process.log = log
        return process

    def run(self, label, users, consumers, **more):
        process = self.start(label, users, consumers, **more)
        rc = process.wait(timeout=600)
        return rc, process.log.read_text()

    # -- facts -------------------------------------------------------------

    def keys(self, user):
        return {key["id"]: key["status"] for key in self.rig.keys(user)}

    def stored(self, user):
        document = self.rig.read_secret("rotator/%s/%s/access-key" % (ACCOUNT, user))
        return document["AccessKeyId"], hashlib.sha256(document["SecretAccessKey"].encode()).hexdigest()

    def confirmed(self, user):
        value = self.rig.tags(user).get(CONSUMERS_TAG)
        if value is None:
            return None
        fields = dict(part.partition("=")[::2] for part in value.split()[1:])
        return fields["key"], fields["done"].split("/")

    def last_used_service(self, key_id):
        used = self.rig.client("iam").get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
        return used.get("ServiceName"), "LastUsedDate" in used

    def check(self, condition, message):
        return self.rig.check(condition, message)

    def role_result(self, label):
        """What the role left for later plays (access_key_rotation_result) in the last run labelled ``label``."""
        [path] = [log for log in self.rig.logs if log.name.endswith("-%s.log" % label)][-1:]
        return json.loads(path.with_name(path.name.replace(".log", ".results.json")).read_text())

    def check_delivered(self, user, consumers, new_id, new_sha):
        """Each consumer got the new key once, it authenticated as the user, and STS shows it used."""
        got = [(record["consumer"], record["access_key_id"], record["secret_sha256"], record["arn"])
               for record in self.received(user)]
        arn = "arn:aws:iam::%s:user/%s" % (ACCOUNT, user)
        self.check(got == [(name, new_id, new_sha, arn) for name in consumers],
                   "%s: the service received %s, expected %s with the new key %s" % (user, [g[:2] for g in got],
                                                                                     consumers, new_id))
        self.check(self.last_used_service(new_id) == ("sts", True),
                   "%s: GetAccessKeyLastUsed of %s is %s" % (user, new_id, self.last_used_service(new_id)))

    # -- cases -------------------------------------------------------------

    def delivered(self):
        user = "c-app"
        [old] = self.rig.seed_user(user, keys=1)
        consumers = [self.consumer("web", "push.yml"), self.consumer("batch", "file_reload.yml")]
        rc, _log = self.run("delivered", [user], consumers)
        new_id, new_sha = self.stored(user)
        self.check(rc == 0, "delivered: rc %s" % rc)
        self.check(self.keys(user) == {old["AccessKeyId"]: "Inactive", new_id: "Active"},
                   "delivered: keys %s" % self.keys(user))
        self.check_delivered(user, ["web", "batch"], new_id, new_sha)
        self.check(self.confirmed(user) == (new_id, ["web", "batch"]), "delivered: tag %s" % (self.confirmed(user),))
        left = self.role_result("delivered")
        self.check([(entry["user_name"], entry["consumers_pending"], "consumer_access_key" in entry)
                    for entry in left["result"]["users"]] == [(user, ["web", "batch"], False)]
                   and [(entry["user_name"], entry["status"], entry["consumers_pending"])
                        for entry in left["released"]["users"]] == [(user, "deactivated", [])],
                   "delivered: the role left %s" % left)
        self.counts["consumers_confirmed"] += len(self.received(user))
        # A second run: nothing due, no consumer runs again.
        rc, _log = self.run("delivered-again", [user], consumers)
        self.check(rc == 0 and len(self.received(user)) == 2, "delivered-again: rc %s, %d deliveries"
                   % (rc, len(self.received(user))))
        again = self.role_result("delivered-again")["result"]
        self.check(again["changed"] is False and [entry["status"] for entry in again["users"]] == ["pending"],
                   "delivered-again: a second run changed something: %s" % again)
        say("delivered: %s got %s from web and batch; old key %s Inactive" % (user, new_id, old["AccessKeyId"]))

    def failing(self):
        user, other = "c-fail", "c-other"
        [old] = self.rig.seed_user(user, keys=1)
        [other_old] = self.rig.seed_user(other, keys=1)
        consumers = [self.consumer("web", "push.yml"), self.consumer("broken", "push.yml", users=["c-fail"])]
        rc, log = self.run("failing", [user, other], consumers)
        new_id, new_sha = self.stored(user)
        other_new, other_sha = self.stored(other)
        self.check(rc == 2, "failing: rc %s, expected 2" % rc)
        self.check("c-fail: consumer broken failed (Push the new key to the service); its old key stays active" in log,
                   "failing: the failure does not name the consumer")
        self.check(self.keys(user) == {old["AccessKeyId"]: "Active", new_id: "Active"},
                   "failing: keys %s" % self.keys(user))
        self.check(self.confirmed(user) == (new_id, ["web"]), "failing: tag %s" % (self.confirmed(user),))
        self.check_delivered(user, ["web"], new_id, new_sha)
        self.check(self.keys(other) == {other_old["AccessKeyId"]: "Inactive", other_new: "Active"},
                   "failing: the other user's keys %s" % self.keys(other))
        self.check_delivered(other, ["web"], other_new, other_sha)
        self.counts["consumers_confirmed"] += len(self.received(user)) + len(self.received(other))
        if self.keys(user)[old["AccessKeyId"]] == "Active":
            self.counts["old_keys_held_on_failed_consumer"] += 1
        say("failing: %s keeps %s active, consumer broken named; %s done" % (user, old["AccessKeyId"], other))

    def killed(self):
        user = "c-kill"
        marker = self.work / "marker"
        [old] = self.rig.seed_user(user, keys=1)
        consumers = [self.consumer("web", "push.yml"), self.consumer("slow", "after_marker.yml", marker=str(marker))]
        process = self.start("killed", [user], consumers)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            confirmed = self.confirmed(user)
            if confirmed and confirmed[1] == ["web"]:
                break
            time.sleep(0.2)
        self.check(process.poll() is None, "killed: the run ended before the first consumer confirmed")
        self.rig.kill(process)
        new_id, new_sha = self.stored(user)
        self.check(self.keys(user) == {old["AccessKeyId"]: "Active", new_id: "Active"},
                   "killed: keys after the kill %s" % self.keys(user))
        self.check(self.confirmed(user) == (new_id, ["web"]), "killed: tag after the kill %s" % (self.confirmed(user),))
        marker.write_text("go\n")
        rc, _log = self.run("killed-rerun", [user], consumers)
        self.check(rc == 0, "killed-rerun: rc %s" % rc)
        self.check_delivered(user, ["web", "slow"], new_id, new_sha)
        self.check(self.confirmed(user) == (new_id, ["web", "slow"]), "killed-rerun: tag %s" % (self.confirmed(user),))
        self.check(self.keys(user) == {old["AccessKeyId"]: "Inactive", new_id: "Active"},
                   "killed-rerun: keys %s" % self.keys(user))
        self.counts["consumers_confirmed"] += len(self.received(user))
        self.counts["kill_resumed"] += 1
        say("killed: after the kill only slow ran; old key %s Inactive" % old["AccessKeyId"])

    def bad_definitions(self):
        """Bad definitions fail before any AWS call: no key is created, no tag written."""
        user = "c-bad"
        self.rig.seed_user(user, keys=1)
        cases = {
            "missing tasks": [{"name": "web"}],
            "no such file": [{"name": "web", "tasks": str(self.work / "nowhere.yml")}],
            "duplicate": [self.consumer("web", "push.yml"), self.consumer("web", "file_reload.yml")],
            "unknown key": [dict(self.consumer("web", "push.yml"), when="always")],
            "bad name": [self.consumer("web site", "push.yml")],
        }
        expected = {
            "missing tasks": "missing required arguments: tasks",
            "no such file": "the task file %s of consumer web does not exist" % (self.work / "nowhere.yml"),
            "duplicate": "rotator_consumers: each name must be used once, got web, web",
            "unknown key": "when",
            "bad name": "name 'web site' must be 1-48 of letters, digits and _.:+@-",
        }
        for label, consumers in cases.items():
            self.rig.calls_reset()
            rc, log = self.run("bad-" + label.replace(" ", "-"), [user], consumers)
            mutating = [call["action"] for call in self.rig.calls() if call["action"] in ("CreateAccessKey", "TagUser")]
            if not self.check(rc == 2 and expected[label] in log and not mutating,
                              "bad definition %s: rc %s, message found %s, calls %s" % (
                                  label, rc, expected[label] in log, mutating)):
                failed = [line for line in log.splitlines() if "FAILED" in line or '"msg"' in line]
                say("its failed tasks:\n" + "\n".join(failed))
        self.check(len(self.rig.keys(user)) == 1 and ACCESS_KEY_TAG not in self.rig.tags(user),
                   "bad definitions changed user %s" % user)
        say("bad definitions: %d refused before any change" % len(cases))


def main(config, work, *verbosity):
    driver = Driver(config, work, verbosity)
    driver.rig.reset()
    driver.start_service()
    try:
        driver.bad_definitions()
        driver.delivered()
        driver.failing()
        driver.killed()
    finally:
        driver.stop_service()
    driver.rig.check_tags([(driver.rig.client("iam"), ["c-app", "c-fail", "c-other", "c-kill", "c-bad"])])
    hits = driver.rig.scan()
    print("consumers: confirmed %(consumers_confirmed)d, old keys held on a failed consumer "
          "%(old_keys_held_on_failed_consumer)d, killed runs resumed %(kill_resumed)d" % driver.counts
          + ", secrets found in output or tags %d" % hits, flush=True)
    driver.rig.done({"target": "consumers", **driver.counts})


if __name__ == "__main__":
    main(*sys.argv[1:])

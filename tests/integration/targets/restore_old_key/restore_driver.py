"""The way back through the collection's playbooks, against the stub.

Usage: python restore_driver.py INTEGRATION_CONFIG WORK_DIR [ansible-playbook verbosity...]

rotator.aws_iam.rotate rotates (the old key deactivated in the same run,
deleted a week later); rotator.aws_iam.restore_old_key then:

* reactivates the old key, records the hold (state ``restored=``) and why and
  by whom (tag rotator:restore), shows where the old key was last used; a
  later rotate run with the deletion due leaves it active; resume lifts the
  hold and the next rotate run deactivates and deletes it;
* is refused during an incident (keys and tags as before), and when the old
  key was already deleted;
* repairs a lost answer: UpdateAccessKey applied by AWS but every answer
  dropped, then the rerun finishes (a rotate run in between holds the key);
* in check mode changes nothing and says what the real run does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "setup_fault_driver" / "files"))
from faultlib import ACCESS_KEY_TAG, Rig, say  # noqa: E402

RESTORE_TAG = "rotator:restore"
ROTATE = {"rotator_rotate_after_days": 0, "rotator_deactivate_after_days": 0, "rotator_delete_after_days": 7,
          "rotator_in_use_guard": False, "rotator_use_credential_report": False}
REASON = "SEC-42 billing export fails with the new key"
BY = "alice@example.com"


class Driver:
    def __init__(self, config, work, verbosity):
        self.rig = Rig(config, work, verbosity)
        self.work = Path(work)

    def play(self, label, playbook, run_vars, *extra):
        self.rig.runs += 1
        stem = "%03d-%s" % (self.rig.runs, label)
        vars_file = self.work / (stem + ".vars.json")
        vars_file.write_text(json.dumps(run_vars))
        log = self.work / (stem + ".log")
        self.rig.logs.append(log)
        with log.open("w") as handle:
            rc = subprocess.run(["ansible-playbook", "-i", "localhost,", playbook, "-e", "@%s" % vars_file,
                                 *self.rig.verbosity, *extra], stdout=handle, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=self.rig.env(), check=False, timeout=600).returncode
        return rc, log.read_text()

    def rotate(self, label, user, **more):
        return self.play(label, "rotator.aws_iam.rotate", dict(ROTATE, rotator_access_key_users=[user], **more))

    def restore(self, label, user, *extra, **more):
        run_vars = dict(rotator_restore_users=[user], rotator_restore_reason=REASON, rotator_restore_by=BY, **more)
        return self.play(label, "rotator.aws_iam.restore_old_key", run_vars, *extra)

    def keys(self, user):
        return {key["id"]: key["status"] for key in self.rig.keys(user)}

    def rotated(self, user):
        """A user rotated once: (old key, new key), the old one Inactive."""
        [old] = self.rig.seed_user(user, keys=1)
        rc, _log = self.rotate("rotate-" + user, user)
        [new] = [key for key in self.keys(user) if key != old["AccessKeyId"]]
        self.check(rc == 0 and self.keys(user) == {old["AccessKeyId"]: "Inactive", new: "Active"},
                   "%s: rotation rc %s, keys %s" % (user, rc, self.keys(user)))
        return old, new

    def check(self, condition, message):
        return self.rig.check(condition, message)

    def line(self, log, user):
        """The summary line the restore playbook printed for a user."""
        lines = [line.strip().strip('"') for line in log.splitlines() if line.strip().startswith('"msg": "%s: ' % user)]
        return lines[-1][len('"msg": '):] if lines else None

    # -- cases -------------------------------------------------------------

    def restore_hold_resume(self):
        user = "r-app"
        old, new = self.rotated(user)
        old_id = old["AccessKeyId"]
        # A consumer still signing with the old key shows where it was last used.
        self.rig.caller_arn(old_id, old["SecretAccessKey"])
        rc, log = self.restore("restore", user)
        tags = self.rig.tags(user)
        self.check(rc == 0, "restore: rc %s" % rc)
        self.check(self.keys(user) == {old_id: "Active", new: "Active"}, "restore: keys %s" % self.keys(user))
        self.check(" restored=" in tags[ACCESS_KEY_TAG], "restore: state %s" % tags[ACCESS_KEY_TAG])
        self.check(tags[RESTORE_TAG].startswith("v1 key=%s at=" % old_id)
                   and tags[RESTORE_TAG].endswith(" by=%s reason=%s" % (BY, REASON)), "restore: tag %s" % tags[RESTORE_TAG])
        printed = self.line(log, user)
        say("restore printed: %s" % printed)
        self.check(printed is not None and printed.startswith("%s: restored | actions: reactivate |" % user)
                   and "(sts, us-east-1)" in printed, "restore: line %s" % printed)
        rc, log = self.rotate("held", user, rotator_delete_after_days=0)
        self.check(rc == 0 and "%s: held" % user in log, "held: rc %s" % rc)
        self.check(self.keys(user) == {old_id: "Active", new: "Active"}, "held: keys %s" % self.keys(user))
        rc, log = self.restore("resume", user, rotator_restore_resume=True)
        self.check(rc == 0 and RESTORE_TAG not in self.rig.tags(user), "resume: rc %s, tags %s" % (rc, self.rig.tags(user)))
        rc, log = self.rotate("resumed", user, rotator_delete_after_days=0)
        self.check(rc == 0 and self.keys(user) == {new: "Active"}, "resumed: rc %s, keys %s" % (rc, self.keys(user)))
        say("restore, hold across a due deletion, resume: %s reactivated, then retired" % old_id)

    def refused_during_an_incident(self):
        user = "r-inc"
        [old] = self.rig.seed_user(user, keys=1)
        rc, _log = self.rotate("incident", user, rotator_force=True, rotator_rotate_after_days=90)
        before = (self.keys(user), self.rig.tags(user))
        self.check(rc == 0 and before[0][old["AccessKeyId"]] == "Inactive" and " incident=1" in before[1][ACCESS_KEY_TAG],
                   "incident: rc %s, %s" % (rc, before))
        rc, log = self.restore("restore-incident", user)
        self.check(rc == 2 and "replaces a key revoked in an incident" in log, "restore during an incident: rc %s" % rc)
        self.check((self.keys(user), self.rig.tags(user)) == before, "restore during an incident changed something")
        say("restore refused during an incident, nothing changed")

    def refused_when_deleted(self):
        user = "r-del"
        old, new = self.rotated(user)
        self.rotate("delete", user, rotator_delete_after_days=0)
        before = (self.keys(user), self.rig.tags(user))
        rc, log = self.restore("restore-deleted", user)
        self.check(rc == 2 and "has no old key to reactivate" in log, "restore of a deleted key: rc %s" % rc)
        self.check((self.keys(user), self.rig.tags(user)) == before == ({new: "Active"}, before[1]),
                   "restore of a deleted key changed something: %s" % (self.keys(user),))
        say("restore refused when old key %s was deleted" % old["AccessKeyId"])

    def lost_answer(self):
        user = "r-lost"
        old, new = self.rotated(user)
        old_id = old["AccessKeyId"]
        self.rig.faults(drop_rate=1.0, drop_phase="response", actions=["UpdateAccessKey"], max_faults=10)
        rc, _log = self.restore("restore-lost", user)
        self.rig.faults()
        self.check(rc == 2 and self.keys(user) == {old_id: "Active", new: "Active"},
                   "lost answer: rc %s, keys %s" % (rc, self.keys(user)))
        rc, log = self.rotate("lost-then-rotate", user, rotator_delete_after_days=0)
        self.check(rc == 0 and self.keys(user) == {old_id: "Active", new: "Active"},
                   "a rotate run after the lost answer: rc %s, keys %s" % (rc, self.keys(user)))
        rc, log = self.restore("restore-rerun", user)
        self.check(rc == 0 and (self.line(log, user) or "").startswith("%s: held | actions: none" % user),
                   "rerun after the lost answer: rc %s, %s" % (rc, self.line(log, user)))
        say("lost answer to UpdateAccessKey repaired by the rerun")

    def check_mode(self):
        user = "r-chk"
        old, new = self.rotated(user)
        before = (self.keys(user), self.rig.tags(user))
        rc, planned = self.restore("restore-check", user, "--check")
        self.check(rc == 0 and (self.keys(user), self.rig.tags(user)) == before, "check mode changed something")
        rc, real = self.restore("restore-real", user)
        plan_line, real_line = self.line(planned, user), self.line(real, user)
        expected = "%s: restored | actions: reactivate |" % user
        self.check(rc == 0 and plan_line.startswith(expected) and real_line.startswith(expected),
                   "check mode: %s / %s" % (plan_line, real_line))
        self.check(self.keys(user) == {old["AccessKeyId"]: "Active", new: "Active"}, "after check then real: keys")
        say("check mode: %s" % plan_line)


def main(config, work, *verbosity):
    driver = Driver(config, work, verbosity)
    driver.rig.reset()
    driver.restore_hold_resume()
    driver.refused_during_an_incident()
    driver.refused_when_deleted()
    driver.lost_answer()
    driver.check_mode()
    driver.rig.check_tags([(driver.rig.client("iam"), ["r-app", "r-inc", "r-del", "r-lost", "r-chk"])])
    hits = driver.rig.scan()
    print("restore_old_key: %d cases, failures %d, secrets found in output or tags %d"
          % (5, len(driver.rig.failures), hits), flush=True)
    driver.rig.done({"target": "restore_old_key"})


if __name__ == "__main__":
    main(*sys.argv[1:])

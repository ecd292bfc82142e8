"""Kill the module process itself at each mutating AWS call, then check that the next run repairs.

Usage: python kill_matrix.py INTEGRATION_CONFIG WORK_DIR [ansible-playbook verbosity...]

For access keys (incident response: force, 0-day windows, no in-use guard,
so one run creates, stores, verifies, deactivates and deletes) and for
console passwords (force), a baseline run lists the AWS calls of a full
rotation.  Then, for each call that changes something, the stub holds it
open, either before it reaches AWS (mode ``hang``) or after AWS applied it
(``hang-response``: only the answer is held), and the module's own python
process (the one running the AnsiballZ payload of iam_access_key_rotate or
iam_password_rotate, found among all descendants of ansible-playbook: the
workers call setsid(), so signalling the playbook's process group would
leave the module running) gets SIGKILL.  The driver proves it died (its pid
is gone) and that no AWS call arrives after the held one, then releases the
call and lets ansible-playbook report the dead module.

Each case starts from an empty AWS where the destination (Secrets Manager)
already holds the user's current secret, as it would in production.  The
state right after the kill is exactly what the calls AWS applied made (the
calls before the held one, and the held one with ``hang-response``):

* access keys: the old key is Active, Inactive after UpdateAccessKey, gone
  after DeleteAccessKey; a new key exists (Active) once CreateAccessKey
  applied; the destination names the new key once PutSecretValue applied,
  else the old key;
* passwords: IAM holds the seeded password until UpdateLoginProfile
  applied, then the destination's pending value; the destination's current
  value is the seeded one until UpdateSecretVersionStage applied, then the
  one IAM holds.

Then one follow-up run (the same arguments) must repair and succeed, and a
scheduled run without force must change nothing.  In the end: the
destination's key is the user's only key, a new one, and authenticates as
the user (passwords: IAM holds the destination's current value, a new one,
and no pending value is left); no key beyond the second was requested, at
most two keys were created per case; the rotation state is settled; no
secret is in any output or tag.  One summary line per fault class is
printed (see faultlib.FaultTally).
"""

from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "setup_fault_driver" / "files"))
from faultlib import (ACCESS_KEY_TAG, ACCOUNT, MUTATING, Destination, FaultTally, Rig,  # noqa: E402
                      creates_reaching_aws, peak_keys, runs_payload, say)

AK_USER = "kill-ak"
AK_SECRET = "rotator/%s/%s/access-key" % (ACCOUNT, AK_USER)
PW_USER = "kill-pw"
PW_SECRET = "rotator/%s/%s/console-password" % (ACCOUNT, PW_USER)
AK_ARGS = {"user_name": AK_USER, "force": True, "deactivate_after_days": 0, "delete_after_days": 0,
           "in_use_guard": False}
AK_STEADY = dict(AK_ARGS, force=False)
PW_ARGS = {"user_name": PW_USER, "force": True}
PW_STEADY = {"user_name": PW_USER}
MODULES = {"access_key": "iam_access_key_rotate", "password": "iam_password_rotate"}
# A kill at a read leaves what the kill at the next write leaves, so only the calls in MUTATING are killed at.
MODES = ("hang", "hang-response")


def seed_access_keys(rig):
    rig.reset()
    old = rig.seed_user(AK_USER, keys=1)[0]
    Destination(rig, "secretsmanager", AK_SECRET).seed(
        {"UserName": AK_USER, "AccessKeyId": old["AccessKeyId"], "SecretAccessKey": old["SecretAccessKey"]})
    rig.calls_reset()
    return old["AccessKeyId"]


def seed_password(rig):
    rig.reset()
    password = "Kp-" + secrets.token_urlsafe(18) + "9!a"
    rig.read_back.add(password)
    rig.seed_user(PW_USER, keys=0, password=password)
    Destination(rig, "secretsmanager", PW_SECRET).seed(
        {"UserName": PW_USER, "Password": password, "AccountId": ACCOUNT,
         "SignInUrl": "https://%s.signin.aws.amazon.com/console" % ACCOUNT})
    iam = rig.client("iam")
    for _attempt in range(10):  # a report that is ready spares the module its wait
        if iam.generate_credential_report()["State"] == "COMPLETE":
            break
        time.sleep(0.2)
    rig.calls_reset()
    return password


SEED = {"access_key": seed_access_keys, "password": seed_password}
ARGS = {"access_key": AK_ARGS, "password": PW_ARGS}
STEADY = {"access_key": AK_STEADY, "password": PW_STEADY}
DESTINATION = {"access_key": AK_SECRET, "password": PW_SECRET}


def baseline(rig, kind):
    SEED[kind](rig)
    rc, results = rig.run("baseline-%s" % kind, {"module": kind, "rotate_args": ARGS[kind]})
    calls = [call["action"] for call in rig.calls()]
    rig.check(rc == 0 and results["rotation"]["changed"], "%s baseline failed: rc %s" % (kind, rc))
    return calls


def kill_at(rig, kind, k, mode, expected_action):
    """Seed, hold the k-th call, kill the module process; returns (what was seeded, pid killed) or None."""
    seeded = SEED[kind](rig)
    rig.faults(fail_after=k - 1, mode=mode)
    process = rig.start("kill-%s-%s-%02d" % (kind, mode, k), {"module": kind, "rotate_args": ARGS[kind]})
    held = rig.wait_held(process)
    if held is None:
        rig.finish(process)
        rig.faults()
        rig.fail("%s: the run ended before call %d (%s)" % (kind, k, expected_action))
        return None
    rig.check(held["action"] == expected_action, "%s, %s at call %d: the stub held %s, the baseline's call is %s"
              % (kind, mode, k, held["action"], expected_action))
    pid = rig.kill_module(process, MODULES[kind])
    in_process = pid is not None and not runs_payload(pid, MODULES[kind])
    calls_at_kill = len(rig.calls())
    rig.faults()  # releases the held request: its connection is dropped unanswered
    rc, results = rig.finish(process)
    later = rig.calls()[calls_at_kill:]
    rig.check(not later, "%s, %s at call %d: AWS calls arrived after the module was killed: %s"
              % (kind, mode, k, [call["action"] for call in later]))
    if in_process:
        # The module ran in ansible-playbook's worker (the collection's action plugin): a dead
        # worker ends the whole run, before any later task could record a result.
        rig.check(rc != 0 and results is None,
                  "%s, %s at call %d: after its worker was killed the run ended with rc %s and results %s"
                  % (kind, mode, k, rc, results))
    else:
        rotation = (results or {}).get("rotation") or {}
        rig.check(rotation.get("failed") is True,
                  "%s, %s at call %d: the task reported %s although its module was killed"
                  % (kind, mode, k, "no result" if not rotation else "success"))
    rig.stats["workers_killed" if in_process else "module_processes_killed"] += 1 if pid else 0
    return seeded, pid


def applied_calls(full, k, mode):
    """The calls AWS performed before the kill: those before the held one, and the held one after hang-response."""
    return full[:k - 1] + (full[k - 1:k] if mode == "hang-response" else [])


def expected_access_keys(applied, old, new):
    keys = {}
    if "DeleteAccessKey" not in applied:
        keys[old] = "Inactive" if "UpdateAccessKey" in applied else "Active"
    if "CreateAccessKey" in applied:
        keys[new] = "Active"
    stored = new if {"PutSecretValue", "CreateSecret"} & set(applied) else old
    return keys, stored


def access_key_case(rig, tally, full, k, mode):
    case = "access keys, %s at call %d (%s)" % (mode, k, full[k - 1])
    killed = kill_at(rig, "access_key", k, mode, full[k - 1])
    if killed is None:
        return None
    old = killed[0]
    tally.case()
    destination = Destination(rig, "secretsmanager", AK_SECRET)
    keys, stored = tally.access_keys(rig, case + ", after the kill", AK_USER, destination, held={old})
    new = next((key for key in keys if key != old), None)
    want_keys, want_stored = expected_access_keys(applied_calls(full, k, mode), old, new)
    after_kill = rig.check(keys == want_keys and stored == want_stored,
                           "%s: after the kill keys %s and the destination names %s; expected keys %s, destination %s"
                           % (case, keys, stored, want_keys, want_stored))
    rc, results = rig.run("rerun-ak-%s-%02d" % (mode, k),
                          {"module": "access_key", "rotate_args": AK_ARGS, "converge_args": AK_STEADY})
    rotation, steady = (results or {}).get("rotation") or {}, (results or {}).get("steady") or {}
    tally.forced_run(rig, case + ", follow-up", AK_USER, rotation, old)
    rig.check(rotation and not rotation.get("failed"),
              "%s: the follow-up run did not succeed: %s" % (case, rotation.get("msg")))
    rig.check(steady and not steady.get("failed") and not steady.get("changed"),
              "%s: a scheduled run after the repair still changed something: %s"
              % (case, [(u.get("status"), u.get("actions"), u.get("msg")) for u in steady.get("users", [])]))
    keys, stored = tally.access_keys(rig, case + ", after the follow-up", AK_USER, destination, held={old},
                                     end_of_case=True)
    calls = rig.calls()
    creates = creates_reaching_aws(calls, AK_USER)
    rig.check(stored is not None and stored != old and keys == {stored: "Active"},
              "%s: after the follow-up keys %s and the destination names %s (old %s): expected only a new stored key"
              % (case, keys, stored, old))
    rig.check(not [c for c in calls if c["action"] == "CreateAccessKey" and c["status"] not in (200, None)],
              "%s: a CreateAccessKey was refused (a third key requested)" % case)
    rig.check(peak_keys(calls, AK_USER) <= 2, "%s: the user had %d keys at once" % (case, peak_keys(calls, AK_USER)))
    rig.check(len(creates) <= 2, "%s: %d keys were created to finish one rotation" % (case, len(creates)))
    state = rig.tags(AK_USER).get(ACCESS_KEY_TAG, "")
    rig.check("creating=" not in state, "%s: the announced create is still unsettled: %s" % (case, state))
    rig.check_tags([(rig.client("iam"), [AK_USER])])
    return {"case": case, "after_kill": "as expected" if after_kill else "unexpected", "keys_created": len(creates),
            "repair": [a["action"] for u in rotation.get("users", []) for a in u.get("actions", [])]}


def expected_password(applied, full):
    """What IAM holds against the seed and the destination's values, from the calls AWS applied.

    The first UpdateSecretVersionStage moves AWSCURRENT to the pending version; AWSPENDING leaves it with the
    flow's last one, so until then the pending value is the current one.
    """
    set_in_iam = "UpdateLoginProfile" in applied
    promoted = "UpdateSecretVersionStage" in applied
    pending_label_gone = applied.count("UpdateSecretVersionStage") == full.count("UpdateSecretVersionStage")
    return {"iam_holds_seed": not set_in_iam, "iam_holds_pending": set_in_iam and not pending_label_gone,
            "current_is_seed": not promoted, "iam_holds_current": not set_in_iam or promoted}


def password_observed(rig, tally, label, seed):
    destination = Destination(rig, "secretsmanager", PW_SECRET)
    current_ok, pending_ok = tally.password(rig, label, PW_USER, destination)
    current = (destination.read() or {}).get("Password")
    return {"iam_holds_seed": rig.login_matches(PW_USER, seed), "iam_holds_pending": pending_ok,
            "current_is_seed": current == seed, "iam_holds_current": current_ok}


def password_case(rig, tally, full, k, mode):
    case = "passwords, %s at call %d (%s)" % (mode, k, full[k - 1])
    killed = kill_at(rig, "password", k, mode, full[k - 1])
    if killed is None:
        return None
    seed = killed[0]
    tally.case()
    observed = password_observed(rig, tally, case + ", after the kill", seed)
    want = expected_password(applied_calls(full, k, mode), full)
    after_kill = rig.check(observed == want, "%s: after the kill %s, expected %s" % (case, observed, want))
    rc, results = rig.run("rerun-pw-%s-%02d" % (mode, k),
                          {"module": "password", "rotate_args": PW_ARGS, "converge_args": PW_STEADY})
    rotation, steady = (results or {}).get("rotation") or {}, (results or {}).get("steady") or {}
    rig.check(rotation and not rotation.get("failed"),
              "%s: the follow-up run did not succeed: %s" % (case, rotation.get("msg")))
    rig.check(steady and not steady.get("failed") and not steady.get("changed"),
              "%s: a scheduled run after the repair still changed something" % case)
    observed = password_observed(rig, tally, case + ", after the follow-up", seed)
    has_pending = Destination(rig, "secretsmanager", PW_SECRET).read(pending=True) is not None
    rig.check(observed["iam_holds_current"] and not observed["current_is_seed"] and not has_pending,
              "%s: after the follow-up %s, pending value left: %s" % (case, observed, has_pending))
    rig.check_tags([(rig.client("iam"), [PW_USER])])
    return {"case": case, "after_kill": "as expected" if after_kill else "unexpected",
            "repair": [a.get("action", a) if isinstance(a, dict) else a
                       for u in rotation.get("users", []) for a in u.get("actions", [])]}


def matrix(rig, kind, case_function):
    tally = FaultTally("kill-" + kind.replace("_", "-"))
    full = baseline(rig, kind)
    say("%s: a full rotation makes %d calls: %s" % (kind, len(full), full))
    cases = []
    for k, action in enumerate(full, start=1):
        if action not in MUTATING:
            continue
        for mode in MODES:
            started = time.monotonic()
            outcome = case_function(rig, tally, full, k, mode)
            if outcome is None:
                continue
            say("%s (%.1fs): %s" % (outcome["case"], time.monotonic() - started,
                                    {key: value for key, value in outcome.items() if key != "case"}))
            cases.append(outcome)
    return tally, {"calls": full, "cases": len(cases),
                   "unexpected_after_kill": [c["case"] for c in cases if c["after_kill"] != "as expected"]}


def main():
    config, work, verbosity = sys.argv[1], sys.argv[2], sys.argv[3:]
    rig = Rig(config, work, verbosity)
    tallies, summary = [], {}
    for kind, case_function in (("access_key", access_key_case), ("password", password_case)):
        tally, summary[kind] = matrix(rig, kind, case_function)
        tallies.append(tally)
    rig.conclude(tallies, summary)


if __name__ == "__main__":
    main()

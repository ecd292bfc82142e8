"""Kill a rotation at each of its AWS calls with SIGKILL, then check that reruns repair it.

Usage: python kill_matrix.py INTEGRATION_CONFIG WORK_DIR [ansible-playbook verbosity...]

For access keys (incident response: force, 0-day windows, no in-use guard,
so one run creates, stores, verifies, deactivates and deletes) and for
console passwords (force), a baseline run counts the N AWS calls of a full
rotation.  Then for each k in 1..N the stub holds the k-th call open (mode
``hang``: it never reaches AWS) and the whole process group of
ansible-playbook, the module's python process included, gets SIGKILL while
the call waits.  For the calls that change something, the last call and the
calls whose answer carries the new secret are also run with ``hang-response``
(AWS performed the call; the answer never arrives).  Each case starts from an empty AWS where the destination already
holds the user's current secret, as it would in production.

Checked right after the kill: the consumer is not locked out (the
destination's key is Active and authenticates as the user; for passwords,
IAM's password is the destination's current or pending value) and the user
never has more than two keys.  Then a rerun with the same arguments (up to
two reruns) must succeed, and a scheduled run without force must report
nothing to do.  Checked in the end: the destination's current secret
authenticates as the user (for passwords: equals what IAM holds, with no
pending value left), every Active key is that one (the old key's 0-day
window is over), no key beyond the second was requested (no LimitExceeded,
at most two keys at any moment, at most two keys created per case), the
rotation state is settled, and no secret is in any output or tag.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "setup_fault_driver" / "files"))
from faultlib import ACCESS_KEY_TAG, ACCOUNT, Rig, creates_reaching_aws, peak_keys, say  # noqa: E402

AK_USER = "kill-ak"
AK_SECRET = "rotator/%s/%s/access-key" % (ACCOUNT, AK_USER)
PW_USER = "kill-pw"
PW_SECRET = "rotator/%s/%s/console-password" % (ACCOUNT, PW_USER)
AK_ARGS = {"user_name": AK_USER, "force": True, "deactivate_after_days": 0, "delete_after_days": 0,
           "in_use_guard": False}
AK_STEADY = dict(AK_ARGS, force=False)
PW_ARGS = {"user_name": PW_USER, "force": True}
PW_STEADY = {"user_name": PW_USER}
# A killed process forgets what AWS answered, so "call k done, answer lost" leaves AWS as "call k+1 never
# started" does: hang-response adds a case only for the last call, and is kept for the two calls whose
# answer matters most (the new key's secret exists only in CreateAccessKey's answer).
ANSWER_CASES = {"CreateAccessKey", "UpdateLoginProfile"}


def seed_access_keys(rig):
    rig.reset()
    old = rig.seed_user(AK_USER, keys=1)[0]
    rig.client("secretsmanager").create_secret(Name=AK_SECRET, SecretString=json.dumps(
        {"UserName": AK_USER, "AccessKeyId": old["AccessKeyId"], "SecretAccessKey": old["SecretAccessKey"]}))
    rig.calls_reset()
    return old["AccessKeyId"]


def seed_password(rig):
    rig.reset()
    password = "Kp-" + secrets.token_urlsafe(18) + "9!a"
    rig.seed_user(PW_USER, keys=0, password=password)
    rig.client("secretsmanager").create_secret(Name=PW_SECRET, SecretString=json.dumps(
        {"UserName": PW_USER, "Password": password, "AccountId": ACCOUNT,
         "SignInUrl": "https://%s.signin.aws.amazon.com/console" % ACCOUNT}))
    iam = rig.client("iam")
    for _attempt in range(5):  # a report that is ready spares the module its wait
        if iam.generate_credential_report()["State"] == "COMPLETE":
            break
        time.sleep(0.2)
    rig.calls_reset()
    return password


def destination_key(rig):
    document = rig.read_secret(AK_SECRET) or {}
    key_id = document.get("AccessKeyId")
    arn = rig.caller_arn(key_id, document["SecretAccessKey"]) if key_id else "none"
    return key_id, arn


def password_state(rig):
    """(current matches IAM, pending matches IAM, a pending value exists)."""
    current = rig.read_secret(PW_SECRET) or {}
    pending = rig.read_secret(PW_SECRET, "AWSPENDING")
    return (bool(current.get("Password")) and rig.login_matches(PW_USER, current["Password"]),
            bool(pending) and rig.login_matches(PW_USER, pending["Password"]), pending is not None)


def baseline(rig, kind):
    if kind == "access_key":
        seed_access_keys(rig)
        rc, results = rig.run("baseline-ak", {"module": "access_key", "rotate_args": AK_ARGS})
    else:
        seed_password(rig)
        rc, results = rig.run("baseline-pw", {"module": "password", "rotate_args": PW_ARGS})
    calls = rig.calls()
    rig.check(rc == 0 and results["rotation"]["changed"], "%s baseline failed: rc %s" % (kind, rc))
    return [call["action"] for call in calls]


def kill_at(rig, kind, k, mode):
    """Seed, hold the k-th call, kill the run; returns the held call or None when the run made fewer calls."""
    if kind == "access_key":
        before = seed_access_keys(rig)
        run_vars = {"module": "access_key", "rotate_args": AK_ARGS}
    else:
        before = seed_password(rig)
        run_vars = {"module": "password", "rotate_args": PW_ARGS}
    rig.faults(fail_after=k - 1, mode=mode)
    process = rig.start("kill-%s-%s-%02d" % (kind, mode, k), run_vars)
    held = rig.wait_held(process)
    if held is None:
        rig.finish(process)
        rig.faults()
        return None, before, []
    modules = rig.kill(process)
    rig.faults()  # releases the held request: its connection is dropped unanswered
    rig.stats["kills"] += 1
    rig.stats["module_processes_killed"] += len(modules)
    return held, before, modules


def access_key_case(rig, k, mode):
    held, old_key, modules = kill_at(rig, "access_key", k, mode)
    if held is None:
        return None
    case = "access keys, %s at call %d (%s)" % (mode, k, held["action"])
    rig.check(modules, "%s: no module process was running when the run was killed" % case)
    # Right after the kill: the consumer still has a working key, and there are at most two.
    keys = rig.keys(AK_USER)
    dest_id, dest_arn = destination_key(rig)
    active = [key["id"] for key in keys if key["status"] == "Active"]
    rig.check(dest_arn.endswith(":user/" + AK_USER) and dest_id in active,
              "%s: after the kill the destination's key %s is not an Active key of the user (%s, keys %s)"
              % (case, dest_id, dest_arn, keys))
    rig.check(len(keys) <= 2, "%s: %d keys after the kill" % (case, len(keys)))
    stored_after_kill = dest_id
    # Rerun (at most two reruns), then a scheduled run without force.
    rerun_vars = {"module": "access_key", "rotate_args": AK_ARGS, "reruns": 1, "converge_args": AK_STEADY}
    rc, results = rig.run("rerun-ak-%s-%02d" % (mode, k), rerun_vars)
    rotation, steady = (results or {}).get("rotation") or {}, (results or {}).get("steady") or {}
    attempts = rotation.get("attempts", 1)
    rig.check(rotation and not rotation.get("failed"),
              "%s: the reruns did not succeed: %s" % (case, rotation.get("msg")))
    rig.check(steady and not steady.get("failed") and not steady.get("changed"),
              "%s: a scheduled run after the repair still changed something: %s"
              % (case, [(u.get("status"), u.get("actions")) for u in steady.get("users", [])]))
    keys = rig.keys(AK_USER)
    dest_id, dest_arn = destination_key(rig)
    calls = rig.calls()
    creates = creates_reaching_aws(calls, AK_USER)
    rig.check(dest_arn.endswith(":user/" + AK_USER), "%s: the destination's key authenticates as %s" % (case, dest_arn))
    rig.check(dest_id != old_key, "%s: the destination still holds the old key" % case)
    rig.check(keys == [{"id": dest_id, "status": "Active"}],
              "%s: keys %s, but only the destination's key %s should be left" % (case, keys, dest_id))
    rig.check(not [c for c in calls if c["action"] == "CreateAccessKey" and c["status"] not in (200, None)],
              "%s: a CreateAccessKey was refused (a third key requested)" % case)
    rig.check(peak_keys(calls, AK_USER) <= 2, "%s: the user had %d keys at once" % (case, peak_keys(calls, AK_USER)))
    rig.check(len(creates) <= 2, "%s: %d keys were created to finish one rotation" % (case, len(creates)))
    state = rig.tags(AK_USER).get(ACCESS_KEY_TAG, "")
    rig.check("creating=" not in state, "%s: the announced create is still unsettled: %s" % (case, state))
    rig.check_tags([(rig.client("iam"), [AK_USER])])
    rig.stats["access_key_cases"] += 1
    return {"case": case, "stored_after_kill": "old" if stored_after_kill == old_key else "new",
            "reruns": attempts, "keys_created": len(creates),
            "repair": [a["action"] for u in rotation.get("users", []) for a in u.get("actions", [])]}


def password_case(rig, k, mode):
    held, _seeded, modules = kill_at(rig, "password", k, mode)
    if held is None:
        return None
    case = "passwords, %s at call %d (%s)" % (mode, k, held["action"])
    rig.check(modules, "%s: no module process was running when the run was killed" % case)
    current_ok, pending_ok, _has_pending = password_state(rig)
    rig.check(current_ok or pending_ok,
              "%s: after the kill IAM holds a password that is neither the destination's current nor pending value"
              % case)
    after_kill = "current" if current_ok else "pending"
    rerun_vars = {"module": "password", "rotate_args": PW_ARGS, "reruns": 1, "converge_args": PW_STEADY}
    rc, results = rig.run("rerun-pw-%s-%02d" % (mode, k), rerun_vars)
    rotation, steady = (results or {}).get("rotation") or {}, (results or {}).get("steady") or {}
    rig.check(rotation and not rotation.get("failed"),
              "%s: the reruns did not succeed: %s" % (case, rotation.get("msg")))
    rig.check(steady and not steady.get("failed") and not steady.get("changed"),
              "%s: a scheduled run after the repair still changed something" % case)
    current_ok, _pending_ok, has_pending = password_state(rig)
    rig.check(current_ok, "%s: the destination's current password is not the one IAM holds" % case)
    rig.check(not has_pending, "%s: a pending password was left in the destination" % case)
    rig.check_tags([(rig.client("iam"), [PW_USER])])
    rig.stats["password_cases"] += 1
    return {"case": case, "iam_password_after_kill_is": after_kill, "reruns": rotation.get("attempts", 1),
            "repair": [a.get("action", a) if isinstance(a, dict) else a
                       for u in rotation.get("users", []) for a in u.get("actions", [])]}


def matrix(rig, kind, case_function):
    full = baseline(rig, kind)
    say("%s: a full rotation makes %d calls: %s" % (kind, len(full), full))
    cases = []
    for mode in ("hang", "hang-response"):
        for k in range(1, len(full) + 1):
            if mode == "hang-response" and full[k - 1] not in ANSWER_CASES and k != len(full):
                continue
            started = time.monotonic()
            outcome = case_function(rig, k, mode)
            if outcome is None:
                rig.fail("%s: the run ended before call %d of %d" % (kind, k, len(full)))
                continue
            say("%s (%.1fs): %s" % (outcome["case"], time.monotonic() - started,
                                    {key: value for key, value in outcome.items() if key != "case"}))
            cases.append(outcome)
    return {"calls": full, "cases": len(cases)}


def main():
    config, work, verbosity = sys.argv[1], sys.argv[2], sys.argv[3:]
    rig = Rig(config, work, verbosity)
    summary = {"access_keys": matrix(rig, "access_key", access_key_case),
               "passwords": matrix(rig, "password", password_case)}
    rig.scan()
    rig.done(summary)


if __name__ == "__main__":
    main()

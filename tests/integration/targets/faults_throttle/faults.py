"""Rotations under throttling, 5xx, dropped connections, latency and eventual consistency.

Usage: python faults.py INTEGRATION_CONFIG WORK_DIR [ansible-playbook verbosity...]

1. Baseline: four users' access keys (force, 0-day windows: create, store,
   verify, deactivate, delete) and two users' console passwords, no faults.
2. The same with 30% of all calls throttled, 5% answered HTTP 500 and 5% of
   connections dropped before they reach AWS, plus 10 ms latency (seeded, so
   the run is reproducible), with the modules' default retry settings
   (botocore ``standard`` mode, ``max_attempts`` 10): the end state must be
   the baseline's, and a scheduled run under the same faults reports
   nothing to do.
3. A dropped *answer* of CreateAccessKey (AWS made the key, the client never
   saw it): the call is not retried blindly; the run finds the key the lost
   call made, deletes it (nobody can hold its secret) and creates another:
   no third key requested, the run succeeds, nothing lost.
4. Eventual consistency: new keys are refused (InvalidClientTokenId) for 4 s;
   verification waits and succeeds.  With a 60 s window and verify_timeout 3
   the user fails cleanly, the old key untouched; once the window has passed
   the next run verifies the stored key and finishes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "setup_fault_driver" / "files"))
from faultlib import (ACCESS_KEY_TAG, ACCOUNT, Destination, FaultTally, Rig, creates_reaching_aws,  # noqa: E402
                      peak_keys, say)

AK_USERS = ["thr-ak-%d" % number for number in range(1, 5)]
PW_USERS = ["thr-pw-%d" % number for number in range(1, 3)]
INCIDENT = {"force": True, "deactivate_after_days": 0, "delete_after_days": 0, "in_use_guard": False}
LOAD_FAULTS = {"throttle_rate": 0.3, "error_rate": 0.05, "drop_rate": 0.05, "latency_ms": 10, "seed": 42}


def ak_secret(user):
    return "rotator/%s/%s/access-key" % (ACCOUNT, user)


def pw_secret(user):
    return "rotator/%s/%s/console-password" % (ACCOUNT, user)


def seed(rig):
    rig.reset()
    old = {}
    for user in AK_USERS:
        old[user] = rig.seed_user(user, keys=1)[0]["AccessKeyId"]
    for number, user in enumerate(PW_USERS):
        rig.seed_user(user, keys=0, password="Seed-%d-Pass-word!9x" % number)
    rig.calls_reset()
    return old


def end_state(rig, old):
    """Per user what a consumer would see; no secret."""
    state = {}
    for user in AK_USERS:
        document = rig.read_secret(ak_secret(user)) or {}
        key_id = document.get("AccessKeyId")
        arn = rig.caller_arn(key_id, document["SecretAccessKey"]) if key_id else "none"
        keys = rig.keys(user)
        state[user] = {"works": arn.endswith(":user/" + user), "keys": len(keys),
                       "only_the_stored_key_is_left": keys == [{"id": key_id, "status": "Active"}],
                       "old_key_gone": old[user] not in [key["id"] for key in keys],
                       "settled": "creating=" not in rig.tags(user).get(ACCESS_KEY_TAG, "")}
    for user in PW_USERS:
        document = rig.read_secret(pw_secret(user)) or {}
        state[user] = {"matches_iam": bool(document) and rig.login_matches(user, document["Password"]),
                       "pending": rig.read_secret(pw_secret(user), "AWSPENDING") is not None}
    return state


def tally_state(rig, tally, label, old, users, results=None):
    """Count what consumers lost, from the observed state of the given users (end of a case)."""
    for user in users:
        if user in PW_USERS:
            tally.password(rig, label, user, Destination(rig, "secretsmanager", pw_secret(user)))
            continue
        tally.access_keys(rig, label, user, Destination(rig, "secretsmanager", ak_secret(user)), held={old[user]},
                          end_of_case=True)
        if results is not None:
            tally.forced_run(rig, label, user, results, old[user])


def statuses(results):
    return {user["user_name"]: user["status"] for user in (results or {}).get("users", [])}


def rotate_all(rig, name, env=None):
    """Rotate every user, then run again without force (the steady state); returns both results per module."""
    outcome = {}
    for module, users, args, steady in (
            ("access_key", AK_USERS, INCIDENT, dict(INCIDENT, force=False)),
            ("password", PW_USERS, {"force": True}, {})):
        started = time.monotonic()
        rc, results = rig.run("%s-%s" % (name, module), {
            "module": module, "rotate_args": dict(args, users=users),
            "converge_args": dict(steady, users=users)}, env=env)
        outcome[module] = {"rc": rc, "rotation": (results or {}).get("rotation") or {},
                           "steady": (results or {}).get("steady") or {}, "seconds": round(time.monotonic() - started, 1)}
    return outcome


def load(rig):
    old = seed(rig)
    baseline = rotate_all(rig, "baseline")
    expected = end_state(rig, old)
    baseline_calls = len(rig.calls())
    old = seed(rig)
    rig.faults(**LOAD_FAULTS)
    loaded = rotate_all(rig, "loaded")
    injected = rig.fault_status()["injected"]
    calls = rig.calls()
    rig.faults()
    observed = end_state(rig, old)
    tally = FaultTally("throttling-errors-drops")
    for _user in AK_USERS + PW_USERS:
        tally.case()
    tally_state(rig, tally, "under load", old, AK_USERS, loaded["access_key"]["rotation"])
    tally_state(rig, tally, "under load", old, PW_USERS)
    for module in ("access_key", "password"):
        for phase in ("rotation", "steady"):
            result = loaded[module][phase]
            rig.check(result and not result.get("failed"),
                      "under load the %s %s failed: %s" % (module, phase, result.get("msg")))
        rig.check(statuses(loaded[module]["rotation"]) == statuses(baseline[module]["rotation"]),
                  "under load the %s statuses were %s, without faults %s" % (
                      module, statuses(loaded[module]["rotation"]), statuses(baseline[module]["rotation"])))
        rig.check(not loaded[module]["steady"].get("changed"),
                  "under load a scheduled %s run after the rotation changed something" % module)
    rig.check(expected == observed, "the end state under load %s differs from the baseline's %s" % (observed, expected))
    rig.check(all(all(value for key, value in user.items() if key != "pending") for user in expected.values()),
              "the baseline itself is not a clean rotation: %s" % expected)
    rig.check(injected["throttle"] > 0 and injected["error"] > 0 and injected["drop"] > 0,
              "not every kind of fault was injected: %s" % injected)
    for user in AK_USERS:
        rig.check(peak_keys(calls, user) <= 2, "%s had %d keys at once under load" % (user, peak_keys(calls, user)))
    rig.check_tags([(rig.client("iam"), AK_USERS + PW_USERS)])
    rig.stats.update({"load_" + kind: count for kind, count in injected.items()})
    return tally, {
        "faults": LOAD_FAULTS, "injected": injected, "calls_with_faults": len(calls),
        "calls_without_faults": baseline_calls,
        "seconds": {module: [baseline[module]["seconds"], loaded[module]["seconds"]] for module in baseline},
        "end_state_equal": expected == observed}


def lost_answer(rig):
    """CreateAccessKey's answer is dropped after AWS made the key: the run must not ask for a third key."""
    user = AK_USERS[0]
    old = seed(rig)[user]
    rig.faults(drop_rate=1.0, drop_phase="response", actions=["CreateAccessKey"], max_faults=1)
    _rc, first = rig.run("lost-answer", {"module": "access_key", "rotate_args": dict(INCIDENT, user_name=user),
                                         "reruns": 0})
    rig.faults()
    first = (first or {}).get("rotation") or {}
    calls = rig.calls()
    state = end_state(rig, {**{u: None for u in AK_USERS}, user: old})[user]
    refused = [c for c in calls if c["action"] == "CreateAccessKey" and c["status"] not in (200, None)]
    dropped = [c for c in calls if c["action"] == "CreateAccessKey" and c.get("fault")]
    rig.check(bool(dropped), "the stub dropped no CreateAccessKey answer: %s" % [c for c in calls
                                                                                 if c["action"] == "CreateAccessKey"])
    rig.check(not first.get("failed"), "the run with the lost CreateAccessKey answer failed: %s" % first.get("msg"))
    warnings = [w for u in first.get("users", []) for w in u.get("warnings", [])]
    rig.check(any("CreateAccessKey for %s was lost" % user in w for w in warnings),
              "the run did not report the key the lost answer made: warnings %s" % warnings)
    rig.check(not refused, "a CreateAccessKey was refused after a lost answer (a third key requested): %s"
              % [c["status"] for c in refused])
    rig.check(len(creates_reaching_aws(calls, user)) == 2,
              "expected the lost create and one more to reach AWS, saw %d" % len(creates_reaching_aws(calls, user)))
    rig.check(peak_keys(calls, user) <= 2, "after a lost CreateAccessKey answer the user had %d keys"
              % peak_keys(calls, user))
    rig.check(state["works"] and state["only_the_stored_key_is_left"],
              "after a lost CreateAccessKey answer the run did not finish the rotation: %s" % state)
    _rc, steady = rig.run("lost-answer-steady", {"module": "access_key", "rotate_args": dict(
        INCIDENT, force=False, user_name=user), "reruns": 0})
    steady = (steady or {}).get("rotation") or {}
    rig.check(not steady.get("changed") and not steady.get("failed"),
              "after a lost answer a scheduled run still had something to do: %s" % steady.get("msg"))
    tally = FaultTally("lost-create-answer")
    tally.case()
    tally_state(rig, tally, "lost CreateAccessKey answer", {user: old}, [user], first)
    return tally, {
        "first_run": first.get("failed") and "failed: %s" % first.get("msg") or "ok",
        "creates_reaching_aws": len(creates_reaching_aws(calls, user)), "answers_dropped": len(dropped),
        "refused_creates": [c["status"] for c in refused], "peak_keys": peak_keys(calls, user),
        "actions": [a["action"] for u in first.get("users", []) for a in u["actions"]]}


def consistency(rig):
    user = AK_USERS[1]
    old = seed(rig)[user]
    rig.faults(consistency_seconds=4)
    started = time.monotonic()
    _rc, waited = rig.run("consistency-wait", {"module": "access_key", "rotate_args": dict(
        INCIDENT, user_name=user, verify_timeout=30)})
    seconds = round(time.monotonic() - started, 1)
    refused = rig.fault_status()["injected"]["consistency"]
    waited = (waited or {}).get("rotation") or {}
    state = end_state(rig, {**{u: None for u in AK_USERS}, user: old})[user]
    rig.check(not waited.get("failed") and state["works"] and state["only_the_stored_key_is_left"],
              "verification did not wait out a 4 s consistency window: %s %s" % (waited.get("msg"), state))
    rig.check(refused > 0, "the consistency window refused no call")

    user = AK_USERS[2]
    old = seed(rig)[user]
    rig.faults(consistency_seconds=60)
    _rc, failed = rig.run("consistency-timeout", {"module": "access_key", "rotate_args": dict(
        INCIDENT, user_name=user, verify_timeout=3)})
    failed = (failed or {}).get("rotation") or {}
    calls = rig.calls()
    keys = rig.keys(user)
    msg = " ".join(u.get("msg", "") for u in failed.get("users", []))
    rig.check(failed.get("failed") and "did not authenticate" in msg and "old key is untouched" in msg,
              "a key that never works within verify_timeout did not fail the user cleanly: %s" % failed.get("msg"))
    rig.check({"id": old, "status": "Active"} in keys and len(keys) == 2,
              "after the verification timeout the old key is not untouched: %s" % keys)
    rig.check(not [c for c in calls if c["action"] in ("UpdateAccessKey", "DeleteAccessKey")],
              "the old key was deactivated or deleted although the new key never worked")
    rig.faults()  # the window has passed
    _rc, recovered = rig.run("consistency-recover", {"module": "access_key", "rotate_args": dict(
        INCIDENT, user_name=user, force=False), "converge_args": dict(INCIDENT, user_name=user, force=False)})
    recovered = recovered or {}
    state = end_state(rig, {**{u: None for u in AK_USERS}, user: old})[user]
    rig.check(not (recovered.get("rotation") or {}).get("failed") and state["works"]
              and state["only_the_stored_key_is_left"] and state["old_key_gone"],
              "the next run did not recover after the verification timeout: %s" % state)
    rig.check(not (recovered.get("steady") or {}).get("changed"), "after the recovery a scheduled run changed something")
    rig.check(len(creates_reaching_aws(rig.calls(), user)) == 1,
              "the recovery created another key instead of verifying the stored one")
    rig.check_tags([(rig.client("iam"), [user])])
    tally = FaultTally("eventual-consistency")
    for _case in range(2):
        tally.case()
    tally_state(rig, tally, "consistency window", {user: old}, [user])
    return tally, {
        "wait": {"seconds": seconds, "refused_calls": refused},
        "timeout": {"msg": msg[:200], "keys_after": len(keys)},
        "recovery": [a["action"] for u in (recovered.get("rotation") or {}).get("users", []) for a in u["actions"]]}


def main():
    rig = Rig(sys.argv[1], sys.argv[2], sys.argv[3:])
    summary, tallies = {}, []
    for name, scenario in (("load", load), ("lost_create_answer", lost_answer), ("eventual_consistency", consistency)):
        tally, summary[name] = scenario(rig)
        tallies.append(tally)
        say("%s: %s" % (name, summary[name]))
    rig.faults()
    rig.conclude(tallies, summary)


if __name__ == "__main__":
    main()

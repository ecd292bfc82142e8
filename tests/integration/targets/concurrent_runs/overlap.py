"""Two ansible-playbook runs over the same users at the same moment, then a follow-up run.

Usage: python overlap.py INTEGRATION_CONFIG WORK_DIR [ansible-playbook verbosity...]

Two overlapping scheduled jobs (or a schedule and a manual run) are the
likely production accident.  Two variants, each over three users whose only
key is 100 days old, with 20 ms of latency on every call so that the two
runs interleave:

* scheduled: default windows, so each run would only create, store and
  verify a new key;
* incident response: force with 0-day windows (create ... delete in one run).

Each user's destination holds its old key before the runs, as in
production.  Checked after the two runs and again after a follow-up run: no
user ever had more than two keys (from the stub's log of successful creates
and deletes), every Active key is the destination's key or the old key (no
Active key whose secret nobody holds), the destination's key is an Active
key of the user and authenticates as the user; the follow-up run converges
and a scheduled run after it reports nothing to do.  What each run
did is printed; a run that loses the race (IAM refuses its create with
``LimitExceeded`` because the other run's key appeared) must fail for that
user with a message that says so, and nothing else may fail.

Then another actor (a plain boto3 client standing for a person or a
pipeline) creates a key for a user while a rotation is under way, made
deterministic by holding the rotation's last read before CreateAccessKey
(mode ``hang``, before it reaches AWS): the foreign key is created, with
moto's own endpoint since the stub holds every call, a few seconds pass,
and the rotation's CreateAccessKey is then

* throttled once: a throttled request was never processed, so nothing is
  looked for; the retried create is refused (two keys) and the user fails
  naming the foreign key;
* answered, but the answer is lost: the foreign key was made before the
  failed attempt started, so it is not taken for the lost one; the user
  fails naming the foreign key.

Expected in both: keys exactly {old: Active, foreign: Active}, the
destination still names the old key, no DeleteAccessKey was called.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "setup_fault_driver" / "files"))
import time  # noqa: E402

from faultlib import (ACCESS_KEY_TAG, ACCOUNT, MUTATING, Destination, FaultTally, Rig,  # noqa: E402
                      creates_reaching_aws, peak_keys, say)

USERS = ["conc-%d" % number for number in range(1, 4)]
VARIANTS = {
    "scheduled": {},
    "incident": {"force": True, "deactivate_after_days": 0, "delete_after_days": 0, "in_use_guard": False},
}


def secret_name(user):
    return "rotator/%s/%s/access-key" % (ACCOUNT, user)


def summarize(results):
    rotation = (results or {}).get("rotation") or {}
    return {user["user_name"]: "%s %s" % (user["status"], "/".join(a["action"] for a in user["actions"]))
            + (" (%s)" % user["msg"][:120] if user.get("msg") else "") for user in rotation.get("users", [])}


def observe(rig, old, label, variant):
    """Check the invariants for every user; returns what a consumer sees."""
    calls = rig.calls()
    seen = {}
    for user in USERS:
        keys = rig.keys(user)
        document = rig.read_secret(secret_name(user)) or {}
        key_id = document.get("AccessKeyId")
        works = bool(key_id) and rig.caller_arn(key_id, document["SecretAccessKey"]).endswith(":user/" + user)
        active = [key["id"] for key in keys if key["status"] == "Active"]
        peak = peak_keys(calls, user)
        rig.check(peak <= 2, "%s %s: %s had %d keys at once" % (variant, label, user, peak))
        rig.check(set(active) <= {key_id, old[user]},
                  "%s %s: %s has an Active key whose secret neither the destination nor the consumer holds: "
                  "active %s, stored %s, old %s" % (variant, label, user, active, key_id, old[user]))
        rig.check(works and key_id in active,
                  "%s %s: %s: the destination's key %s is not an Active key of the user authenticating as it (keys %s)"
                  % (variant, label, user, key_id, keys))
        seen[user] = {"keys": len(keys), "active": len(active), "stored_works": works, "peak": peak,
                      "state": rig.tags(user).get(ACCESS_KEY_TAG, "")[:60]}
    return seen, calls


def tally_users(rig, tally, label, old, end_of_case=False):
    for user in USERS:
        tally.access_keys(rig, label, user, Destination(rig, "secretsmanager", secret_name(user)), held={old[user]},
                          end_of_case=end_of_case)


def variant_run(rig, variant, args, tally):
    rig.reset()
    rig.control("POST", "clock", {"offset_days": -100})
    old = {}
    for user in USERS:
        key = rig.seed_user(user, keys=1)[0]
        old[user] = key["AccessKeyId"]
        Destination(rig, "secretsmanager", secret_name(user)).seed(
            {"UserName": user, "AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]})
    rig.control("POST", "clock", {"offset_days": 0})
    rig.calls_reset()
    rig.faults(latency_ms=20)
    run_vars = {"module": "access_key", "rotate_args": dict(args, users=USERS)}
    first = rig.start("%s-a" % variant, run_vars)
    second = rig.start("%s-b" % variant, run_vars)
    (rc_a, a), (rc_b, b) = rig.finish(first), rig.finish(second)
    rig.faults()
    tally.case()
    after_both, calls = observe(rig, old, "after the two runs", variant)
    tally_users(rig, tally, "%s, after the two runs" % variant, old)
    limit = [c for c in calls if c["action"] == "CreateAccessKey" and c["status"] not in (200, None)]
    both_created = sorted(user for user in USERS
                          if len(creates_reaching_aws(calls, user)) + len([c for c in limit if c.get("user") == user]) > 1)
    steady_args = dict(args, users=USERS, force=False)
    follow_vars = {"module": "access_key", "rotate_args": dict(args, users=USERS), "reruns": 1,
                   "converge_args": steady_args}
    rc, follow = rig.run("%s-follow-up" % variant, follow_vars)
    after_follow, calls = observe(rig, old, "after the follow-up", variant)
    tally_users(rig, tally, "%s, after the follow-up" % variant, old, end_of_case=True)
    if variant == "incident":
        for user in USERS:
            tally.forced_run(rig, "incident follow-up", user, (follow or {}).get("rotation"), old[user])
    steady = (follow or {}).get("steady") or {}
    rig.check(not ((follow or {}).get("rotation") or {}).get("failed"),
              "%s: the follow-up run failed: %s" % (variant, ((follow or {}).get("rotation") or {}).get("msg")))
    rig.check(steady and not steady.get("changed") and not steady.get("failed"),
              "%s: a scheduled run after the follow-up still had something to do: %s"
              % (variant, summarize({"rotation": steady})))
    for user, seen in after_follow.items():
        rig.check(seen["stored_works"], "%s: after the follow-up %s's destination holds no working key" % (variant, user))
        if variant == "incident":
            rig.check(seen["keys"] == 1, "%s: after the follow-up %s still has %d keys" % (variant, user, seen["keys"]))
    rig.check_tags([(rig.client("iam"), USERS)])
    rig.stats["limit_exceeded_" + variant] = len(limit)
    failures = sorted("%s: %s" % (user["user_name"], user.get("msg", "")) for run in (a, b)
                      for user in ((run or {}).get("rotation") or {}).get("users", []) if user["status"] == "failed")
    unclear = [failure for failure in failures if "another run rotating the same user" not in failure]
    rig.check(not unclear, "%s: a run that lost the race failed without saying another run was at work: %s"
              % (variant, unclear))
    rig.stats["lost_races_" + variant] = len(failures)
    return {"run_a": {"rc": rc_a, "users": summarize(a)}, "run_b": {"rc": rc_b, "users": summarize(b)},
            "users_both_runs_created_for": both_created, "limit_exceeded": len(limit),
            "after_both": after_both, "follow_up": summarize(follow), "after_follow_up": after_follow}


FOREIGN_USER = "conc-foreign"
INCIDENT = VARIANTS["incident"]
# Seconds between the foreign key's creation and the rotation's CreateAccessKey: CreateDate has whole seconds.
FOREIGN_GAP = 3
CREATE_FAULTS = {
    "throttled": {"throttle_rate": 1.0, "actions": ["CreateAccessKey"], "max_faults": 1},
    "answer lost": {"drop_rate": 1.0, "drop_phase": "response", "actions": ["CreateAccessKey"], "max_faults": 1},
}


def seed_foreign_case(rig):
    rig.reset()
    key = rig.seed_user(FOREIGN_USER, keys=1)[0]
    destination = Destination(rig, "secretsmanager", secret_name(FOREIGN_USER))
    destination.seed({"UserName": FOREIGN_USER, "AccessKeyId": key["AccessKeyId"],
                      "SecretAccessKey": key["SecretAccessKey"]})
    rig.calls_reset()
    return key["AccessKeyId"], destination


def last_read_before_create(rig):
    """1-based position of the rotation's last read before its CreateAccessKey, from a run without faults."""
    seed_foreign_case(rig)
    rig.run("foreign-baseline", {"module": "access_key", "rotate_args": dict(INCIDENT, user_name=FOREIGN_USER)})
    calls = [call["action"] for call in rig.calls()]
    create = calls.index("CreateAccessKey")
    position = max(i for i in range(create) if calls[i] not in MUTATING)
    return position + 1, calls[position]


def foreign_actor_case(rig, tally, fault, hold_at, held_action):
    case = "foreign key during a %s CreateAccessKey" % fault
    old, destination = seed_foreign_case(rig)
    args = dict(INCIDENT, user_name=FOREIGN_USER)
    rig.faults(fail_after=hold_at - 1, mode="hang")
    process = rig.start("foreign-%s" % fault.replace(" ", "-"), {"module": "access_key", "rotate_args": args})
    held = rig.wait_held(process)
    rig.check(held is not None and held["action"] == held_action,
              "%s: the stub held %s, expected %s" % (case, held, held_action))
    foreign = rig.foreign_key(FOREIGN_USER, rig.moto_client("iam"))
    time.sleep(FOREIGN_GAP)
    rig.faults(**CREATE_FAULTS[fault])  # releases the held read, which botocore retries
    _rc, results = rig.finish(process)
    calls = rig.calls()
    rig.faults()
    tally.case()
    rotation = (results or {}).get("rotation") or {}
    outcome = next((u for u in rotation.get("users", []) if u.get("user_name") == FOREIGN_USER), {})
    tally.forced_run(rig, case, FOREIGN_USER, rotation, old)
    keys, stored = tally.access_keys(rig, case, FOREIGN_USER, destination, held={old}, foreign={foreign},
                                     end_of_case=True)
    injected = [c for c in calls if c["action"] == "CreateAccessKey" and c.get("fault")]
    deletes = [c for c in calls if c["action"] == "DeleteAccessKey"]
    message = outcome.get("msg") or rotation.get("msg") or ""
    rig.check(injected, "%s: no fault was injected into CreateAccessKey" % case)
    rig.check(keys == {old: "Active", foreign: "Active"},
              "%s: keys %s, expected the old key %s and the foreign key %s, both Active" % (case, keys, old, foreign))
    rig.check(stored == old, "%s: the destination names %s, expected the old key %s" % (case, stored, old))
    rig.check(not deletes, "%s: DeleteAccessKey was called %d times" % (case, len(deletes)))
    rig.check(outcome.get("status") == "failed" and foreign in message,
              "%s: the user did not fail naming the foreign key %s: status %s, %s"
              % (case, foreign, outcome.get("status"), message[:300]))
    return {"status": outcome.get("status"), "msg": message[:200], "deletes": len(deletes),
            "foreign_key_kept": foreign in keys}


def foreign_actor(rig):
    tally = FaultTally("concurrent-foreign-key")
    hold_at, held_action = last_read_before_create(rig)
    outcomes = {}
    for fault in CREATE_FAULTS:
        outcomes[fault] = foreign_actor_case(rig, tally, fault, hold_at, held_action)
        say("foreign key, %s create: %s" % (fault, outcomes[fault]))
    return tally, outcomes


def main():
    rig = Rig(sys.argv[1], sys.argv[2], sys.argv[3:])
    summary = {}
    races = FaultTally("concurrent-runs")
    for variant, args in VARIANTS.items():
        summary[variant] = variant_run(rig, variant, args, races)
        say("%s: %s" % (variant, summary[variant]))
    foreign, summary["foreign_actor"] = foreign_actor(rig)
    rig.scan()
    races.report(rig)
    foreign.report(rig)
    rig.done(summary)


if __name__ == "__main__":
    main()

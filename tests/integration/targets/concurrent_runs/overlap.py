"""Two ansible-playbook runs over the same users at the same moment, then a follow-up run.

Usage: python overlap.py INTEGRATION_CONFIG WORK_DIR [ansible-playbook verbosity...]

Two overlapping scheduled jobs (or a schedule and a manual run) are the
likely production accident.  Two variants, each over three users whose only
key is 100 days old, with 20 ms of latency on every call so that the two
runs interleave:

* scheduled: default windows, so each run would only create, store and
  verify a new key;
* incident response: force with 0-day windows (create ... delete in one run).

Checked after the two runs and again after a follow-up run: no user ever had
more than two keys (from the stub's log of successful creates and deletes),
every Active key is the destination's key or the old key (no Active key
whose secret nobody holds), the destination's key works; the follow-up run
converges and a scheduled run after it reports nothing to do.  What each run
did is printed; a run that loses the race (IAM refuses its create with
``LimitExceeded`` because the other run's key appeared) must fail for that
user with a message that says so, and nothing else may fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "setup_fault_driver" / "files"))
from faultlib import ACCESS_KEY_TAG, ACCOUNT, Rig, creates_reaching_aws, peak_keys, say  # noqa: E402

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
        rig.check(works or (key_id is None and old[user] in active),
                  "%s %s: %s: the destination's key does not work and the old key is gone" % (variant, label, user))
        seen[user] = {"keys": len(keys), "active": len(active), "stored_works": works, "peak": peak,
                      "state": rig.tags(user).get(ACCESS_KEY_TAG, "")[:60]}
    return seen, calls


def variant_run(rig, variant, args):
    rig.reset()
    rig.control("POST", "clock", {"offset_days": -100})
    old = {user: rig.seed_user(user, keys=1)[0]["AccessKeyId"] for user in USERS}
    rig.control("POST", "clock", {"offset_days": 0})
    rig.calls_reset()
    rig.faults(latency_ms=20)
    run_vars = {"module": "access_key", "rotate_args": dict(args, users=USERS)}
    first = rig.start("%s-a" % variant, run_vars)
    second = rig.start("%s-b" % variant, run_vars)
    (rc_a, a), (rc_b, b) = rig.finish(first), rig.finish(second)
    rig.faults()
    after_both, calls = observe(rig, old, "after the two runs", variant)
    limit = [c for c in calls if c["action"] == "CreateAccessKey" and c["status"] not in (200, None)]
    both_created = sorted(user for user in USERS
                          if len(creates_reaching_aws(calls, user)) + len([c for c in limit if c.get("user") == user]) > 1)
    steady_args = dict(args, users=USERS, force=False)
    follow_vars = {"module": "access_key", "rotate_args": dict(args, users=USERS), "reruns": 1,
                   "converge_args": steady_args}
    rc, follow = rig.run("%s-follow-up" % variant, follow_vars)
    after_follow, calls = observe(rig, old, "after the follow-up", variant)
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


def main():
    rig = Rig(sys.argv[1], sys.argv[2], sys.argv[3:])
    summary = {}
    for variant, args in VARIANTS.items():
        summary[variant] = variant_run(rig, variant, args)
        say("%s: %s" % (variant, summary[variant]))
    rig.scan()
    rig.done(summary)


if __name__ == "__main__":
    main()

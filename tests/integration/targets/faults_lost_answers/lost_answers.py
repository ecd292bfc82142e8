"""Answers lost after AWS applied the call, for every mutating call of both flows.

Usage: python lost_answers.py INTEGRATION_CONFIG WORK_DIR [ansible-playbook verbosity...]

For each mutating action of an access key rotation (incident response:
force, 0-day windows, so one run creates, stores, verifies, deactivates and
deletes) and of a console password rotation (force), the stub forwards the
call to AWS, lets it apply, and drops the answer (``drop_phase:
response``): on every attempt (``all``: retries used up, ``max_attempts``
2) or on the first attempt only (``first``).  One user per case, its
destination seeded with its current secret as in production (Secrets
Manager, SSM or a JSON file, as the action needs).

After the faulted run the exact state is asserted that the place of the
fault calls for (``EXPECTED_*`` below, one word per case), then a forced
run repairs and a scheduled run must report ``changed: false``.  What is
checked, with plain boto3 clients and the stub's login-profile oracle:

access keys
  * untouched: the run failed; the user's keys are exactly {old: Active};
    the destination holds what it held before: the old key, or nothing when
    it was not seeded (a write whose answer was lost is restored before the
    new key is deleted);
  * completes: the run is green; the keys are exactly {new: Active}; the
    destination names the new key;
  * deactivated: the run failed; {new: Active, old: Inactive}; destination new;
  * retired: the run failed; {new: Active}; destination new (the old key's
    deletion applied, its answer never came);
  in every case the destination's key is an Active key of the user and
  authenticates as the user (STS with the stored secret);

console passwords
  * untouched: the run failed; IAM holds the seeded password, which is the
    destination's current value;
  * completes: green; IAM holds the destination's current value, a new
    one; no pending value is left;
  * pending: the run failed; IAM holds the destination's pending value (a
    new one) and the current value is still the seeded one: the pending
    password is kept for the next run to reconcile;
  * promoted: the run failed; IAM holds the destination's current value, a
    new one.

Where the rotation is expected to complete, the scheduled run follows in
the same playbook (the faults are spent by then), and the repair run is
made only when the state after the fault is not the expected one.  After the repair run: green, the destination's key is the only key and is
not the old one (passwords: IAM holds the destination's current value, a new
one, no pending value), and the scheduled run changes nothing.

At the end one line per fault class (``fault class lost-answer-...: cases
N, secrets lost L, foreign keys deleted F, green runs with a leaked key
active G``) counted from the observed state; every count must be 0.
"""

from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "setup_fault_driver" / "files"))
from faultlib import ACCOUNT, Destination, FaultTally, Rig, say  # noqa: E402

AK_USER = "lost-ak"
PW_USER = "lost-pw"
ATTEMPTS = 2
INCIDENT = {"force": True, "deactivate_after_days": 0, "delete_after_days": 0, "in_use_guard": False,
            "max_attempts": ATTEMPTS}
SCHEDULED = dict(INCIDENT, force=False)
# (action, destination type, destination seeded with the current secret, expected with every answer lost,
#  expected with the first answer lost)
EXPECTED_ACCESS_KEYS = [
    ("CreateAccessKey", "secretsmanager", True, "untouched", "completes"),
    ("TagUser", "secretsmanager", True, "untouched", "completes"),
    ("PutSecretValue", "secretsmanager", True, "untouched", "completes"),
    ("CreateSecret", "secretsmanager", False, "untouched", "completes"),
    ("PutParameter", "ssm", True, "untouched", "completes"),
    ("UpdateAccessKey", "file", True, "deactivated", "completes"),
    ("DeleteAccessKey", "file", True, "retired", "completes"),
]
EXPECTED_PASSWORDS = [
    ("PutSecretValue", "secretsmanager", True, "untouched", "completes"),
    ("PutParameter", "ssm", True, "untouched", "completes"),
    ("UpdateLoginProfile", "secretsmanager", True, "pending", "completes"),
    ("UpdateLoginProfile", "file", True, "pending", "completes"),
    # A retried CreateLoginProfile meets EntityAlreadyExists, which cannot tell the lost call from another actor.
    ("CreateLoginProfile", "ssm", False, "pending", "pending"),
    ("UpdateSecretVersionStage", "secretsmanager", True, "promoted", "completes"),
    ("DeleteParameter", "ssm", True, "promoted", "completes"),
    ("TagUser", "secretsmanager", True, "promoted", "completes"),
]


def destination(rig, kind, user, what):
    if kind == "secretsmanager":
        return Destination(rig, kind, "rotator/%s/%s/%s" % (ACCOUNT, user, what))
    if kind == "ssm":
        return Destination(rig, kind, "/rotator/%s/%s/%s" % (ACCOUNT, user, what))
    path = rig.work / ("%s-%s.json" % (user, what))
    for stale in (path, Path(str(path) + ".pending")):
        if stale.exists():
            stale.unlink()
    return Destination(rig, kind, str(path))


def user_result(results, phase, user):
    result = (results or {}).get(phase) or {}
    outcome = next((u for u in result.get("users", []) if u.get("user_name") == user), {})
    return result, outcome


def green(result, outcome):
    return bool(result) and not result.get("failed") and bool(outcome) and outcome.get("status") != "failed"


def lose_answers(rig, action, mode):
    rig.faults(drop_rate=1.0, drop_phase="response", actions=[action], max_faults=None if mode == "all" else 1)


def check_injected(rig, case, action, mode):
    dropped = [c for c in rig.calls() if c["action"] == action and c.get("fault") == "drop-response"]
    applied = [c for c in dropped if c["status"] is not None and c["status"] < 300]
    rig.check(applied, "%s: no %s answer was dropped after AWS applied it: %s" % (case, action, dropped))
    if mode == "first":
        rig.check(len(dropped) == 1, "%s: %d answers dropped, expected the first only" % (case, len(dropped)))
    return len(dropped)


# -- access keys ------------------------------------------------------------

def expected_keys(outcome, old, new):
    return {"untouched": {old: "Active"}, "completes": {new: "Active"},
            "deactivated": {new: "Active", old: "Inactive"}, "retired": {new: "Active"}}[outcome]


def access_key_case(rig, tally, action, kind, seeded, mode, expected):
    case = "access keys, %s answer lost (%s, %s)" % (action, mode, kind)
    rig.reset()
    old_key = rig.seed_user(AK_USER, keys=1)[0]
    old = old_key["AccessKeyId"]
    dest = destination(rig, kind, AK_USER, "access-key")
    if seeded:
        dest.seed({"UserName": AK_USER, "AccessKeyId": old, "SecretAccessKey": old_key["SecretAccessKey"]})
    args = dict(INCIDENT, user_name=AK_USER, secret=dest.module_arg())
    rig.calls_reset()
    lose_answers(rig, action, mode)
    steady_args = dict(SCHEDULED, user_name=AK_USER, secret=args["secret"])
    run_vars = {"module": "access_key", "rotate_args": args}
    if expected == "completes":
        run_vars["converge_args"] = steady_args
    _rc, results = rig.run("ak-%s-%s" % (action, mode), run_vars)
    dropped = check_injected(rig, case, action, mode)
    rig.faults()
    tally.case()
    result, outcome = user_result(results, "rotation", AK_USER)
    tally.forced_run(rig, case, AK_USER, result, old)
    keys, stored = tally.access_keys(rig, case, AK_USER, dest, held={old})
    new = next((key for key in keys if key != old), None)
    want_green = expected == "completes"
    rig.check(green(result, outcome) == want_green, "%s: the run was %s, expected %s: %s" % (
        case, "green" if green(result, outcome) else "failed", "green" if want_green else "failed",
        outcome.get("msg") or result.get("msg")))
    want = expected_keys(expected, old, new)
    rig.check(new is not None or expected == "untouched", "%s: no new key exists, expected %s" % (case, expected))
    rig.check(keys == want, "%s: keys %s, expected %s (%s)" % (case, keys, want, expected))
    want_stored = (old if seeded else None) if expected == "untouched" else new
    rig.check(stored == want_stored, "%s: the destination names %s, expected %s" % (
        case, stored, {old: "the old key", None: "nothing", new: "the new key"}.get(want_stored)))
    as_expected = keys == want and stored == want_stored
    if expected == "completes":
        steady, _steady_state = user_result(results, "steady", AK_USER)
        as_expected = rig.check(steady and not steady.get("failed") and not steady.get("changed"),
                                "%s: the scheduled run after the rotation changed something or failed: %s"
                                % (case, steady.get("msg"))) and as_expected
    if as_expected and expected == "completes":
        tally.access_keys(rig, case + ", end", AK_USER, dest, held={old}, end_of_case=True)
        repaired = "not needed"
    else:
        repaired = repair_access_keys(rig, tally, case, dest, old, args)
    after = expected if as_expected else "unexpected"
    return {"case": case, "answers_dropped": dropped, "after_fault": after, "repaired": repaired,
            "msg": (outcome.get("msg") or "")[:160]}


def repair_access_keys(rig, tally, case, dest, old, args):
    _rc, results = rig.run("ak-repair", {"module": "access_key", "rotate_args": args,
                                         "converge_args": dict(SCHEDULED, user_name=AK_USER,
                                                               secret=args["secret"])})
    result, outcome = user_result(results, "rotation", AK_USER)
    steady, _steady_state = user_result(results, "steady", AK_USER)
    tally.forced_run(rig, case + ", repair", AK_USER, result, old)
    keys, stored = tally.access_keys(rig, case + ", after the repair", AK_USER, dest, held={old}, end_of_case=True)
    ok = [rig.check(green(result, outcome), "%s: the repair run failed: %s" % (case, outcome.get("msg") or
                                                                               result.get("msg"))),
          rig.check(stored is not None and stored != old and keys == {stored: "Active"},
                    "%s: after the repair keys %s, destination %s (old %s): expected only a new stored key"
                    % (case, keys, stored, old)),
          rig.check(steady and not steady.get("failed") and not steady.get("changed"),
                    "%s: the scheduled run after the repair changed something or failed: %s" % (case, steady.get("msg")))]
    return all(ok)


# -- console passwords ------------------------------------------------------

def password_case(rig, tally, action, kind, seeded, mode, expected):
    case = "passwords, %s answer lost (%s, %s)" % (action, mode, kind)
    rig.reset()
    seed_password = None if action == "CreateLoginProfile" else "Lp-" + secrets.token_urlsafe(18) + "9!a"
    rig.seed_user(PW_USER, keys=0, password=seed_password)
    rig.read_back.add(seed_password or "")
    dest = destination(rig, kind, PW_USER, "console-password")
    if seeded:
        dest.seed({"UserName": PW_USER, "Password": seed_password, "AccountId": ACCOUNT})
    ready_credential_report(rig)
    args = {"user_name": PW_USER, "force": True, "max_attempts": ATTEMPTS, "secret": dest.module_arg(),
            "create_login_profile": action == "CreateLoginProfile"}
    rig.calls_reset()
    lose_answers(rig, action, mode)
    run_vars = {"module": "password", "rotate_args": args}
    if expected == "completes":
        run_vars["converge_args"] = {"user_name": PW_USER, "secret": args["secret"]}
    _rc, results = rig.run("pw-%s-%s-%s" % (action, kind, mode), run_vars)
    dropped = check_injected(rig, case, action, mode)
    rig.faults()
    tally.case()
    result, outcome = user_result(results, "rotation", PW_USER)
    current_ok, pending_ok = tally.password(rig, case, PW_USER, dest)
    current = (dest.read() or {}).get("Password")
    pending = (dest.read(pending=True) or {}).get("Password")
    seed_holds = bool(seed_password) and rig.login_matches(PW_USER, seed_password)
    want_green = expected == "completes"
    rig.check(green(result, outcome) == want_green, "%s: the run was %s, expected %s: %s" % (
        case, "green" if green(result, outcome) else "failed", "green" if want_green else "failed",
        outcome.get("msg") or result.get("msg")))
    observed = {"iam_holds_seed": seed_holds, "iam_holds_current": current_ok, "iam_holds_pending": pending_ok,
                "current_is_seed": current is not None and current == seed_password, "pending_left": pending is not None}
    want = {
        "untouched": {"iam_holds_seed": True, "iam_holds_current": True, "current_is_seed": True},
        "completes": {"iam_holds_seed": False, "iam_holds_current": True, "current_is_seed": False,
                      "pending_left": False},
        "pending": {"iam_holds_seed": False, "iam_holds_current": False, "iam_holds_pending": True,
                    "current_is_seed": seeded},
        "promoted": {"iam_holds_seed": False, "iam_holds_current": True, "current_is_seed": False},
    }[expected]
    differs = {name: observed[name] for name in want if observed[name] != want[name]}
    as_expected = rig.check(not differs, "%s: expected %s (%s), observed %s" % (case, expected, want, observed))
    if expected == "completes":
        steady, _steady_state = user_result(results, "steady", PW_USER)
        as_expected = rig.check(steady and not steady.get("failed") and not steady.get("changed"),
                                "%s: the scheduled run after the rotation changed something or failed: %s"
                                % (case, steady.get("msg"))) and as_expected
    if as_expected and expected == "completes":
        repaired = "not needed"
    else:
        repaired = repair_password(rig, tally, case, dest, args, seed_password)
    return {"case": case, "answers_dropped": dropped, "after_fault": expected if as_expected else "unexpected",
            "repaired": repaired, "msg": (outcome.get("msg") or "")[:160]}


def ready_credential_report(rig):
    """A report that is ready spares the module its wait."""
    iam = rig.client("iam")
    for _attempt in range(10):
        if iam.generate_credential_report()["State"] == "COMPLETE":
            return
        time.sleep(0.2)


def repair_password(rig, tally, case, dest, args, seed_password):
    steady_args = {"user_name": PW_USER, "secret": args["secret"]}
    _rc, results = rig.run("pw-repair", {"module": "password", "rotate_args": dict(args, create_login_profile=False),
                                         "converge_args": steady_args})
    result, outcome = user_result(results, "rotation", PW_USER)
    steady, _steady_state = user_result(results, "steady", PW_USER)
    current_ok, _pending_ok = tally.password(rig, case + ", after the repair", PW_USER, dest)
    current = (dest.read() or {}).get("Password")
    pending = dest.read(pending=True)
    ok = [rig.check(green(result, outcome), "%s: the repair run failed: %s" % (case, outcome.get("msg") or
                                                                               result.get("msg"))),
          rig.check(current_ok and current != seed_password and pending is None,
                    "%s: after the repair IAM holds the current value: %s, a new one: %s, pending left: %s"
                    % (case, current_ok, current != seed_password, pending is not None)),
          rig.check(steady and not steady.get("failed") and not steady.get("changed"),
                    "%s: the scheduled run after the repair changed something or failed: %s" % (case, steady.get("msg")))]
    return all(ok)


def run_class(rig, name, table, case_function):
    tally = FaultTally(name)
    outcomes = []
    for action, kind, seeded, expected_all, expected_first in table:
        for mode, expected in (("all", expected_all), ("first", expected_first)):
            started = time.monotonic()
            outcome = case_function(rig, tally, action, kind, seeded, mode, expected)
            say("%s (%.1fs): %s" % (outcome["case"], time.monotonic() - started,
                                    {k: v for k, v in outcome.items() if k != "case"}))
            outcomes.append(outcome)
    return tally, outcomes


def main():
    rig = Rig(sys.argv[1], sys.argv[2], sys.argv[3:])
    tallies, summary = [], {}
    for name, table, function in (("lost-answer-access-keys", EXPECTED_ACCESS_KEYS, access_key_case),
                                  ("lost-answer-passwords", EXPECTED_PASSWORDS, password_case)):
        tally, outcomes = run_class(rig, name, table, function)
        tallies.append(tally)
        summary[name] = {"cases": len(outcomes),
                         "as_expected_after_fault": sum(o["after_fault"] != "unexpected" for o in outcomes),
                         "repair_failed": sum(o["repaired"] is False for o in outcomes)}
    rig.conclude(tallies, summary)


if __name__ == "__main__":
    main()

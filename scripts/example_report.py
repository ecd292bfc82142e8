# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Write docs/example-report.html: the audit report page of a fixed, made-up fleet.

The page is made the way the role ``rotation_report`` makes it (the filters
``report_data`` then ``report_html``), from the results ``iam_rotation_info``
and a rotation run would register for two accounts read and one that could
not be: keys and passwords 120, 80, 30 and 0 days old, a rotation that
replaced two keys (their old keys retiring, the new ones verified by it) and
a password, exemptions by tag (one ending soon, one expired, one
malformed), a path and a user name that need escaping, who read each
account and which users it chose, a user whose old key waits for a
consumer and one whose old key a restore holds (the way back).  Nothing here is a secret; the key IDs are invented.  The version shown is EXAMPLE_VERSION, so
the example does not change with each release.

    python scripts/example_report.py            # rewrite docs/example-report.html
    python scripts/example_report.py --check    # exit 1 if it is out of date

tests/unit/plugins/filter/test_report_example.py fails while the committed
page differs from what this script makes.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "example-report.html"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
HOSTS = ("prod", "dev", "sandbox")
EXAMPLE_VERSION = "0.1.0"

# The unit tests' conftest makes ansible_collections.rotator.aws_iam importable from a checkout.
sys.path.insert(0, str(REPO / "tests" / "unit"))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,import-error,unused-import
from ansible_collections.rotator.aws_iam.plugins.filter.rotation_report import (  # noqa: E402  pylint: disable=wrong-import-position
    report_data,
    report_html,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.exemption import (  # noqa: E402  pylint: disable=wrong-import-position
    read_exemption,
)


def _at(days_ago):
    return (NOW - timedelta(days=days_ago)).isoformat()


def _in(days):
    return (NOW + timedelta(days=days)).isoformat()


def _key(key_id, age_days, last_used_days_ago=None, service="s3", retiring=None, region="us-east-1"):
    used = last_used_days_ago is not None
    return {"access_key_id": key_id, "status": "Active", "create_date": _at(age_days), "age_days": age_days,
            "last_used_date": _at(last_used_days_ago) if used else None,
            "last_used_service": service if used else None, "last_used_region": region if used else None,
            "retiring": retiring}


def _rotated_keys(old_key, new_key, old_used_days_ago):
    """The keys right after a rotation: the old one retiring, the new one used only by the rotation's verification."""
    retiring = {"replaced_by": new_key, "deactivate_at": _in(7), "deactivated_at": None, "delete_at": _in(14)}
    verified = dict(_key(new_key, 0), last_used_date=(NOW + timedelta(seconds=3)).isoformat(), last_used_service="sts")
    return [_key(old_key, 120, old_used_days_ago, retiring=retiring), verified]


def _scope(**options):
    scope = {"users": [], "path_prefix": "/", "tags": {}, "groups": [], "exclude_users": [],
             "exempt_tag": "rotator:exempt"}
    scope.update(options)
    return scope


def _key_rotation(status="compliant", next_action="create", next_in_days=None, new_key=None, old_key=None,
                  message="", hold=None):
    state = {"new_key": new_key, "old_key": old_key, "verified": new_key is not None,
             "rotated_at": _at(0) if new_key else None, "deactivated_at": None}
    return {"status": status, "due_actions": [], "next_action": next_action,
            "next_action_at": None if next_in_days is None else _in(next_in_days), "message": message,
            "hold": hold, "state": state}


def _password(console, changed_days_ago=None, next_in_days=None):
    if not console:
        return {"status": "no_console_access", "last_changed": None, "last_changed_source": None,
                "next_rotation_at": None}
    return {"status": "compliant", "last_changed": _at(changed_days_ago), "last_changed_source": "tag",
            "next_rotation_at": _in(next_in_days)}


def _user(name, keys, key_rotation, console=False, password=None, path="/", account_id="123456789012"):
    return {"user_name": name, "path": path, "arn": "arn:aws:iam::%s:user%s%s" % (account_id, path, name),
            "access_keys": keys, "access_key_rotation": key_rotation, "console_access": console,
            "password_rotation": password or _password(False)}


def _exemptions(*tags):
    """``iam_rotation_info``'s ``exemptions`` for (user, value of its exemption tag) pairs, read on NOW."""
    return [read_exemption(user, value, NOW).as_result() for user, value in tags]


def _rotated_key(name, new_key):
    steps = [{"action": action, "access_key_id": new_key} for action in ("create", "store", "verify")]
    return {"user_name": name, "status": "rotated", "changed": True, "actions": steps,
            "next_action": "deactivate", "next_action_at": _in(7)}


def _waiting_for_consumers(name, old_key, new_key):
    """The rotation result of a user whose new key one consumer has not confirmed, its old key used yesterday.

    It holds the new key for the consumer (``consumer_access_key``), as the module returns it: the report never
    reads it.
    """
    return {"user_name": name, "status": "waiting_for_consumers", "changed": False, "actions": [],
            "next_action": "deactivate", "next_action_at": _in(5), "consumers_pending": ["billing-app"],
            "consumer_access_key": {"access_key_id": new_key, "secret_access_key": "(never shown)"},
            "old_key_last_used": {"access_key_id": old_key, "date": _at(1), "service": "s3", "region": "eu-west-1"},
            "msg": "old key %s stays active until consumers billing-app confirm the new key %s" % (old_key, new_key)}


def sample_hostvars():
    """What the hosts of a report run hold after ``rotate.yml`` ran in the same play."""
    prod = [
        _user("+ops@example.com", [], _key_rotation(next_action=None)),
        _user("alice", _rotated_keys("AKIAEXAMPLEALICE0001", "AKIAEXAMPLEALICE0002", 1),
              _key_rotation("pending", "deactivate", 7, "AKIAEXAMPLEALICE0002", "AKIAEXAMPLEALICE0001"), console=True,
              password=_password(True, 0, 90)),
        _user("bob", [_key("AKIAEXAMPLEBOB000001", 30)], _key_rotation(next_in_days=60), console=True,
              password=_password(True, 30, 60), path="/ops&<team>/"),
        _user("dana", [_key("AKIAEXAMPLEDANA00001", 80)], _key_rotation(next_in_days=10)),
        _user("henry", [_key("AKIAEXAMPLEHENRY0001", 95, 1, region="eu-west-1"), _key("AKIAEXAMPLEHENRY0002", 2)],
              _key_rotation("waiting_for_consumers", None, None, "AKIAEXAMPLEHENRY0002", "AKIAEXAMPLEHENRY0001",
                            message="consumers billing-app have not confirmed the new key AKIAEXAMPLEHENRY0002")),
    ]
    dev = [
        _user("frank", _rotated_keys("AKIAEXAMPLEFRANK0001", "AKIAEXAMPLEFRANK0002", 2),
              _key_rotation("pending", "deactivate", 7, "AKIAEXAMPLEFRANK0002", "AKIAEXAMPLEFRANK0001"),
              account_id="222222222222"),
        _user("grace", [_key("AKIAEXAMPLEGRACE0001", 30)], _key_rotation(next_in_days=60), console=True,
              password=_password(True, 30, 60), account_id="222222222222"),
        _user("ivan", [_key("AKIAEXAMPLEIVAN00001", 100, 0, service="sqs"), _key("AKIAEXAMPLEIVAN00002", 10, 1)],
              _key_rotation("held", None, None, "AKIAEXAMPLEIVAN00002", "AKIAEXAMPLEIVAN00001",
                            message="old key AKIAEXAMPLEIVAN00001 was reactivated and its retirement is held until a "
                                    "run with resume",
                            hold={"old_key": "AKIAEXAMPLEIVAN00001", "restored_at": _at(3), "by": "oncall@example.com",
                                  "reason": "CHG-77 payroll job failed on the new key"}),
              account_id="222222222222"),
    ]
    password_rotated = {"user_name": "alice", "status": "rotated", "changed": True,
                        "actions": [{"action": action} for action in
                                    ("store_pending", "update_login_profile", "promote", "record")],
                        "next_rotation_at": _in(90)}
    return {
        "prod": {
            "rotation_report_info": {"account_id": "123456789012", "exempted_users": ["erin"], "users": prod,
                                     "exemptions": _exemptions(("dana", "until=2025-05-15 reason=migration CHG-42"),
                                                               ("erin", "until=2025-06-10 reason=SEC-123 vendor audit")),
                                     "caller_arn": "arn:aws:sts::123456789012:assumed-role/rotator-audit/rotator-aws-iam",
                                     "scope": _scope(exclude_users=["break-glass"])},
            "rotation_report_policy": {"rotate_after_days": 90, "password_rotate_after_days": 90},
            "rotator_access_keys": {"users": [_rotated_key("alice", "AKIAEXAMPLEALICE0002"),
                                              _waiting_for_consumers("henry", "AKIAEXAMPLEHENRY0001",
                                                                     "AKIAEXAMPLEHENRY0002")]},
            "rotator_passwords": {"users": [password_rotated]},
        },
        "dev": {
            "rotation_report_info": {"account_id": "222222222222", "exempted_users": [], "users": dev,
                                     "exemptions": _exemptions(("grace", "true")),
                                     "caller_arn": "arn:aws:sts::222222222222:assumed-role/rotator/rotator-aws-iam",
                                     "scope": _scope(path_prefix="/", tags={"team": "platform"},
                                                     groups=["deployers", "ci"])},
            "rotation_report_policy": {"rotate_after_days": 90, "password_rotate_after_days": 90},
            "rotator_access_keys": {"users": [_rotated_key("frank", "AKIAEXAMPLEFRANK0002")]},
        },
        "sandbox": {
            "rotation_report_info": {"failed": True,
                                     "msg": "user selection failed for nobody: user nobody does not exist",
                                     "caller_arn": "arn:aws:sts::333333333333:assumed-role/rotator/rotator-aws-iam",
                                     "scope": _scope(users=["nobody"])},
            "rotator_assume_role_arn": "arn:aws:iam::333333333333:role/rotator",
        },
    }


def example_page():
    """The example page as the filters make it now."""
    return report_html(report_data(list(HOSTS), sample_hostvars(), now=NOW.isoformat(),
                                   collection_version=EXAMPLE_VERSION))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=EXAMPLE, help="where to write the page (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only say whether the page there is up to date")
    args = parser.parse_args(argv)
    page = example_page()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != page:
            print("%s is out of date: run python scripts/example_report.py" % args.output, file=sys.stderr)
            return 1
        return 0
    with open(args.output, "w", encoding="utf-8", newline="\n") as out:
        out.write(page)
    print("wrote %s" % args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

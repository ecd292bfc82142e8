# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Write docs/example-report.html: the audit report page of a fixed, made-up fleet.

The page is made the way the role ``rotation_report`` makes it (the filters
``report_data`` then ``report_html``), from the results ``iam_rotation_info``
and a rotation run would register for two accounts read and one that could
not be: keys and passwords 120, 80, 30 and 0 days old, a rotation that
replaced two keys and a password, a user exempted by tag, a path and a user
name that need escaping.  Nothing here is a secret; the key IDs are invented.

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

# The unit tests' conftest makes ansible_collections.rotator.aws_iam importable from a checkout.
sys.path.insert(0, str(REPO / "tests" / "unit"))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,import-error,unused-import
from ansible_collections.rotator.aws_iam.plugins.filter.rotation_report import (  # noqa: E402  pylint: disable=wrong-import-position
    report_data,
    report_html,
)


def _at(days_ago):
    return (NOW - timedelta(days=days_ago)).isoformat()


def _key(key_id, age_days, last_used_days_ago=None):
    return {"access_key_id": key_id, "status": "Active", "create_date": _at(age_days), "age_days": age_days,
            "last_used_date": None if last_used_days_ago is None else _at(last_used_days_ago)}


def _key_rotation(status="compliant", next_action="create", next_in_days=None):
    return {"status": status, "due_actions": [], "next_action": next_action,
            "next_action_at": None if next_in_days is None else _at(-next_in_days), "message": ""}


def _password(console, changed_days_ago=None, next_in_days=None):
    if not console:
        return {"status": "no_console_access", "last_changed": None, "last_changed_source": None,
                "next_rotation_at": None}
    return {"status": "compliant", "last_changed": _at(changed_days_ago), "last_changed_source": "tag",
            "next_rotation_at": _at(-next_in_days)}


def _user(name, keys, key_rotation, console=False, password=None, path="/", account_id="123456789012"):
    return {"user_name": name, "path": path, "arn": "arn:aws:iam::%s:user%s%s" % (account_id, path, name),
            "access_keys": keys, "access_key_rotation": key_rotation, "console_access": console,
            "password_rotation": password or _password(False)}


def _rotated_key(name, new_key):
    steps = [{"action": action, "access_key_id": new_key} for action in ("create", "store", "verify")]
    return {"user_name": name, "status": "rotated", "changed": True, "actions": steps,
            "next_action": "deactivate", "next_action_at": _at(-7)}


def sample_hostvars():
    """What the hosts of a report run hold after ``rotate.yml`` ran in the same play."""
    prod = [
        _user("+ops@example.com", [], _key_rotation(next_action=None)),
        _user("alice", [_key("AKIAEXAMPLEALICE0001", 120, 1), _key("AKIAEXAMPLEALICE0002", 0)],
              _key_rotation("pending", "deactivate", 7), console=True, password=_password(True, 0, 90)),
        _user("bob", [_key("AKIAEXAMPLEBOB000001", 30)], _key_rotation(next_in_days=60), console=True,
              password=_password(True, 30, 60), path="/ops&<team>/"),
        _user("dana", [_key("AKIAEXAMPLEDANA00001", 80)], _key_rotation(next_in_days=10)),
    ]
    dev = [
        _user("frank", [_key("AKIAEXAMPLEFRANK0001", 120, 2), _key("AKIAEXAMPLEFRANK0002", 0)],
              _key_rotation("pending", "deactivate", 7), account_id="222222222222"),
        _user("grace", [_key("AKIAEXAMPLEGRACE0001", 30)], _key_rotation(next_in_days=60), console=True,
              password=_password(True, 30, 60), account_id="222222222222"),
    ]
    password_rotated = {"user_name": "alice", "status": "rotated", "changed": True,
                        "actions": [{"action": action} for action in
                                    ("store_pending", "update_login_profile", "promote", "record")],
                        "next_rotation_at": _at(-90)}
    return {
        "prod": {
            "rotation_report_info": {"account_id": "123456789012", "exempted_users": ["erin"], "users": prod},
            "rotation_report_policy": {"rotate_after_days": 90, "password_rotate_after_days": 90},
            "rotator_access_keys": {"users": [_rotated_key("alice", "AKIAEXAMPLEALICE0002")]},
            "rotator_passwords": {"users": [password_rotated]},
        },
        "dev": {
            "rotation_report_info": {"account_id": "222222222222", "exempted_users": [], "users": dev},
            "rotation_report_policy": {"rotate_after_days": 90, "password_rotate_after_days": 90},
            "rotator_access_keys": {"users": [_rotated_key("frank", "AKIAEXAMPLEFRANK0002")]},
        },
        "sandbox": {
            "rotation_report_info": {"failed": True,
                                     "msg": "user selection failed for nobody: user nobody does not exist"},
            "rotator_assume_role_arn": "arn:aws:iam::333333333333:role/rotator",
        },
    }


def example_page():
    """The example page as the filters make it now."""
    return report_html(report_data(list(HOSTS), sample_hostvars(), now=NOW.isoformat()))


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

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The audit report's model: the document ``report_data`` builds, and its rows, CSV and text summary.

For the collection's own use (the filters in ``plugins/filter/rotation_report.py``): it may change in any
release.

``report_data`` is the only function that reads Ansible's results.  It copies
the fields it knows, one by one, into a new document: a registered result
can hold a secret (``return_secret`` on a ``no_log`` task), and nothing it
does not name can reach a report.  Everything else here, and the page in
``page.py``, renders that document.  Each is a pure function of its
arguments, ``now`` included.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import yaml

from ansible_collections.rotator.aws_iam.plugins.module_utils._common.times import iso

INFO_VAR = "rotation_report_info"
POLICY_VAR = "rotation_report_policy"
# Where a rotation earlier in the same run left its results: the names playbooks register them under, then
# the names the roles access_key_rotation and password_rotation use.
ACCESS_KEY_RESULTS_VARS = ("rotator_access_keys", "access_key_rotation_result")
PASSWORD_RESULTS_VARS = ("rotator_passwords", "password_rotation_result")

DEFAULT_ROTATE_AFTER_DAYS = 90
DEFAULT_WARN_DAYS = 14

# Age classes of a credential against its policy.
OK = "ok"
SOON = "soon"
OVERDUE = "overdue"
INACTIVE = "inactive"
NONE = "none"
# The old key of a verified rotation, on its way to deactivation and deletion: its age no longer matters.
RETIRING = "retiring"
# The rotation verifies a new key with STS GetCallerIdentity right after creating it, for verify_timeout seconds
# (60 by default).  A last use of the new key by STS within this window after its creation is that call, not a
# consumer's: IAM records a key's last use with its service, not with the action.  The window starts at the minute
# of the creation, since AWS may give the time of a last use to the minute.
VERIFICATION_SERVICE = "sts"
VERIFICATION_WINDOW = timedelta(minutes=10)
# The states of an exemption (module_utils/_common/exemption.py): only an active one keeps its user out.
EXEMPTION_ACTIVE, EXEMPTION_EXPIRED, EXEMPTION_MALFORMED = "active", "expired", "malformed"
# A rotation whose old key stays in service: its consumers have not all switched to the new key (or it is still
# in use), or a restore (the way back) reactivated it and holds its retirement.
WAITING, HELD = "waiting_for_consumers", "held"
# Rotation outcomes worth an auditor's attention even when nothing changed.
NOTABLE_OUTCOMES = ("failed", WAITING, HELD)
ATTENTION_KEY_STATUSES = ("due", "failed", "interrupted", WAITING, HELD)
# GetAccessKeyLastUsed's service and region of a key never used.
NOT_USED = "N/A"

# New columns go at the end: spreadsheets and scripts read these files by position too.
USER_COLUMNS = (
    "account", "account_id", "user_name", "path", "access_keys", "active_access_keys", "access_key_ids",
    "oldest_active_key_age_days", "key_age_class", "key_last_used_date", "key_rotation_status",
    "key_next_action", "key_next_action_at", "console_access", "password_last_changed", "password_age_days",
    "password_age_class", "password_status", "password_next_rotation_at", "message", "key_verified_at",
    "retiring_access_key_ids", "old_key_last_used_date", "old_key_last_used_service", "old_key_last_used_region",
    "key_held_by", "key_hold_reason",
)
KEY_COLUMNS = (
    "account", "account_id", "user_name", "access_key_id", "status", "create_date", "age_days", "age_class",
    "last_used_date", "key_rotation_status", "key_next_action", "key_next_action_at", "last_used_service",
    "last_used_by_verification", "retiring_deactivate_at", "retiring_delete_at",
)
ACCOUNT_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):")
SCOPE_LISTS = ("users", "groups", "exclude_users")
# plugins/plugin_utils/_report/model.py -> the collection's root, where MANIFEST.json or galaxy.yml is.
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


# --- reading Ansible's results ---------------------------------------------------------------------------------


def _text(value):
    return None if value is None else str(value)


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _parse_time(value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _now(now):
    return _parse_time(now) if now is not None else datetime.now(timezone.utc)


def _get(mapping, key, default=None):
    """``mapping[key]`` for dicts and Ansible's host variables alike; ``default`` when missing."""
    if mapping is None:
        return default
    try:
        return mapping[key] if key in mapping else default
    except (KeyError, TypeError):
        return default


def _failed(result):
    return bool(_get(result, "failed")) and not _get(result, "skipped")


@functools.lru_cache(maxsize=None)
def read_collection_version(root=COLLECTION_ROOT):
    """The version of the collection at ``root``: an installed one's MANIFEST.json, else a source tree's galaxy.yml.

    None when neither is there (the report then says the version is unknown).
    """
    manifest = os.path.join(root, "MANIFEST.json")
    if os.path.isfile(manifest):
        with open(manifest, encoding="utf-8") as handle:
            return _text(json.load(handle).get("collection_info", {}).get("version"))
    galaxy = os.path.join(root, "galaxy.yml")
    if os.path.isfile(galaxy):
        with open(galaxy, encoding="utf-8") as handle:
            return _text((yaml.safe_load(handle) or {}).get("version"))
    return None


def verified_by_rotation(key, state):
    """Whether ``key``'s last use is the rotation's own verification call (see VERIFICATION_WINDOW).

    ``key`` is a key of ``iam_rotation_info`` (``last_used_date``, ``last_used_service``, ``create_date``),
    ``state`` the rotation state it recorded (``new_key``, ``verified``).
    """
    if not (_get(state, "verified") and _get(state, "new_key") == _get(key, "access_key_id")):
        return False
    used, created = _parse_time(_get(key, "last_used_date")), _parse_time(_get(key, "create_date"))
    if _get(key, "last_used_service") != VERIFICATION_SERVICE or used is None or created is None:
        return False
    return created.replace(second=0, microsecond=0) <= used <= created + VERIFICATION_WINDOW


def _retiring(key):
    retiring = _get(key, "retiring")
    if not retiring:
        return None
    return {name: _text(_get(retiring, name)) for name in ("replaced_by", "deactivate_at", "deactivated_at", "delete_at")}


def _scope(info):
    """Which users the account's report chose, as iam_rotation_info says it chose them; None when it did not say."""
    scope = _get(info, "scope")
    if scope is None:
        return None
    copied = {name: [_text(item) for item in _get(scope, name) or []] for name in SCOPE_LISTS}
    copied.update(path_prefix=_text(_get(scope, "path_prefix")), exempt_tag=_text(_get(scope, "exempt_tag")),
                  tags={_text(name): _text(value) for name, value in (_get(scope, "tags") or {}).items()})
    return copied


def _exemptions(info, warn_days):
    """The report's copy of the account's exemptions (``iam_rotation_info``'s ``exemptions``): known fields only.

    ``ending_soon`` marks an active exemption whose last day is within ``warn_days``: its owner has that long to
    renew it before the user is rotated.
    """
    copied = []
    for entry in _get(info, "exemptions") or []:
        state, days_left = _text(_get(entry, "state")), _int(_get(entry, "days_left"))
        copied.append({"user": _text(_get(entry, "user")), "state": state, "until": _text(_get(entry, "until")),
                       "days_left": days_left, "reason": _text(_get(entry, "reason")), "msg": _text(_get(entry, "msg")),
                       "ending_soon": state == EXEMPTION_ACTIVE and days_left is not None and days_left <= warn_days})
    return copied


def _place(value):
    """A last use's service or region; None for a key never used (IAM says N/A)."""
    return None if value in (None, "", NOT_USED) else _text(value)


def _last_use(used):
    """The report's copy of a rotation result's ``old_key_last_used``: known fields only; None without one."""
    if not used:
        return None
    return {"access_key_id": _text(_get(used, "access_key_id")), "date": _text(_get(used, "date")),
            "service": _place(_get(used, "service")), "region": _place(_get(used, "region"))}


def _hold(rotation):
    """Which old key a restore holds, since when, by whom and why (iam_rotation_info's ``hold``); None without."""
    hold = _get(rotation, "hold")
    if not hold:
        return None
    return {name: _text(_get(hold, name)) for name in ("old_key", "restored_at", "by", "reason")}


def _old_key_last_use(keys, rotation):
    """Where the old key of a rotation that keeps it in service (waiting or held) was last used; None otherwise."""
    if _get(rotation, "status") not in (WAITING, HELD):
        return None
    old = _get(_get(rotation, "state") or {}, "old_key")
    key = next((key for key in keys if old and key["access_key_id"] == old), None)
    if key is None:
        return None
    return {"access_key_id": key["access_key_id"], "date": key["last_used_date"], "service": key["last_used_service"],
            "region": key["last_used_region"]}


def age_class(age_days, limit, warn_days, active=True):
    """How a credential's age stands against a rotation policy of ``limit`` days."""
    if not active:
        return INACTIVE
    if age_days is None:
        return NONE
    if age_days >= limit:
        return OVERDUE
    if age_days >= limit - warn_days:
        return SOON
    return OK


def _worst(classes):
    for name in (OVERDUE, SOON, OK):
        if name in classes:
            return name
    return NONE


def _key(key, state, limit, warn_days):
    """The report's copy of one access key: known fields only, and how it stands."""
    age, retiring = _int(_get(key, "age_days")), _retiring(key)
    service = _text(_get(key, "last_used_service"))
    return {
        "access_key_id": _text(_get(key, "access_key_id")),
        "status": _text(_get(key, "status")),
        "create_date": _text(_get(key, "create_date")),
        "age_days": age,
        "last_used_date": _text(_get(key, "last_used_date")),
        "last_used_service": service,
        "last_used_region": _place(_get(key, "last_used_region")),
        "last_used_by_verification": verified_by_rotation(key, state),
        "retiring": retiring,
        "age_class": RETIRING if retiring else age_class(age, limit, warn_days, _get(key, "status") == "Active"),
    }


def _latest(times):
    return max(times, key=_parse_time) if times else None


def _user(entry, policy, warn_days, now):
    """The report's copy of one user of ``iam_rotation_info``: known fields only."""
    rotation = _get(entry, "access_key_rotation") or {}
    state = _get(rotation, "state") or {}
    keys = [_key(key, state, policy["rotate_after_days"], warn_days) for key in _get(entry, "access_keys") or []]
    # The keys in service: a retiring key's age is shown with it, and the user is judged by the key replacing it.
    active_ages = [key["age_days"] for key in keys
                   if key["status"] == "Active" and key["age_days"] is not None and not key["retiring"]]
    used = [key["last_used_date"] for key in keys if key["last_used_date"] and not key["last_used_by_verification"]]
    verified = [key["last_used_date"] for key in keys if key["last_used_by_verification"]]
    user = {
        "user_name": _text(_get(entry, "user_name")),
        "path": _text(_get(entry, "path")),
        "arn": _text(_get(entry, "arn")),
        "access_keys": keys,
        "oldest_active_key_age_days": max(active_ages) if active_ages else None,
        "key_age_class": _worst([key["age_class"] for key in keys]),
        # The last use by a consumer; the rotation's verification call is key_verified_at.
        "key_last_used_date": _latest(used),
        "key_verified_at": _latest(verified),
        "access_key_rotation": {
            "status": _text(_get(rotation, "status")),
            "due_actions": [_text(action) for action in _get(rotation, "due_actions") or []],
            "next_action": _text(_get(rotation, "next_action")),
            "next_action_at": _text(_get(rotation, "next_action_at")),
            "message": _text(_get(rotation, "message")),
            "hold": _hold(rotation),
        },
        "old_key_last_used": _old_key_last_use(keys, rotation),
        "console_access": _get(entry, "console_access"),
    }
    password = _get(entry, "password_rotation")
    if password is not None:
        changed = _parse_time(_get(password, "last_changed"))
        age = (now - changed).days if changed is not None else None
        has_console = bool(_get(entry, "console_access"))
        user["password"] = {
            "status": _text(_get(password, "status")),
            "last_changed": iso(changed, zulu=True),
            "last_changed_source": _text(_get(password, "last_changed_source")),
            "age_days": age if has_console else None,
            "age_class": age_class(age, policy["password_rotate_after_days"], warn_days) if has_console else NONE,
            "next_rotation_at": _text(_get(password, "next_rotation_at")),
        }
    return user


def _rotation_users(result):
    """The per-user entries of a registered rotation result, also when it was registered over a loop."""
    if not result or _get(result, "skipped"):
        return []
    users = list(_get(result, "users") or [])
    for item in _get(result, "results") or []:
        users.extend(_rotation_users(item))
    return users


def _ran(host, names):
    """The first of these registered results that ran (was not skipped), or None."""
    for name in names:
        result = _get(host, name)
        if result and not _get(result, "skipped"):
            return result
    return None


def _changes(result, kind):
    changes = []
    for entry in _rotation_users(result):
        status = _text(_get(entry, "status"))
        if not (_get(entry, "changed") or status in NOTABLE_OUTCOMES):
            continue
        actions = []
        for action in _get(entry, "actions") or []:
            words = [_text(_get(action, "action")), _text(_get(action, "access_key_id"))]
            actions.append(" ".join(word for word in words if word))
        next_at = _get(entry, "next_action_at") if kind == "access_keys" else _get(entry, "next_rotation_at")
        changes.append({
            "kind": kind,
            "user_name": _text(_get(entry, "user_name")),
            "status": status,
            "changed": bool(_get(entry, "changed")),
            "actions": actions,
            "next_action": _text(_get(entry, "next_action")) if kind == "access_keys" else (
                "rotate" if next_at else None),
            "next_action_at": _text(next_at),
            "message": _text(_get(entry, "msg")),
            # Names and where IAM last saw the old key: never consumer_access_key, the new key handed to consumers.
            "consumers_pending": [_text(name) for name in _get(entry, "consumers_pending") or []],
            "old_key_last_used": _last_use(_get(entry, "old_key_last_used")),
        })
    return changes


def _account_summary(users, exempted, exemptions, error):
    keys = [key for user in users for key in user["access_keys"]]
    return {
        "users": len(users),
        "exempted_users": len(exempted),
        "exemptions_ending_soon": sum(1 for exemption in exemptions if exemption["ending_soon"]),
        "exemptions_expired": sum(1 for exemption in exemptions if exemption["state"] == EXEMPTION_EXPIRED),
        "exemptions_malformed": sum(1 for exemption in exemptions if exemption["state"] == EXEMPTION_MALFORMED),
        "access_keys": len(keys),
        "active_access_keys": sum(1 for key in keys if key["status"] == "Active"),
        "keys_overdue": sum(1 for key in keys if key["age_class"] == OVERDUE),
        "keys_due_soon": sum(1 for key in keys if key["age_class"] == SOON),
        "keys_retiring": sum(1 for key in keys if key["age_class"] == RETIRING),
        "users_with_overdue_keys": sum(1 for user in users if user["key_age_class"] == OVERDUE),
        "key_rotations_due": sum(1 for user in users if user["access_key_rotation"]["status"] == "due"),
        "key_rotations_failed": sum(1 for user in users
                                    if user["access_key_rotation"]["status"] in ("failed", "interrupted")),
        "key_rotations_waiting": sum(1 for user in users if user["access_key_rotation"]["status"] == WAITING),
        "keys_held": sum(1 for user in users if user["access_key_rotation"]["status"] == HELD),
        "console_users": sum(1 for user in users if user.get("console_access")),
        "passwords_overdue": sum(1 for user in users if (user.get("password") or {}).get("age_class") == OVERDUE
                                 or (user.get("password") or {}).get("status") == "due"),
        "error": 1 if error else 0,
    }


def _account(name, host, warn_days, now, version):
    info = _get(host, INFO_VAR)
    policy_in = _get(host, POLICY_VAR) or {}
    policy = {
        "rotate_after_days": _int(_get(policy_in, "rotate_after_days"), DEFAULT_ROTATE_AFTER_DAYS),
        "password_rotate_after_days": _int(_get(policy_in, "password_rotate_after_days"), DEFAULT_ROTATE_AFTER_DAYS),
    }
    account_id = _text(_get(info, "account_id"))
    if not account_id:
        match = ACCOUNT_ARN.match(str(_get(host, "rotator_assume_role_arn") or ""))
        account_id = match.group(1) if match else None
    error = None
    if info is None:
        error = "not read: the account failed earlier in this run"
    elif _get(info, "skipped"):
        error = "not read: the report task was skipped"
    elif _failed(info):
        error = _text(_get(info, "msg")) or "reading the account failed"
    users = [] if error else [_user(entry, policy, warn_days, now) for entry in _get(info, "users") or []]
    exempted = [] if error else [_text(name) for name in _get(info, "exempted_users") or []]
    exemptions = [] if error else _exemptions(info, warn_days)
    key_results, password_results = _ran(host, ACCESS_KEY_RESULTS_VARS), _ran(host, PASSWORD_RESULTS_VARS)
    rotation_ran = key_results is not None or password_results is not None
    return {
        "name": _text(name),
        "account_id": account_id,
        # The version of the collection that made this account's report: the slices of a sliced job each make
        # their own accounts', and report_merge keeps the accounts as they are.
        "collection_version": version,
        # Who read the account (the ARN of the role assumed in it), and which of its users were chosen.
        "caller_arn": _text(_get(info, "caller_arn")),
        "scope": _scope(info),
        "error": error,
        "policy": policy,
        "exempted_users": exempted,
        "exemptions": exemptions,
        "users": users,
        "rotation_ran": rotation_ran,
        "changes": _changes(key_results, "access_keys") + _changes(password_results, "password"),
        "summary": _account_summary(users, exempted, exemptions, error),
    }


def report_data(hosts, hostvars, now=None, warn_days=DEFAULT_WARN_DAYS, check_mode=False, title=None,
                collection_version=None):
    """The report document of ``hosts`` (one per AWS account) from their variables in ``hostvars``.

    ``collection_version`` defaults to the version of this collection (MANIFEST.json or galaxy.yml).
    """
    moment = _now(now)
    warn_days = _int(warn_days, DEFAULT_WARN_DAYS)
    version = _text(collection_version) or read_collection_version()
    accounts = [_account(name, _get(hostvars, name) or {}, warn_days, moment, version) for name in hosts]
    return {
        "title": _text(title) or "IAM credential rotation report",
        "generated_at": iso(moment, zulu=True),
        "check_mode": bool(check_mode),
        "warn_days": warn_days,
        "rotation_ran": any(account["rotation_ran"] for account in accounts),
        "totals": report_totals(accounts),
        "accounts": accounts,
    }


def report_totals(accounts):
    """The accounts' summaries added up, with the number of accounts, of failed ones and of changes."""
    totals = Counter()
    for account in accounts:
        totals.update(account["summary"])
    totals = dict(sorted(totals.items()))
    totals["accounts"] = len(accounts)
    totals["accounts_failed"] = totals.pop("error", 0)
    totals["changes"] = sum(len(account["changes"]) for account in accounts)
    return totals


# --- rows and CSV ----------------------------------------------------------------------------------------------


def _user_row(account, user):
    rotation, password = user["access_key_rotation"], user.get("password") or {}
    # .get: a merged report may hold accounts made by a release before them.
    used, hold = user.get("old_key_last_used") or {}, rotation.get("hold") or {}
    active = [key for key in user["access_keys"] if key["status"] == "Active"]
    return {
        "account": account["name"],
        "account_id": account["account_id"],
        "user_name": user["user_name"],
        "path": user["path"],
        "access_keys": len(user["access_keys"]),
        "active_access_keys": len(active),
        "access_key_ids": " ".join(key["access_key_id"] or "" for key in user["access_keys"]),
        "oldest_active_key_age_days": user["oldest_active_key_age_days"],
        "key_age_class": user["key_age_class"],
        "key_last_used_date": user["key_last_used_date"],
        "key_rotation_status": rotation["status"],
        "key_next_action": rotation["next_action"],
        "key_next_action_at": rotation["next_action_at"],
        "console_access": user.get("console_access"),
        "password_last_changed": password.get("last_changed"),
        "password_age_days": password.get("age_days"),
        "password_age_class": password.get("age_class"),
        "password_status": password.get("status"),
        "password_next_rotation_at": password.get("next_rotation_at"),
        "message": rotation["message"],
        "key_verified_at": user.get("key_verified_at"),
        "retiring_access_key_ids": " ".join(key["access_key_id"] or "" for key in user["access_keys"]
                                            if key.get("retiring")),
        "old_key_last_used_date": used.get("date"),
        "old_key_last_used_service": used.get("service"),
        "old_key_last_used_region": used.get("region"),
        "key_held_by": hold.get("by"),
        "key_hold_reason": hold.get("reason"),
    }


def _key_rows(account, user):
    rotation = user["access_key_rotation"]
    for key in user["access_keys"]:
        yield {
            "account": account["name"],
            "account_id": account["account_id"],
            "user_name": user["user_name"],
            "access_key_id": key["access_key_id"],
            "status": key["status"],
            "create_date": key["create_date"],
            "age_days": key["age_days"],
            "age_class": key["age_class"],
            "last_used_date": key["last_used_date"],
            "key_rotation_status": rotation["status"],
            "key_next_action": rotation["next_action"],
            "key_next_action_at": rotation["next_action_at"],
            "last_used_service": key.get("last_used_service"),
            "last_used_by_verification": key.get("last_used_by_verification", False),
            "retiring_deactivate_at": (key.get("retiring") or {}).get("deactivate_at"),
            "retiring_delete_at": (key.get("retiring") or {}).get("delete_at"),
        }


def report_rows(report, per="user"):
    """One flat row per user (``per='user'``) or per access key (``per='key'``) of every account."""
    if per not in ("user", "key"):
        raise ValueError("per must be 'user' or 'key', not %r" % (per,))
    rows = []
    for account in report["accounts"]:
        for user in account["users"]:
            if per == "user":
                rows.append(_user_row(account, user))
            else:
                rows.extend(_key_rows(account, user))
    return rows


def _cell(value):
    """A CSV cell a spreadsheet shows as text: never a formula, however a name or message begins."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def report_csv(report, per="user"):
    """``report_rows`` as CSV with a header line."""
    columns = USER_COLUMNS if per == "user" else KEY_COLUMNS
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in report_rows(report, per):
        writer.writerow([_cell(row[column]) for column in columns])
    return out.getvalue()


# --- text summary ----------------------------------------------------------------------------------------------


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def _exemption_counts(summary, warn_days):
    """``; exemptions: N active (M ending within W days), X expired, Y malformed``, or nothing without exemptions."""
    active, expired, malformed = (summary.get(name, 0) for name in (
        "exempted_users", "exemptions_expired", "exemptions_malformed"))
    if not active + expired + malformed:
        return ""
    return "; exemptions: %d active (%d ending within %d days), %d expired, %d malformed" % (
        active, summary.get("exemptions_ending_soon", 0), warn_days, expired, malformed)


def _kept_in_service(summary):
    """``; N waiting for consumers, M old keys held``, or nothing when no old key is kept for either reason."""
    waiting, held = summary.get("key_rotations_waiting", 0), summary.get("keys_held", 0)
    if not waiting + held:
        return ""
    return "; %d waiting for consumers, %s held" % (waiting, _plural(held, "old key"))


def report_summary(report):
    """One line per account and one for the whole fleet, for the play's output."""
    lines = []

    def describe(summary):
        return "%s, %s (%d active): %d overdue, %d due within %d days, %d retiring; %s due; %d of %s overdue%s" % (
            _plural(summary.get("users", 0), "user"), _plural(summary.get("access_keys", 0), "access key"),
            summary.get("active_access_keys", 0), summary.get("keys_overdue", 0), summary.get("keys_due_soon", 0),
            report["warn_days"], summary.get("keys_retiring", 0),
            _plural(summary.get("key_rotations_due", 0), "key rotation"),
            summary.get("passwords_overdue", 0), _plural(summary.get("console_users", 0), "console password"),
            _exemption_counts(summary, report["warn_days"]) + _kept_in_service(summary))

    for account in report["accounts"]:
        label = "%s (%s)" % (account["name"], account["account_id"] or "account unknown")
        if account["error"]:
            lines.append("%s: FAILED: %s" % (label, account["error"]))
        else:
            lines.append("%s: %s" % (label, describe(account["summary"])))
        if account["changes"]:
            lines.append("%s: %s in this run" % (label, _plural(len(account["changes"]), "rotation change")))
    totals = report["totals"]
    lines.append("all %s: %s%s" % (
        _plural(totals.get("accounts", 0), "account"), describe(totals),
        "; %s FAILED" % _plural(totals["accounts_failed"], "account") if totals.get("accounts_failed") else ""))
    return lines

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The audit report of a fleet of accounts: one document, rendered as rows, CSV, HTML and a text summary.

``report_data`` is the only filter that reads Ansible's results.  It copies
the fields it knows, one by one, into a new document: a registered result
can hold a secret (``return_secret`` on a ``no_log`` task), and nothing it
does not name can reach a report.  The other filters render that document.
Each is a pure function of its arguments, ``now`` included.

The documentation of each filter is in the ``<name>.yml`` file beside this one.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
from collections import Counter
from datetime import datetime, timezone
from html import escape

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
# Rotation outcomes worth an auditor's attention even when nothing changed.
NOTABLE_OUTCOMES = ("failed", "waiting_for_consumers")
ATTENTION_KEY_STATUSES = ("due", "failed", "interrupted", "waiting_for_consumers")

USER_COLUMNS = (
    "account", "account_id", "user_name", "path", "access_keys", "active_access_keys", "access_key_ids",
    "oldest_active_key_age_days", "key_age_class", "key_last_used_date", "key_rotation_status",
    "key_next_action", "key_next_action_at", "console_access", "password_last_changed", "password_age_days",
    "password_age_class", "password_status", "password_next_rotation_at", "message",
)
KEY_COLUMNS = (
    "account", "account_id", "user_name", "access_key_id", "status", "create_date", "age_days", "age_class",
    "last_used_date", "key_rotation_status", "key_next_action", "key_next_action_at",
)
ACCOUNT_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):")


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


def _iso(value):
    return None if value is None else value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


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


def _user(entry, policy, warn_days, now):
    """The report's copy of one user of ``iam_rotation_info``: known fields only."""
    limit = policy["rotate_after_days"]
    keys = []
    for key in _get(entry, "access_keys") or []:
        active = _get(key, "status") == "Active"
        age = _int(_get(key, "age_days"))
        keys.append({
            "access_key_id": _text(_get(key, "access_key_id")),
            "status": _text(_get(key, "status")),
            "create_date": _text(_get(key, "create_date")),
            "age_days": age,
            "last_used_date": _text(_get(key, "last_used_date")),
            "age_class": age_class(age, limit, warn_days, active),
        })
    active_ages = [key["age_days"] for key in keys if key["status"] == "Active" and key["age_days"] is not None]
    used = [key["last_used_date"] for key in keys if key["last_used_date"]]
    rotation = _get(entry, "access_key_rotation") or {}
    user = {
        "user_name": _text(_get(entry, "user_name")),
        "path": _text(_get(entry, "path")),
        "arn": _text(_get(entry, "arn")),
        "access_keys": keys,
        "oldest_active_key_age_days": max(active_ages) if active_ages else None,
        "key_age_class": _worst([key["age_class"] for key in keys]),
        "key_last_used_date": max(used, key=_parse_time) if used else None,
        "access_key_rotation": {
            "status": _text(_get(rotation, "status")),
            "due_actions": [_text(action) for action in _get(rotation, "due_actions") or []],
            "next_action": _text(_get(rotation, "next_action")),
            "next_action_at": _text(_get(rotation, "next_action_at")),
            "message": _text(_get(rotation, "message")),
        },
        "console_access": _get(entry, "console_access"),
    }
    password = _get(entry, "password_rotation")
    if password is not None:
        changed = _parse_time(_get(password, "last_changed"))
        age = (now - changed).days if changed is not None else None
        has_console = bool(_get(entry, "console_access"))
        user["password"] = {
            "status": _text(_get(password, "status")),
            "last_changed": _iso(changed),
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
        })
    return changes


def _account_summary(users, exempted, error):
    keys = [key for user in users for key in user["access_keys"]]
    return {
        "users": len(users),
        "exempted_users": len(exempted),
        "access_keys": len(keys),
        "active_access_keys": sum(1 for key in keys if key["status"] == "Active"),
        "keys_overdue": sum(1 for key in keys if key["age_class"] == OVERDUE),
        "keys_due_soon": sum(1 for key in keys if key["age_class"] == SOON),
        "users_with_overdue_keys": sum(1 for user in users if user["key_age_class"] == OVERDUE),
        "key_rotations_due": sum(1 for user in users if user["access_key_rotation"]["status"] == "due"),
        "key_rotations_failed": sum(1 for user in users
                                    if user["access_key_rotation"]["status"] in ("failed", "interrupted")),
        "console_users": sum(1 for user in users if user.get("console_access")),
        "passwords_overdue": sum(1 for user in users if (user.get("password") or {}).get("age_class") == OVERDUE
                                 or (user.get("password") or {}).get("status") == "due"),
        "error": 1 if error else 0,
    }


def _account(name, host, warn_days, now):
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
    key_results, password_results = _ran(host, ACCESS_KEY_RESULTS_VARS), _ran(host, PASSWORD_RESULTS_VARS)
    rotation_ran = key_results is not None or password_results is not None
    return {
        "name": _text(name),
        "account_id": account_id,
        "error": error,
        "policy": policy,
        "exempted_users": exempted,
        "users": users,
        "rotation_ran": rotation_ran,
        "changes": _changes(key_results, "access_keys") + _changes(password_results, "password"),
        "summary": _account_summary(users, exempted, error),
    }


def report_data(hosts, hostvars, now=None, warn_days=DEFAULT_WARN_DAYS, check_mode=False, title=None):
    """The report document of ``hosts`` (one per AWS account) from their variables in ``hostvars``."""
    moment = _now(now)
    warn_days = _int(warn_days, DEFAULT_WARN_DAYS)
    accounts = [_account(name, _get(hostvars, name) or {}, warn_days, moment) for name in hosts]
    totals = Counter()
    for account in accounts:
        totals.update(account["summary"])
    totals = dict(sorted(totals.items()))
    totals["accounts"] = len(accounts)
    totals["accounts_failed"] = totals.pop("error", 0)
    totals["changes"] = sum(len(account["changes"]) for account in accounts)
    return {
        "title": _text(title) or "IAM credential rotation report",
        "generated_at": _iso(moment),
        "check_mode": bool(check_mode),
        "warn_days": warn_days,
        "rotation_ran": any(account["rotation_ran"] for account in accounts),
        "totals": totals,
        "accounts": accounts,
    }


# --- rows and CSV ----------------------------------------------------------------------------------------------


def _user_row(account, user):
    rotation, password = user["access_key_rotation"], user.get("password") or {}
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


def report_summary(report):
    """One line per account and one for the whole fleet, for the play's output."""
    lines = []

    def describe(summary):
        return "%s, %s (%d active): %d overdue, %d due within %d days; %s due; %d of %s overdue" % (
            _plural(summary.get("users", 0), "user"), _plural(summary.get("access_keys", 0), "access key"),
            summary.get("active_access_keys", 0), summary.get("keys_overdue", 0), summary.get("keys_due_soon", 0),
            report["warn_days"], _plural(summary.get("key_rotations_due", 0), "key rotation"),
            summary.get("passwords_overdue", 0), _plural(summary.get("console_users", 0), "console password"))

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


# --- HTML ------------------------------------------------------------------------------------------------------

STYLE = """
:root{--ok:#1a7f37;--ok-bg:#dafbe1;--soon:#9a6700;--soon-bg:#fff8c5;--overdue:#b42318;--overdue-bg:#ffebe9;
--muted:#57606a;--line:#d0d7de;--head:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328;margin:0;
padding:20px 28px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:var(--muted);margin:0 0 16px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(118px,1fr));gap:10px;margin:0 0 8px}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.card b{display:block;font-size:22px}.card span{color:var(--muted);font-size:12px}
.card.bad{border-color:var(--overdue);background:var(--overdue-bg)}
.card.warn{border-color:var(--soon);background:var(--soon-bg)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:5px 7px;text-align:left;vertical-align:top}
th{background:var(--head);position:sticky;top:0;z-index:1;white-space:nowrap}
td.n,th.n{text-align:right}
tr.error td{background:var(--overdue-bg)}
small,.dim{color:var(--muted)}
.b{display:inline-block;border-radius:10px;padding:0 7px;margin:1px 2px 1px 0;font-size:12px;white-space:nowrap;
background:#eaeef2;color:#1f2328}
.ok{background:var(--ok-bg);color:var(--ok)}.soon{background:var(--soon-bg);color:var(--soon)}
.overdue{background:var(--overdue-bg);color:var(--overdue);font-weight:600}
.inactive,.none{background:#eaeef2;color:var(--muted)}
.s-compliant{background:var(--ok-bg);color:var(--ok)}
.s-due,.s-failed,.s-interrupted{background:var(--overdue-bg);color:var(--overdue);font-weight:600}
.s-pending,.s-waiting_for_consumers{background:var(--soon-bg);color:var(--soon)}
.controls{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:6px 0 10px}
.controls input,.controls select{font:inherit;padding:4px 6px;border:1px solid var(--line);border-radius:6px}
.controls input{min-width:260px}
html.js th[data-sort]{cursor:pointer}
html.js th[data-sort]::after{content:" \\2195";color:#8c959f}
th[aria-sort=ascending]::after{content:" \\25B2"!important;color:#1f2328!important}
th[aria-sort=descending]::after{content:" \\25BC"!important;color:#1f2328!important}
.chart{max-width:760px}
.nw{white-space:nowrap}
.legend span{margin-right:14px}
"""

SCRIPT = """
(function () {
  var doc = document, table = doc.getElementById('users');
  if (!table) { return; }
  doc.documentElement.className += ' js';
  var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
  var q = doc.getElementById('q'), account = doc.getElementById('account'), show = doc.getElementById('show');
  var count = doc.getElementById('count'), heads = table.tHead.rows[0].cells, sorted = null, dir = 1, timer = 0;
  function params() {
    var out = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (part) {
      var kv = part.split('=');
      if (kv[0]) { out[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1] || ''); }
    });
    return out;
  }
  function remember() {
    var p = [];
    if (q.value) { p.push('q=' + encodeURIComponent(q.value)); }
    if (account.value) { p.push('account=' + encodeURIComponent(account.value)); }
    if (show.value) { p.push('show=' + encodeURIComponent(show.value)); }
    if (sorted !== null) { p.push('sort=' + heads[sorted].getAttribute('data-key') + '&dir=' + (dir > 0 ? 'asc' : 'desc')); }
    if (history.replaceState) { history.replaceState(null, '', p.length ? '#' + p.join('&') : location.pathname); }
  }
  function filter() {
    var text = q.value.trim().toLowerCase(), acc = account.value, flag = show.value, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (!acc || r.getAttribute('data-account') === acc) && (!flag || r.getAttribute('data-' + flag) === '1') &&
        (!text || r.getAttribute('data-search').indexOf(text) >= 0);
      r.hidden = !ok;
      if (ok) { shown++; }
    }
    count.textContent = 'showing ' + shown + ' of ' + rows.length + ' users';
  }
  function value(row, col) {
    var cell = row.cells[col], v = cell.getAttribute('data-v');
    return v === null ? cell.textContent.trim().toLowerCase() : v;
  }
  function sortBy(col, direction) {
    var numeric = heads[col].getAttribute('data-sort') === 'n';
    sorted = col; dir = direction;
    var keyed = rows.map(function (row, i) {
      var v = value(row, col);
      return [numeric ? (v === '' ? -Infinity : parseFloat(v)) : v, i, row];
    });
    keyed.sort(function (a, b) {
      if (a[0] < b[0]) { return -dir; }
      if (a[0] > b[0]) { return dir; }
      return a[1] - b[1];
    });
    var frag = doc.createDocumentFragment();
    rows = keyed.map(function (k) { frag.appendChild(k[2]); return k[2]; });
    body.appendChild(frag);
    for (var i = 0; i < heads.length; i++) {
      if (i === col) { heads[i].setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending'); }
      else { heads[i].removeAttribute('aria-sort'); }
    }
  }
  Array.prototype.forEach.call(heads, function (th, col) {
    if (!th.hasAttribute('data-sort')) { return; }
    th.tabIndex = 0;
    function activate() { sortBy(col, sorted === col ? -dir : (th.getAttribute('data-sort') === 'n' ? -1 : 1)); remember(); }
    th.addEventListener('click', activate);
    th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); activate(); } });
  });
  q.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(function () { filter(); remember(); }, 120); });
  account.addEventListener('change', function () { filter(); remember(); });
  show.addEventListener('change', function () { filter(); remember(); });
  var start = params();
  if (start.q) { q.value = start.q; }
  if (start.account) { account.value = start.account; }
  if (start.show) { show.value = start.show; }
  if (start.sort) {
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getAttribute('data-key') === start.sort) { sortBy(i, start.dir === 'desc' ? -1 : 1); }
    }
  }
  filter();
})();
"""


def _csp_hash(text):
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _e(value):
    return escape("" if value is None else str(value), quote=True)


def _date(value):
    """The day of an ISO timestamp, or the text as it is."""
    return _e(value[:10] if isinstance(value, str) and len(value) >= 10 else value)


def _badge(text, css, title=None):
    title_attr = ' title="%s"' % _e(title) if title else ""
    return '<span class="b %s"%s>%s</span>' % (_e(css), title_attr, _e(text))


def _cards(totals, warn_days):
    cards = [
        ("accounts", totals.get("accounts", 0), ""),
        ("users", totals.get("users", 0), ""),
        ("active access keys", totals.get("active_access_keys", 0), ""),
        ("keys overdue", totals.get("keys_overdue", 0), "bad" if totals.get("keys_overdue") else ""),
        ("keys due within %d days" % warn_days, totals.get("keys_due_soon", 0),
         "warn" if totals.get("keys_due_soon") else ""),
        ("console passwords overdue", totals.get("passwords_overdue", 0),
         "bad" if totals.get("passwords_overdue") else ""),
        ("rotations failed", totals.get("key_rotations_failed", 0),
         "bad" if totals.get("key_rotations_failed") else ""),
        ("accounts not read", totals.get("accounts_failed", 0), "bad" if totals.get("accounts_failed") else ""),
    ]
    return '<div class="cards">%s</div>' % "".join(
        '<div class="card %s"><b>%d</b><span>%s</span></div>' % (css, count, _e(label)) for label, count, css in cards)


def _accounts_table(report):
    out = ['<table id="accounts"><thead><tr><th>Account</th><th>Account ID</th><th class="n">Users</th>'
           '<th class="n">Access keys</th><th class="n">Keys overdue</th><th class="n">Due soon</th>'
           '<th class="n">Rotations due</th><th class="n">Passwords overdue</th><th class="n">Exempt</th>'
           '<th>Policy</th><th>Notes</th></tr></thead><tbody>']
    for account in report["accounts"]:
        summary, policy = account["summary"], account["policy"]
        notes = _e(account["error"]) if account["error"] else ""
        if account["exempted_users"]:
            notes += "exempt: " + _e(", ".join(account["exempted_users"]))
        out.append(
            '<tr class="%s"><td>%s</td><td>%s</td><td class="n">%d</td><td class="n">%d <small>(%d active)</small></td>'
            '<td class="n">%s</td><td class="n">%s</td><td class="n">%d</td><td class="n">%s</td><td class="n">%d</td>'
            '<td class="nw"><small>keys %d d<br>passwords %d d</small></td><td>%s</td></tr>' % (
                "error" if account["error"] else "", _e(account["name"]), _e(account["account_id"] or "?"),
                summary["users"], summary["access_keys"], summary["active_access_keys"],
                _badge(summary["keys_overdue"], OVERDUE) if summary["keys_overdue"] else "0",
                _badge(summary["keys_due_soon"], SOON) if summary["keys_due_soon"] else "0",
                summary["key_rotations_due"],
                _badge(summary["passwords_overdue"], OVERDUE) if summary["passwords_overdue"] else "0",
                summary["exempted_users"], policy["rotate_after_days"], policy["password_rotate_after_days"], notes))
    out.append("</tbody></table>")
    return "".join(out)


def _buckets(limit):
    """Age buckets for the chart: thirds of the policy, then one, two and four times it."""
    edges = [0, limit // 3, 2 * limit // 3, limit, 2 * limit, 4 * limit] if limit >= 3 else [0, 30, 90, 180, 365]
    bounds = list(zip(edges, edges[1:])) + [(edges[-1], None)]
    return [(low, high, "%d\u2013%d" % (low, high - 1) if high is not None else "%d+" % low) for low, high in bounds]


def _chart(report):
    limits = Counter(account["policy"]["rotate_after_days"] for account in report["accounts"])
    limit = limits.most_common(1)[0][0] if limits else DEFAULT_ROTATE_AFTER_DAYS
    buckets = _buckets(limit)
    counts = [Counter() for _bucket in buckets]
    for account in report["accounts"]:
        for user in account["users"]:
            for key in user["access_keys"]:
                if key["status"] != "Active" or key["age_days"] is None:
                    continue
                for index, (low, high, _label) in enumerate(buckets):
                    if key["age_days"] >= low and (high is None or key["age_days"] < high):
                        counts[index][key["age_class"]] += 1
    width, height, left, bottom, top = 720, 250, 48, 40, 30
    step = max(-(-max([sum(count.values()) for count in counts] + [1]) // 4), 1)
    peak = step * 4
    slot = (width - left - 10) / len(buckets)
    colors = {OK: "#2da44e", SOON: "#d4a72c", OVERDUE: "#cf222e"}
    parts = ['<svg class="chart" id="age-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" '
             'role="img" aria-labelledby="age-chart-title"><title id="age-chart-title">Active access keys by age '
             'in days (rotation policy: %d days)</title>' % (width, height, limit)]
    plot = height - bottom - top
    for tick in range(5):
        y = height - bottom - plot * tick / 4.0
        parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d0d7de"/>' % (left, width - 10, y, y))
        parts.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#57606a">%d</text>' % (
            left - 6, y + 4, step * tick))
    for index, (bucket, count) in enumerate(zip(buckets, counts)):
        x = left + index * slot + slot * 0.15
        y = height - bottom
        for name in (OK, SOON, OVERDUE):
            if not count[name]:
                continue
            bar_height = plot * count[name] / peak
            y -= bar_height
            parts.append('<rect class="bar" data-class="%s" data-count="%d" x="%.1f" y="%.1f" width="%.1f" '
                         'height="%.1f" fill="%s"><title>%s days: %d %s</title></rect>' % (
                             name, count[name], x, y, slot * 0.7, bar_height, colors[name], _e(bucket[2]),
                             count[name], name))
        total = sum(count.values())
        if total:
            parts.append('<text x="%.1f" y="%.1f" font-size="12" text-anchor="middle" fill="#1f2328">%d</text>' % (
                x + slot * 0.35, y - 4, total))
        parts.append('<text x="%.1f" y="%d" font-size="12" text-anchor="middle" fill="#1f2328">%s</text>' % (
            x + slot * 0.35, height - bottom + 16, _e(bucket[2])))
    at_policy = [index for index, bucket in enumerate(buckets) if bucket[0] == limit]
    if at_policy:
        policy_x = left + at_policy[0] * slot
        parts.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#cf222e" stroke-dasharray="4 3"/>' % (
            policy_x, policy_x, 4, height - bottom))
        parts.append('<text x="%.1f" y="%d" font-size="11" fill="#cf222e">policy: %d days</text>' % (
            policy_x + 4, 12, limit))
    parts.append('<text x="%d" y="%d" font-size="12" text-anchor="middle" fill="#57606a">age of the key in days'
                 '</text></svg>' % (left + (width - left) // 2, height - 6))
    legend = '<p class="legend"><span>%s within the policy</span><span>%s due within %d days</span><span>%s overdue</span></p>' % (
        _badge("\u25A0", OK), _badge("\u25A0", SOON), report["warn_days"], _badge("\u25A0", OVERDUE))
    return "".join(parts) + legend


def _key_cell(user):
    chips = []
    for key in user["access_keys"]:
        key_id = key["access_key_id"] or "?"
        label = "%s\u2026%s %s" % (key_id[:4], key_id[-4:], "%d d" % key["age_days"] if key["age_days"] is not None
                                   else "?")
        if key["status"] != "Active":
            label += " inactive"
        chips.append(_badge(label, key["age_class"], "%s %s, created %s, last used %s" % (
            key_id, key["status"], (key["create_date"] or "?")[:10], (key["last_used_date"] or "never")[:10])))
    return "".join(chips) or '<span class="dim">none</span>'


def _flags(user):
    rotation, password = user["access_key_rotation"], user.get("password") or {}
    overdue = user["key_age_class"] == OVERDUE or password.get("age_class") == OVERDUE or password.get("status") == "due"
    failed = rotation["status"] in ("failed", "interrupted")
    attention = overdue or failed or rotation["status"] in ATTENTION_KEY_STATUSES or user["key_age_class"] == SOON
    return {"overdue": overdue, "failed": failed, "attention": attention}


def _user_tr(account, user):
    rotation, password = user["access_key_rotation"], user.get("password")
    flags = _flags(user)
    search = " ".join([account["name"] or "", account["account_id"] or "", user["user_name"] or "",
                       user["path"] or ""] + [key["access_key_id"] or "" for key in user["access_keys"]]).lower()
    age = user["oldest_active_key_age_days"]
    cells = [
        '<td>%s<br><small>%s</small></td>' % (_e(account["name"]), _e(account["account_id"])),
        '<td><b>%s</b><br><small>%s</small></td>' % (_e(user["user_name"]), _e(user["path"])),
        '<td>%s</td>' % _key_cell(user),
        '<td class="n" data-v="%s">%s</td>' % ("" if age is None else age,
                                               _badge("%d d" % age, user["key_age_class"]) if age is not None
                                               else '<span class="dim">\u2013</span>'),
        '<td data-v="%s">%s</td>' % (_e(user["key_last_used_date"] or ""),
                                     _date(user["key_last_used_date"]) if user["key_last_used_date"]
                                     else '<span class="dim">never</span>' if user["access_keys"] else ""),
    ]
    if password is None:
        cells.append('<td data-v=""></td>')
    elif password["age_days"] is None:
        cells.append('<td class="n" data-v=""><span class="dim">%s</span></td>' % (
            "no console" if not user.get("console_access") else "unknown"))
    else:
        cells.append('<td class="n" data-v="%d">%s</td>' % (password["age_days"], _badge(
            "%d d" % password["age_days"], password["age_class"],
            "last changed %s (%s)" % ((password["last_changed"] or "?")[:10], password["last_changed_source"] or "?"))))
    status = rotation["status"] or "?"
    cells.append('<td>%s%s</td>' % (_badge(status.replace("_", " "), "s-" + status, rotation["message"]),
                                    "<br><small>%s</small>" % _e(", ".join(rotation["due_actions"]))
                                    if rotation["due_actions"] else ""))
    next_at = rotation["next_action_at"] or ""
    cells.append('<td data-v="%s">%s</td>' % (_e(next_at), "%s<br><small>%s</small>" % (
        _e(rotation["next_action"]), _date(next_at)) if rotation["next_action"] else ""))
    if password is None:
        cells.append('<td data-v=""></td>')
    else:
        cells.append('<td data-v="%s">%s%s</td>' % (
            _e(password["next_rotation_at"] or ""), _badge((password["status"] or "?").replace("_", " "), "s-" + (password["status"] or "")),
            "<br><small>next %s</small>" % _date(password["next_rotation_at"]) if password["next_rotation_at"] else ""))
    return '<tr data-account="%s" data-search="%s" data-overdue="%d" data-failed="%d" data-attention="%d">%s</tr>' % (
        _e(account["name"]), _e(search), flags["overdue"], flags["failed"], flags["attention"], "".join(cells))


def _users_section(report):
    accounts = [account["name"] for account in report["accounts"] if not account["error"]]
    options = "".join('<option value="%s">%s</option>' % (_e(name), _e(name)) for name in accounts)
    total = sum(len(account["users"]) for account in report["accounts"])
    out = [
        '<div class="controls"><input id="q" type="search" placeholder="Filter by user, account or key ID" '
        'aria-label="Filter users"><select id="account" aria-label="Account"><option value="">all accounts</option>'
        '%s</select><select id="show" aria-label="Show"><option value="">all users</option>'
        '<option value="attention">needing attention</option><option value="overdue">overdue</option>'
        '<option value="failed">failed or interrupted</option></select><span id="count" class="dim">%d users</span>'
        '</div>' % (options, total),
        '<table id="users"><thead><tr><th data-sort="t" data-key="account">Account</th>'
        '<th data-sort="t" data-key="user">User</th><th>Access keys</th>'
        '<th class="n" data-sort="n" data-key="key-age" title="Age of the oldest active key">Oldest key</th>'
        '<th data-sort="t" data-key="last-used">Last used</th>'
        '<th class="n" data-sort="n" data-key="password-age" title="Age of the console password">Password age</th>'
        '<th data-sort="t" data-key="rotation">Key rotation</th>'
        '<th data-sort="t" data-key="next">Next key step</th>'
        '<th data-sort="t" data-key="password">Password</th></tr></thead><tbody>',
    ]
    for account in report["accounts"]:
        out.extend(_user_tr(account, user) for user in account["users"])
    out.append("</tbody></table>")
    return "".join(out)


def _changes_section(report):
    if not report["rotation_ran"]:
        return ""
    heading = "What this run would change (check mode)" if report["check_mode"] else "What this run changed"
    rows = []
    for account in report["accounts"]:
        for change in account["changes"]:
            status = change["status"] or "?"
            rows.append('<tr><td>%s<br><small>%s</small></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
                        '<td>%s<br><small>%s</small></td><td>%s</td></tr>' % (
                            _e(account["name"]), _e(account["account_id"]), _e(change["user_name"]),
                            "access keys" if change["kind"] == "access_keys" else "console password",
                            _badge(status.replace("_", " "),
                                   "s-" + (status if status in NOTABLE_OUTCOMES else "compliant")),
                            _e(", ".join(change["actions"])) or '<span class="dim">none</span>',
                            _e(change["next_action"] or ""), _date(change["next_action_at"]),
                            _e(change["message"] or "")))
    if not rows:
        return '<h2 id="changes">%s</h2><p>Nothing: every rotated user was compliant.</p>' % heading
    return ('<h2 id="changes">%s</h2><table id="changes-table"><thead><tr><th>Account</th><th>User</th>'
            '<th>Credential</th><th>Outcome</th><th>Actions</th><th>Next step</th><th>Message</th></tr></thead>'
            '<tbody>%s</tbody></table>' % (heading, "".join(rows)))


def report_html(report):
    """One self-contained HTML page: no external asset, a CSP that allows only its own style and script."""
    csp = "default-src 'none'; style-src %s; script-src %s; img-src data:; base-uri 'none'; form-action 'none'" % (
        _csp_hash(STYLE), _csp_hash(SCRIPT))
    totals = report["totals"]
    limits = sorted({account["policy"]["rotate_after_days"] for account in report["accounts"]}) or [
        DEFAULT_ROTATE_AFTER_DAYS]
    policy = " / ".join("%d" % limit for limit in limits)
    return "".join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="%s">' % _e(csp),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<title>%s</title><style>%s</style></head><body>' % (_e(report["title"]), STYLE),
        '<h1>%s</h1>' % _e(report["title"]),
        '<p class="meta">Generated %s UTC. Access keys are due after %s days (CIS AWS Foundations 1.14: '
        'rotate every 90 days or less); amber marks keys and passwords due within %d days. Read only: '
        'IAM metadata, no secrets.</p>' % (
            _e((report["generated_at"] or "").replace("T", " ").replace("Z", "")[:16]), _e(policy), report["warn_days"]),
        _cards(totals, report["warn_days"]),
        _changes_section(report),
        '<h2>Accounts</h2>', _accounts_table(report),
        '<h2>Age of active access keys</h2>', _chart(report),
        '<h2>Users</h2>', _users_section(report),
        '<script>%s</script></body></html>\n' % SCRIPT,
    ])


class FilterModule:
    """The audit report filters."""

    def filters(self):
        return {
            "report_data": report_data,
            "report_rows": report_rows,
            "report_csv": report_csv,
            "report_html": report_html,
            "report_summary": report_summary,
        }

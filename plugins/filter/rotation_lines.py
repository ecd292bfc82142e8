# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One line for the selection and one per user of a rotation result, for the roles' summary.

One task printing a list costs Ansible one task; a loop over thousands of
users costs it a task result per user.  Only fields that never hold a
secret are read (names, statuses, actions, key ids, dates, messages).

The documentation is in ``rotation_lines.yml`` and ``selection_line.yml`` beside this one.
"""

from __future__ import annotations

ACCESS_KEYS = "access_keys"
PASSWORDS = "passwords"


def _access_key_parts(user):
    actions = user.get("actions") or []
    if actions:
        key_ids = list(dict.fromkeys(str(action.get("access_key_id")) for action in actions))
        done = "%s [%s]" % (", ".join(action["action"] for action in actions), ", ".join(key_ids))
    else:
        done = "none"
    upcoming = "%s on %s" % (user["next_action"], str(user["next_action_at"])[:10]) if "next_action" in user else "none"
    return done, upcoming


def last_use_words(used):
    """``old key <id> last used <day> by <service> in <region>``, or ``... never used``, from ``old_key_last_used``."""
    if not used.get("date"):
        return "old key %s never used" % used.get("access_key_id")
    return "old key %s last used %s by %s in %s" % (used.get("access_key_id"), str(used["date"])[:10],
                                                    used.get("service"), used.get("region"))


def _waiting_parts(user):
    """Whom a waiting or held user waits for, and where IAM last saw its old key (GetAccessKeyLastUsed)."""
    parts = []
    if user.get("consumers_pending"):
        parts.append("waiting for consumers: " + ", ".join(user["consumers_pending"]))
    if user.get("old_key_last_used"):
        parts.append(last_use_words(user["old_key_last_used"]))
    return parts


def _password_parts(user, rotate_after_days):
    actions = user.get("actions") or []
    done = ", ".join(action["action"] for action in actions) if actions else "none"
    if "next_rotation_at" in user:
        upcoming = "rotation on " + str(user["next_rotation_at"])[:10]
    else:
        upcoming = "rotation in %s days" % rotate_after_days if user.get("changed") else "none"
    return done, upcoming


def rotation_lines(users, kind=ACCESS_KEYS, check_mode=False, rotate_after_days=90):
    """``<user>: <status>[ (plan)] | actions: <done> | next: <upcoming>[ | waiting for consumers: <names>][ | old key
    <id> last used <day> by <service> in <region>][ | <message>]`` for each user.

    A user's ``consumer_access_key`` (the new key handed to its consumers) is never read.
    """
    if kind not in (ACCESS_KEYS, PASSWORDS):
        raise ValueError("rotation_lines: kind must be %s or %s, not %r" % (ACCESS_KEYS, PASSWORDS, kind))
    lines = []
    for user in users or []:
        if kind == ACCESS_KEYS:
            done, upcoming = _access_key_parts(user)
            extra = _waiting_parts(user)
        else:
            done, upcoming = _password_parts(user, rotate_after_days)
            extra = []
        plan = " (plan)" if check_mode and user.get("changed") else ""
        extra += [user["msg"]] if "msg" in user else []
        lines.append("%s: %s%s | actions: %s | next: %s%s" % (user["user_name"], user["status"], plan, done, upcoming,
                                                              "".join(" | " + part for part in extra)))
    return lines


def _exempted(selection):
    """The exempted users, each with the last day of its exemption when the result gives it."""
    until = {entry.get("user"): entry.get("until") for entry in selection.get("exemptions") or []}
    return ["%s (until %s)" % (name, until[name]) if until.get(name) else name
            for name in selection.get("exempted_users") or []]


def _lapsed(selection, state):
    return [entry.get("user") for entry in selection.get("exemptions") or [] if entry.get("state") == state]


def selection_line(result, what="access keys", exempt_tag=None):
    """``<what> of account <id>: N user(s) selected: a, b; exempt by tag <t>: c (until <day>); exemption expired,
    rotated: f; exemption malformed, rotated: g; skipped, no console access: d; not selected, failed: e``, from a
    rotation module's result (``account_id`` and ``selection``)."""
    selection = result.get("selection") or {}
    users = selection.get("selected") or []
    line = "%s of account %s: %d user(s) selected" % (what, result.get("account_id"), len(users))
    line += ": " + ", ".join(users) if users else ""
    parts = [("exempt by tag %s" % exempt_tag, _exempted(selection)),
             ("exemption expired, rotated", _lapsed(selection, "expired")),
             ("exemption malformed, rotated", _lapsed(selection, "malformed")),
             ("skipped, no console access", selection.get("without_console")),
             ("not selected, failed", [entry["user_name"] for entry in selection.get("unresolved_users") or []])]
    return line + "".join("; %s: %s" % (label, ", ".join(names)) for label, names in parts if names)


class FilterModule:
    def filters(self):
        return {"rotation_lines": rotation_lines, "selection_line": selection_line}

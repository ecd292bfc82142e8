# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shaping a user's outcome into the module result and its diff; never a secret."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._common.times import iso


def key_result(key):
    return {
        "access_key_id": key.access_key_id,
        "status": key.status,
        "create_date": iso(key.create_date),
        "last_used_date": iso(key.last_used_date),
    }


def _outcome_result(outcome, **fields):
    """What every user's result holds, whatever was rotated, then ``fields``."""
    result = {
        "user_name": outcome.user_name,
        "status": outcome.status,
        "changed": outcome.changed,
        "actions": list(outcome.actions),
        "secret": dict(outcome.secret),
        "warnings": list(outcome.warnings),
    }
    result.update(fields)
    if outcome.msg:
        result["msg"] = outcome.msg
    return result


def user_result(outcome, return_secret=False):
    result = _outcome_result(outcome, access_keys=[key_result(key) for key in outcome.keys_after])
    if outcome.next_action:
        result["next_action"] = outcome.next_action
        result["next_action_at"] = iso(outcome.next_action_at)
    if return_secret and outcome.new_secret is not None:
        result["new_access_key"] = {
            "access_key_id": outcome.new_secret.access_key_id,
            "secret_access_key": outcome.new_secret.secret_access_key,
        }
    return result


def describe_keys(keys):
    """One line per key, as a diff shows it."""
    lines = []
    for key in sorted(keys, key=lambda k: (k.create_date, k.access_key_id)):
        used = key.last_used_date.date().isoformat() if key.last_used_date else "never"
        lines.append("%s  %-8s  created %s  last used %s" % (
            key.access_key_id, key.status, key.create_date.date().isoformat(), used))
    return "\n".join(lines) + "\n" if lines else "(no access keys)\n"


def user_diff(outcome):
    return {
        "before_header": "access keys of %s" % outcome.user_name,
        "after_header": "access keys of %s" % outcome.user_name,
        "before": describe_keys(outcome.keys_before),
        "after": describe_keys(outcome.keys_after),
    }


def password_result(outcome, return_secret=False):
    result = _outcome_result(outcome, login_profile=outcome.has_login_profile, last_rotated=iso(outcome.last_rotated),
                             last_rotated_source=outcome.age_source)
    if outcome.rotated_at is not None:
        result["rotated_at"] = iso(outcome.rotated_at)
    if outcome.next_rotation_at is not None:
        result["next_rotation_at"] = iso(outcome.next_rotation_at)
    if return_secret and outcome.new_secret is not None:
        result["new_password"] = outcome.new_secret.password
    return result


def _describe_password(has_profile, changed_at, source=None):
    if not has_profile:
        return "no console password\n"
    if changed_at is None:
        return "console password, last change unknown\n"
    return "console password last changed %s%s\n" % (changed_at.date().isoformat(), " (%s)" % source if source else "")


def password_diff(outcome):
    return {
        "before_header": "console password of %s" % outcome.user_name,
        "after_header": "console password of %s" % outcome.user_name,
        "before": _describe_password(outcome.has_login_profile and outcome.status != "created", outcome.last_rotated,
                                     outcome.age_source),
        "after": "console password set %s, stored in %s\n" % (
            outcome.rotated_at.date().isoformat() if outcome.rotated_at else "now",
            outcome.secret.get("name") or outcome.secret.get("path") or outcome.secret.get("type")),
    }

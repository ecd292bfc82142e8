# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The way back: reactivate the old key of a rotation when a consumer broke, and resume its retirement later.

Restoring records the hold first (the state's ``restored`` time, and why and
by whom in a tag of its own), then sets the old key Active: an answer lost
after either call leaves a hold that every later run respects, and rerunning
the restore finishes it.  Retirement is resumed only when an operator says
so (``resume``); a hold never expires by itself, since the consumer that
broke is known to need the old key.  An incident's revoke always wins: a
rotation that replaces a leaked key cannot be restored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import ACTIVE
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    StateFormatError,
    decode_state,
    encode_state,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError, call
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_users import MAX_USER_TAGS
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.times import format_time

RESTORE_TAG = "rotator:restore"
MAX_BY = 64
MAX_REASON = 128
# Punctuation IAM allows in tag values besides letters, digits and spaces.
_TAG_PUNCTUATION = set("_.:/=+-@")
_BY = re.compile(r"^\S+$")
REACTIVATE = "reactivate"
RESUME = "resume"


@dataclass(frozen=True)
class RestoreRequest:
    reason: str
    by: str


def _tag_safe(text):
    """Whether every character is one IAM allows in a tag value (\\p{L}\\p{Z}\\p{N}_.:/=+-@)."""
    return all(char.isalnum() or unicodedata.category(char).startswith("Z") or char in _TAG_PUNCTUATION
               for char in text)


def restore_errors(restore):
    """Everything wrong with the restore request, found before any AWS call."""
    errors = []
    for option, limit in (("reason", MAX_REASON), ("by", MAX_BY)):
        value = restore.get(option) or ""
        if not value.strip():
            errors.append("restore.%s must be given" % option)
        elif len(value) > limit:
            errors.append("restore.%s holds %d characters, at most %d are recorded" % (option, len(value), limit))
        elif not _tag_safe(value):
            bad = sorted(set(char for char in value if not _tag_safe(char)))
            errors.append("restore.%s may hold only letters, digits, spaces and _.:/=+-@ (IAM's tag value characters); "
                          "it holds %s" % (option, " ".join(repr(char) for char in bad)))
    if restore.get("by") and not _BY.match(restore["by"]):
        errors.append("restore.by must be one word (a name or an e-mail address), without spaces")
    return errors


def encode_restore(old_key_id, request, now):
    # The reason comes last: it is the one field that may hold spaces.
    return "v1 key=%s at=%s by=%s reason=%s" % (old_key_id, format_time(now), request.by, " ".join(request.reason.split()))


# What encode_restore writes; the reason comes last, since it may hold spaces.
_RESTORE_VALUE = re.compile(r"^v1 key=(?P<key>\S+) at=\S+ by=(?P<by>\S+) reason=(?P<reason>.*)$")


def decode_restore(value):
    """The key, who restored it and why, from a restore tag's value; None when the value is not one."""
    recorded = _RESTORE_VALUE.match(value or "")
    return recorded.groupdict() if recorded else None


def _read(gateway, user_name):
    tags = gateway.user_tags(user_name)
    try:
        state = decode_state(tags.get(ACCESS_KEY_STATE_TAG))
    except StateFormatError as exc:
        raise RotationError("tag %s of user %s: %s" % (ACCESS_KEY_STATE_TAG, user_name, exc)) from None
    return tags, state


def _by_id(keys, key_id):
    return next((key for key in keys if key.access_key_id == key_id), None)


def restore_old_key(gateway, outcome, request, now, check_mode=False):
    """Reactivate the old key of the user's rotation and hold its retirement; raise RotationError, changing
    nothing, when there is no old key to go back to or an incident revoked it."""
    user = outcome.user_name
    keys = gateway.list_access_keys(user)
    outcome.keys_before, outcome.keys_after = list(keys), list(keys)
    tags, state = _read(gateway, user)
    if state.incident:
        raise RotationError("the rotation of %s replaces a key revoked in an incident (state incident=1); its old key %s "
                            "is never reactivated; nothing was changed" % (user, state.old_key or "-"))
    if state.creating is not None:
        raise RotationError("a rotation of %s was interrupted while creating a key; run the rotation first so it is "
                            "repaired, then restore; nothing was changed" % user)
    old = _by_id(keys, state.old_key) if state.old_key and state.old_key != state.new_key else None
    if old is None:
        raise RotationError("user %s has no old key to reactivate: %s; nothing was changed" % (
            user, "its old key %s was already deleted" % state.old_key if state.old_key
            else "no rotation of the collection holds one (it was deleted, or nothing was rotated)"))
    restore_value = encode_restore(old.access_key_id, request, now)
    held = state.with_changes(restored_at=state.restored_at or now, deactivated_at=None)
    missing = [tag for tag in (ACCESS_KEY_STATE_TAG, RESTORE_TAG) if tag not in tags]
    if len(tags) + len(missing) > MAX_USER_TAGS:
        raise RotationError("user %s has %d tags; recording the restore needs %d more and IAM allows %d per user; "
                            "nothing was changed. Remove a tag" % (user, len(tags), len(missing), MAX_USER_TAGS))
    same_request = _same_request(tags.get(RESTORE_TAG), restore_value)
    if held != state or not same_request:
        if not check_mode:
            call("recording the restore of %s" % user, gateway.iam.tag_user, UserName=user, Tags=[
                {"Key": ACCESS_KEY_STATE_TAG, "Value": encode_state(held)},
                {"Key": RESTORE_TAG, "Value": restore_value}])
        outcome.changed = True
    if old.status != ACTIVE:
        if not check_mode:
            gateway.set_access_key_status(user, old.access_key_id, ACTIVE)
        outcome.actions.append({"action": REACTIVATE, "access_key_id": old.access_key_id})
        outcome.changed = True
        outcome.keys_after = [_with_status(key, ACTIVE) if key is old else key for key in keys]
    outcome.old_key_last_used = last_use(gateway, old.access_key_id)
    outcome.status = "restored" if outcome.changed else "held"
    outcome.msg = "old key %s is active and its retirement held (reason: %s; by %s) until a run with resume" % (
        old.access_key_id, " ".join(request.reason.split()), request.by)


def _same_request(recorded, wanted):
    """Whether the restore tag already records this request (the time aside)."""
    if recorded is None:
        return False
    return _without_time(recorded) == _without_time(wanted)


def _without_time(value):
    return re.sub(r" at=\S+", "", value)


def _with_status(key, status):
    return replace(key, status=status)


def resume_retirement(gateway, outcome, now, check_mode=False):
    """Lift a restore's hold: the next rotation run deactivates the old key when it is due (consumers and the in-use
    guard still apply)."""
    user = outcome.user_name
    keys = gateway.list_access_keys(user)
    outcome.keys_before, outcome.keys_after = list(keys), list(keys)
    tags, state = _read(gateway, user)
    if state.restored_at is None and RESTORE_TAG not in tags:
        outcome.status, outcome.msg = "compliant", "no restore holds the retirement of %s's old key" % user
        return
    if not check_mode:
        if state.restored_at is not None:
            gateway.record_rotation_state(user, state.with_changes(restored_at=None))
        if RESTORE_TAG in tags:
            call("removing the restore tag of %s" % user, gateway.iam.untag_user, UserName=user, TagKeys=[RESTORE_TAG])
    outcome.actions.append({"action": RESUME, "access_key_id": state.old_key})
    outcome.changed = True
    outcome.status = "resumed"
    outcome.msg = "the retirement of old key %s resumes with the next rotation run" % (state.old_key or "-")


def last_use(gateway, access_key_id):
    """Where and when a key was last used, as IAM reports it (with its lag of up to four hours)."""
    answer = call("reading last use of %s" % access_key_id, gateway.iam.get_access_key_last_used,
                  AccessKeyId=access_key_id).get("AccessKeyLastUsed", {})
    return {"access_key_id": access_key_id, "date": answer.get("LastUsedDate"),
            "service": answer.get("ServiceName"), "region": answer.get("Region")}

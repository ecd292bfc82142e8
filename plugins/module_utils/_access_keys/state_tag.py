# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The access key rotation state the collection records on an IAM user.

IAM keeps no record of when a key was deactivated or which key replaced
which, so the collection keeps its own, as one tag on the user.  One tag
means one ``TagUser`` call writes the whole state atomically.

The value uses only the characters IAM allows in tag values
(letters, digits, space and ``_ . : / = + - @``) and fits in 256 characters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ansible_collections.rotator.aws_iam.plugins.module_utils._common.times import format_time, parse_time

ACCESS_KEY_STATE_TAG = "rotator:access-key-rotation"
_VERSION = "v1"
_EMPTY = "-"


@dataclass(frozen=True)
class RotationState:
    """What the collection knows about a user's access key rotation.

    ``new_key`` is the key the collection created last; ``old_key`` the key
    it replaces, until that key is deleted.  ``creating`` is set just before
    ``CreateAccessKey`` to the ids of the keys that existed then, so a key
    that appears without being recorded (a run that died between creating a
    key and recording it) can be told apart from a key somebody else made.
    """

    new_key: str | None = None
    old_key: str | None = None
    verified: bool = False
    rotated_at: datetime | None = None
    deactivated_at: datetime | None = None
    creating: tuple[str, ...] | None = None
    announced_at: datetime | None = None
    # The rotation replaces a key taken out of use in an incident: its old key is revoked by every run.
    incident: bool = False
    # An operator reactivated the old key (the way back): its retirement is held until resumed.
    restored_at: datetime | None = None

    def with_changes(self, **changes) -> "RotationState":
        return replace(self, **changes)

    @property
    def is_empty(self) -> bool:
        return self == RotationState()


def encode_state(state: RotationState) -> str:
    """Render the state as a tag value."""
    fields = [_VERSION]
    if state.new_key:
        fields.append("new=" + state.new_key)
    if state.old_key:
        fields.append("old=" + state.old_key)
    if state.new_key:
        fields.append("verified=" + ("1" if state.verified else "0"))
    if state.rotated_at:
        fields.append("rotated=" + format_time(state.rotated_at))
    if state.deactivated_at:
        fields.append("deactivated=" + format_time(state.deactivated_at))
    if state.creating is not None:
        fields.append("creating=" + ("/".join(state.creating) or _EMPTY))
        if state.announced_at:
            fields.append("announced=" + format_time(state.announced_at))
    if state.incident:
        fields.append("incident=1")
    if state.restored_at:
        fields.append("restored=" + format_time(state.restored_at))
    return " ".join(fields)


class StateFormatError(ValueError):
    """A state tag (of either credential kind) that cannot be read."""


def decode_state(value: str | None) -> RotationState:
    """Parse a tag value written by :func:`encode_state`.

    A missing tag is an empty state.  A tag that cannot be parsed raises
    :class:`StateFormatError` instead of being ignored: acting on a state
    that was misread could deactivate the wrong key.
    """
    if value is None:
        return RotationState()
    parts = value.split()
    if not parts or parts[0] != _VERSION:
        raise StateFormatError("unsupported rotation state %r" % value)
    fields = {}
    for part in parts[1:]:
        name, sep, item = part.partition("=")
        if not sep or name in fields:
            raise StateFormatError("malformed rotation state %r" % value)
        fields[name] = item
    try:
        creating = None
        if "creating" in fields:
            raw = fields.pop("creating")
            creating = tuple() if raw == _EMPTY else tuple(raw.split("/"))
        state = RotationState(
            new_key=fields.pop("new", None),
            old_key=fields.pop("old", None),
            verified=fields.pop("verified", "0") == "1",
            rotated_at=parse_time(fields.pop("rotated")) if "rotated" in fields else None,
            deactivated_at=parse_time(fields.pop("deactivated")) if "deactivated" in fields else None,
            creating=creating,
            announced_at=parse_time(fields.pop("announced")) if "announced" in fields else None,
            incident=fields.pop("incident", "0") == "1",
            restored_at=parse_time(fields.pop("restored")) if "restored" in fields else None,
        )
    except ValueError as exc:
        raise StateFormatError("malformed rotation state %r: %s" % (value, exc)) from None
    if fields:
        raise StateFormatError("unknown fields %s in rotation state %r" % (sorted(fields), value))
    return state

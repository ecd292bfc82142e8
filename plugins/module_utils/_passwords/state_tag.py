# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When the collection last set a user's console password, recorded as a tag on the user.

The recorded rotation, when there is one, is the password's age for the
planner; without it the credential report (up to four hours old) is read.
A tag that cannot be read raises the same :class:`StateFormatError` as the
access key state tag, so callers handle both alike.
"""

from __future__ import annotations

from datetime import datetime

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import StateFormatError
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.times import format_time, parse_time

PASSWORD_STATE_TAG = "rotator:password-rotation"
_VERSION = "v1"
_ROTATED = "rotated="


def encode_password_state(rotated_at: datetime) -> str:
    return "%s %s%s" % (_VERSION, _ROTATED, format_time(rotated_at))


def decode_password_state(value: str | None) -> datetime | None:
    """When the collection last set the user's console password, or None."""
    if value is None:
        return None
    parts = value.split()
    if len(parts) != 2 or parts[0] != _VERSION or not parts[1].startswith(_ROTATED):
        raise StateFormatError("malformed password rotation state %r" % value)
    try:
        return parse_time(parts[1][len(_ROTATED):])
    except ValueError:
        raise StateFormatError("malformed password rotation state %r" % value) from None

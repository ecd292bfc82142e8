# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Exemptions that expire: the value of the exemption tag (``rotator:exempt``) and whether it exempts now.

For the collection's own use: it may change in any release.

The value is words separated by spaces: ``until=2027-03-31 reason=SEC-123``.
IAM tag values allow only letters, digits, spaces and ``_ . : / = + - @``
(IAM API reference, Tag data type, pattern ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*``,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html), so no
``;`` or ``,`` can separate the fields; the space can.

- ``until=`` (required) is a day, ``YYYY-MM-DD``, in UTC, and it is
  included: the user is exempt through the whole of that day and rotated
  from the next one.
- ``reason=`` (optional) is the rest of its words, up to the next field.

A value without an end date (``true``, ``yes``, a bare reason), with an
unknown field or with a day that does not exist is malformed: it does not
exempt, and it is reported with what is wrong.  So is an exemption whose day
has passed: the user is rotated as usual and the exemption reported as expired.
Nothing exempts for ever.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timezone

ACTIVE = "active"
EXPIRED = "expired"
MALFORMED = "malformed"

UNTIL = "until"
REASON = "reason"
FIELDS = (UNTIL, REASON)
FORMAT = "until=YYYY-MM-DD reason=<text>"

_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)=(.*)$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

# IAM tag keys: 1 to 128 characters of the same set as values (API_Tag above).
MAX_TAG_KEY = 128
_TAG_PUNCTUATION = frozenset("_.:/=+-@")
# \p{L}, \p{Z} and \p{N}: Unicode letters, separators and numbers, by their general category.
_TAG_CATEGORIES = ("L", "Z", "N")


class ExemptionFormatError(ValueError):
    """The value is not ``until=YYYY-MM-DD reason=<text>``; the message says what is wrong.

    ``reason`` is the reason the value gave, when its words could be read.
    """

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Exemption:
    """One user's exemption tag, as it stands on the day it was read.

    ``days_left`` is the number of days from that day to the end date (0 on the last day, negative once it has
    passed); None, like ``until``, when the value is malformed.
    """

    user: str
    state: str
    until: str | None
    days_left: int | None
    reason: str | None
    msg: str

    @property
    def exempts(self):
        return self.state == ACTIVE

    def as_result(self):
        """The exemption as module results hold it (the fields owners' digests and the report read)."""
        return {"user": self.user, "state": self.state, "until": self.until, "days_left": self.days_left,
                "reason": self.reason, "msg": self.msg}


def _fields(value):
    """{field: its words} of a value; ExemptionFormatError on a word that belongs to no field."""
    fields, current = {}, None
    for word in value.split():
        match = _FIELD.match(word)
        if match is None:
            if current != REASON:
                raise ExemptionFormatError("%r is not a field (name=value)" % word, _reason(fields))
            fields[REASON].append(word)
            continue
        current, text = match.groups()
        if current not in FIELDS:
            raise ExemptionFormatError("unknown field %s= (the fields are %s)" % (
                current, " and ".join("%s=" % name for name in FIELDS)), _reason(fields))
        if current in fields:
            raise ExemptionFormatError("%s= is given twice" % current, _reason(fields))
        fields[current] = [text]
    return fields


def _reason(fields):
    return " ".join(word for word in fields.get(REASON, []) if word) or None


def parse_exemption(value):
    """(end day, reason or None) of an exemption tag's value; ExemptionFormatError when it is malformed."""
    fields = _fields(value)
    reason = _reason(fields)
    if UNTIL not in fields:
        raise ExemptionFormatError("no until= end date", reason)
    text = fields[UNTIL][0]
    if not _DAY.match(text):
        raise ExemptionFormatError("until=%s is not a date written YYYY-MM-DD" % text, reason)
    try:
        until = date.fromisoformat(text)
    except ValueError:
        raise ExemptionFormatError("until=%s is not a day of the calendar" % text, reason) from None
    return until, reason


def utc_day(now):
    """The UTC day of a moment; a moment without a time zone is taken as UTC, as the collection's times are."""
    return (now.astimezone(timezone.utc) if now.tzinfo else now).date()


def _days(count):
    return "%d day%s" % (count, "" if count == 1 else "s")


def read_exemption(user, value, now: datetime) -> Exemption:
    """The exemption that ``user``'s tag value gives on the (UTC) day of ``now``."""
    try:
        until, reason = parse_exemption(value)
    except ExemptionFormatError as exc:
        return Exemption(user, MALFORMED, None, None, exc.reason,
                         "the exemption tag's value %r is malformed: %s; the format is %s; the user is rotated"
                         % (value, exc, FORMAT))
    days_left = (until - utc_day(now)).days
    if days_left >= 0:
        msg = "exempt until %s (%s left)" % (until.isoformat(), _days(days_left))
        return Exemption(user, ACTIVE, until.isoformat(), days_left, reason, msg + (": %s" % reason if reason else ""))
    return Exemption(user, EXPIRED, until.isoformat(), days_left, reason,
                     "the exemption ended on %s (%s ago); the user is rotated" % (until.isoformat(), _days(-days_left)))


def tag_key_problem(key):
    """Why ``key`` cannot be an IAM tag key (length, a character IAM refuses), or None when it can."""
    if not 1 <= len(key) <= MAX_TAG_KEY:
        return "1 to %d characters" % MAX_TAG_KEY
    for character in key:
        if character not in _TAG_PUNCTUATION and unicodedata.category(character)[0] not in _TAG_CATEGORIES:
            return "%r is not allowed" % character
    return None

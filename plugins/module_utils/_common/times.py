# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How the collection writes moments: in state tags, and in results and reports."""

from __future__ import annotations

from datetime import datetime, timezone

# A moment in a state tag: to the second, in UTC, and only characters IAM allows in tag values.
_TAG_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
_UTC_OFFSET = "+00:00"


def format_time(value: datetime) -> str:
    """A moment as a state tag holds it (``20240601T123045Z``)."""
    return value.astimezone(timezone.utc).strftime(_TAG_TIME_FORMAT)


def parse_time(value: str) -> datetime:
    """A moment read from a state tag; ValueError when ``value`` is not one."""
    return datetime.strptime(value, _TAG_TIME_FORMAT).replace(tzinfo=timezone.utc)


def iso(value: datetime | None, zulu: bool = False) -> str | None:
    """A moment as ISO 8601 text in UTC (None for None); a moment without a time zone is taken as UTC.

    Two spellings of UTC, each kept where it has always been returned:
    module results (``create_date``, ``next_action_at``, ``last_rotated``...)
    end in ``+00:00``, as Python and AWS's own timestamps write it; the
    report (the ``rotation_report`` filter's JSON and CSV) ends in ``Z``
    (``zulu=True``), the form its readers and its HTML header expect.
    """
    if value is None:
        return None
    moment = value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = moment.isoformat()
    return text[:-len(_UTC_OFFSET)] + "Z" if zulu else text

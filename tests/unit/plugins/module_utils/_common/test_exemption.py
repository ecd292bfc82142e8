"""Exemptions that expire (issue 14, part 3): the value of the exemption tag, and the day it stops exempting.

The tag's value is ``until=YYYY-MM-DD reason=<text>``: words separated by
spaces, since IAM tag values allow no ``;`` or ``,``.  The end date is a UTC
day and is included: the user is exempt through that whole day.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._common.exemption import (
    ACTIVE,
    EXPIRED,
    MALFORMED,
    read_exemption,
    tag_key_problem,
)

UTC = timezone.utc
LAST_DAY = datetime(2027, 3, 31, 0, 0, tzinfo=UTC)


def state(value, now):
    exemption = read_exemption("bob", value, now)
    return exemption.state, exemption.days_left


@pytest.mark.parametrize("now, expected", [
    (datetime(2027, 3, 1, 12, 0, tzinfo=UTC), (ACTIVE, 30)),
    (datetime(2027, 3, 31, 0, 0, tzinfo=UTC), (ACTIVE, 0)),
    (datetime(2027, 3, 31, 23, 59, 59, 999999, tzinfo=UTC), (ACTIVE, 0)),
    (datetime(2027, 4, 1, 0, 0, tzinfo=UTC), (EXPIRED, -1)),
    (datetime(2027, 6, 1, 0, 0, tzinfo=UTC), (EXPIRED, -62)),
], ids=["a month before", "the last day begins", "the last day ends", "the day after", "long expired"])
def test_the_end_date_is_a_utc_day_that_still_exempts(now, expected):
    assert state("until=2027-03-31 reason=SEC-123", now) == expected


@pytest.mark.parametrize("now, expected", [
    # 01:30 on 1 April in Berlin (+02:00) is still 31 March in UTC: exempt.
    (datetime(2027, 4, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))), (ACTIVE, 0)),
    # 20:00 on 31 March in New York (-04:00) is already 1 April in UTC: expired.
    (datetime(2027, 3, 31, 20, 0, tzinfo=timezone(timedelta(hours=-4))), (EXPIRED, -1)),
    # A moment without a time zone is taken as UTC, as the collection's times are.
    (datetime(2027, 3, 31, 23, 0), (ACTIVE, 0)),
], ids=["east of UTC", "west of UTC", "naive"])
def test_the_day_is_counted_in_utc_whatever_the_time_zone_of_now(now, expected):
    assert state("until=2027-03-31", now) == expected


def test_an_active_exemption_keeps_its_end_date_and_reason():
    exemption = read_exemption("bob", "until=2027-03-31 reason=SEC-123 break glass", datetime(2027, 3, 21, tzinfo=UTC))
    assert exemption.as_result() == {
        "user": "bob", "state": "active", "until": "2027-03-31", "days_left": 10,
        "reason": "SEC-123 break glass", "msg": "exempt until 2027-03-31 (10 days left): SEC-123 break glass"}
    assert exemption.exempts is True


def test_an_expired_exemption_no_longer_exempts_and_says_since_when():
    exemption = read_exemption("bob", "until=2027-03-31 reason=SEC-123", datetime(2027, 4, 3, tzinfo=UTC))
    assert exemption.as_result() == {
        "user": "bob", "state": "expired", "until": "2027-03-31", "days_left": -3, "reason": "SEC-123",
        "msg": "the exemption ended on 2027-03-31 (3 days ago); the user is rotated"}
    assert exemption.exempts is False


@pytest.mark.parametrize("value, until, reason", [
    ("until=2027-03-31", "2027-03-31", None),
    ("reason=change freeze until=2027-03-31", "2027-03-31", "change freeze"),
    ("  until=2027-03-31   reason=SEC-123  ", "2027-03-31", "SEC-123"),
    ("until=2027-03-31 reason=ticket=SEC-123 @team/ops", "2027-03-31", "ticket=SEC-123 @team/ops"),
    ("until=2027-03-31 reason=", "2027-03-31", None),
], ids=["no reason", "reason first, in words", "extra spaces", "reason with = and @", "empty reason"])
def test_well_formed_values(value, until, reason):
    exemption = read_exemption("bob", value, LAST_DAY)
    assert (exemption.state, exemption.until, exemption.reason) == (ACTIVE, until, reason)


@pytest.mark.parametrize("value, why, reason", [
    ("true", "'true' is not a field (name=value)", None),
    ("", "no until= end date", None),
    ("break-glass account", "'break-glass' is not a field (name=value)", None),
    ("reason=SEC-123", "no until= end date", "SEC-123"),
    ("until=2027-02-30 reason=SEC-123", "until=2027-02-30 is not a day of the calendar", "SEC-123"),
    ("until=31/03/2027", "until=31/03/2027 is not a date written YYYY-MM-DD", None),
    ("until=2027-03-31T12:00:00Z", "until=2027-03-31T12:00:00Z is not a date written YYYY-MM-DD", None),
    ("until=2027-03-31 owner=alice", "unknown field owner= (the fields are until= and reason=)", None),
    ("Until=2027-03-31", "unknown field Until= (the fields are until= and reason=)", None),
    ("until=2027-03-31 until=2028-03-31", "until= is given twice", None),
    ("until=2027-03-31 2028", "'2028' is not a field (name=value)", None),
], ids=["legacy true", "empty", "legacy words", "no date", "no such day", "other date order", "a time",
        "unknown field", "field names are lower case", "twice", "stray word"])
def test_a_malformed_value_does_not_exempt_and_says_why(value, why, reason):
    exemption = read_exemption("bob", value, LAST_DAY)
    assert exemption.as_result() == {
        "user": "bob", "state": MALFORMED, "until": None, "days_left": None, "reason": reason,
        "msg": "the exemption tag's value %r is malformed: %s; the format is until=YYYY-MM-DD reason=<text>; "
               "the user is rotated" % (value, why)}
    assert exemption.exempts is False


@pytest.mark.parametrize("key, problem", [
    ("rotator:exempt", None),
    ("Exempt Until", None),
    ("équipe/exemption_@+=.-", None),
    ("k" * 128, None),
    ("k" * 129, "1 to 128 characters"),
    ("rotator;exempt", "';' is not allowed"),
    ("rotator,exempt", "',' is not allowed"),
    ("exempt*", "'*' is not allowed"),
], ids=["default", "spaces", "letters of any script", "128", "129", "semicolon", "comma", "star"])
def test_tag_key_problems(key, problem):
    assert tag_key_problem(key) == problem

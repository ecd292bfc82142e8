"""What counts as news for only_when_changed, and what the SSM parameter holds."""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.rotator.aws_iam.plugins.module_utils._notify.digest import AccountResults, build_digests
from ansible_collections.rotator.aws_iam.plugins.module_utils._notify.fingerprints import (
    MAX_VALUE_LENGTH,
    FingerprintStore,
    is_news,
    stored_value,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


def item_ids(exemptions=(), users=(), kind="access_keys"):
    result = {"account_id": "111111111111", "users": list(users), "selection": {"exemptions": list(exemptions)}}
    account = AccountResults.from_option({"host": "prod", "owner": "o@example.com", kind: result}, "rotator:owner")
    digests, _unowned = build_digests([account], {}, "", NOW, 14, 30)
    return digests[0]["item_ids"] if digests else []


def exemption(days_left):
    return {"user": "glass", "state": "active", "until": "2026-12-28", "days_left": days_left, "reason": "SEC-1"}


def test_an_exemption_entering_its_warning_window_is_news_and_staying_in_it_is_not():
    assert item_ids([exemption(31)]) == []
    entering = item_ids([exemption(30)])
    assert is_news(entering, set()) is True
    assert is_news(item_ids([exemption(29)]), set(entering)) is False


def test_a_password_due_within_the_window_is_listed_and_the_same_day_again_is_not_news():
    erin = {"user_name": "erin", "status": "compliant", "next_rotation_at": "2026-12-01T00:00:00+00:00"}
    first = item_ids(users=[erin], kind="passwords")
    assert len(first) == 1
    assert is_news(item_ids(users=[dict(erin)], kind="passwords"), set(first)) is False
    assert item_ids(users=[dict(erin, next_rotation_at="2027-02-01T00:00:00+00:00")], kind="passwords") == []


def test_an_item_that_goes_away_is_not_news():
    assert is_news(["a"], {"a", "b"}) is False


def test_the_stored_value_keeps_whole_ids_within_the_parameter_size():
    ids = ["%016x" % number for number in range(400)]
    value = stored_value(ids)
    assert len(value) <= MAX_VALUE_LENGTH
    assert value.split(",") == sorted(ids)[:len(value.split(","))]
    assert len(value.split(",")) == (MAX_VALUE_LENGTH + 1) // 17
    assert stored_value([]) == "-"


def test_the_parameter_name_hides_the_owner_and_allows_only_ssm_characters():
    name = FingerprintStore(None, "rotator/owner-digests/").name("first.last+ops@example.com")
    assert name.startswith("/rotator/owner-digests/")
    assert "@" not in name and len(name.rsplit("/", 1)[1]) == 32

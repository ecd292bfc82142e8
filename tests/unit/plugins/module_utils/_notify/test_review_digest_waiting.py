"""A user waiting for its consumers, as iam_access_key_rotate returns it: the digest names the consumers that have
not confirmed (``consumers_pending``) and never holds the key handed to them (``consumer_access_key``)."""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.rotator.aws_iam.plugins.module_utils._notify.digest import (
    AccountResults,
    build_digests,
    digest_text,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
# The fields of iam_access_key_rotate's RETURN for a user whose old key waits for its consumers.
WAITING = {"user_name": "etl", "status": "waiting_for_consumers", "changed": False, "checked": True,
           "access_keys": [{"access_key_id": "AKIAOLD", "status": "Active", "create_date": "2026-01-01T00:00:00+00:00"},
                           {"access_key_id": "AKIANEW", "status": "Active", "create_date": "2026-11-20T00:00:00+00:00"}],
           "msg": "consumers github have not confirmed the new key AKIANEW",
           "consumers_pending": ["github"],
           "consumer_access_key": {"access_key_id": "AKIANEW", "secret_access_key": SECRET},
           "old_key_last_used": {"access_key_id": "AKIAOLD", "date": "2026-11-27T10:00:00+00:00", "service": "s3",
                                 "region": "eu-west-1"}}


def test_a_waiting_user_names_its_pending_consumers_and_never_the_key_they_get():
    account = AccountResults(host="prod", account_id="111111111111", owner="data@example.com",
                             results={"access_keys": {"account_id": "111111111111", "users": [WAITING]}})
    digests, unowned = build_digests([account], {}, "", NOW, 14, 30)
    assert unowned == []
    assert digests[0]["sections"]["waiting"] == [{
        "credential": "access key", "user_name": "etl", "since": "2026-11-20T00:00:00+00:00",
        "msg": "consumers github have not confirmed the new key AKIANEW", "consumers": ["github"],
        "account_id": "111111111111", "account": "prod"}]
    assert digest_text(digests[0]).splitlines()[3] == (
        "  - etl in 111111111111 (access key): new key since 2026-11-20T00:00:00+00:00; consumers github have not "
        "confirmed the new key AKIANEW; consumers: [\"github\"]")
    assert SECRET not in repr(digests)

"""The stub fixture serves a real AWS API to the real connection class."""

from __future__ import annotations


def test_the_connection_reaches_the_stub_and_the_call_log_counts_it(aws):
    connection = aws.connect()
    assert connection.account_id == aws.account
    aws.user("alice", keys=1)
    assert [call["user"] for call in aws.calls("CreateAccessKey")] == ["alice"]

"""rotation_notify with only_when_changed when SSM fails: a digest that was sent is reported as sent, and the other
owners still get theirs.

The record of what an owner was told is written after the digest went out; when that write fails (SSM answers
500), the owner was told all the same, and the owners after it in the run must not lose their digest.
"""

from __future__ import annotations

import json
import urllib.request

from ansible_collections.rotator.aws_iam.plugins.modules import rotation_notify

OWNERS = ["alice@example.com", "bob@example.com", "carol@example.com"]


def sns_owners(aws):
    with open(aws.state_file, encoding="utf-8") as state:
        moto_url = json.load(state)["moto_url"]
    with urllib.request.urlopen(moto_url + "/moto-api/data.json") as answer:
        data = json.load(answer)
    return sorted(note[3]["owner"]["Value"] for topic in data["sns"]["Topic"] for note in topic["sent_notifications"])


def failed_rotations():
    """One account whose three users failed, each owned (by its account entry's owner tag) by someone else."""
    users = [{"user_name": name, "status": "failed", "msg": "CreateAccessKey: AccessDenied"} for name in
             ("alice", "bob", "carol")]
    return [dict(host="prod", account_id="123456789012", access_keys={"account_id": "123456789012", "users": users})]


def test_a_failed_record_keeps_the_sent_digest_and_the_other_owners(aws, connection_args, run_module):
    for name in ("alice", "bob", "carol"):
        aws.user(name, tags={"rotator:owner": "%s@example.com" % name})
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    aws.faults(error_rate=1.0, actions=["PutParameter"])
    failed, result = run_module(rotation_notify, dict(connection_args, accounts=failed_rotations(), channels=["sns"],
                                                      sns_topic_arn=topic, only_when_changed=True))
    aws.faults()
    assert failed is True
    assert sns_owners(aws) == OWNERS
    assert [(d["owner"], d["sent"], d["reason"], d["sent_to"]) for d in result["digests"]] == [
        (owner, True, "sent", [topic]) for owner in OWNERS]
    assert result["changed"] is True
    assert result["msg"].startswith("sending the owners' digests failed: writing /rotator/owner-digests/")
    assert result["msg"].count("writing /rotator/owner-digests/") == 3
    assert aws.client("ssm").describe_parameters()["Parameters"] == []


def test_an_unreadable_record_fails_that_owner_only(aws, connection_args, run_module):
    for name in ("alice", "bob", "carol"):
        aws.user(name, tags={"rotator:owner": "%s@example.com" % name})
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    aws.faults(error_rate=1.0, actions=["GetParameter"])
    failed, result = run_module(rotation_notify, dict(connection_args, accounts=failed_rotations(), channels=["sns"],
                                                      sns_topic_arn=topic, only_when_changed=True))
    aws.faults()
    assert failed is True
    # What each owner was told cannot be read: nobody is told (it may be no news), and each owner is reported.
    assert sns_owners(aws) == []
    assert [(d["owner"], d["sent"], d["sent_to"]) for d in result["digests"]] == [
        (owner, False, []) for owner in OWNERS]
    assert [d["reason"].startswith("reading /rotator/owner-digests/") for d in result["digests"]] == [True] * 3
    assert result["changed"] is False

"""rotation_notify with one SNS topic per owner (``{owner_id}``): two owners must never share a topic.

``{owner_id}`` turns every character a topic name does not allow into ``-``, so ``a.b@example.com`` and
``a-b@example.com`` would both be ``a-b-example-com``: each would read the other's digest.  That is found before
anything is sent.
"""

from __future__ import annotations

import json
import urllib.request

from ansible_collections.rotator.aws_iam.plugins.modules import rotation_notify


def sent_notifications(aws):
    with open(aws.state_file, encoding="utf-8") as state:
        moto_url = json.load(state)["moto_url"]
    with urllib.request.urlopen(moto_url + "/moto-api/data.json") as answer:
        data = json.load(answer)
    return [note for topic in data["sns"]["Topic"] for note in topic["sent_notifications"]]


def test_two_owners_on_one_topic_fail_before_anything_is_sent(aws, connection_args, run_module):
    aws.user("alice", tags={"rotator:owner": "a.b@example.com"})
    aws.user("bob", tags={"rotator:owner": "a-b@example.com"})
    aws.client("sns").create_topic(Name="owner-a-b-example-com")
    users = [{"user_name": name, "status": "failed", "msg": "CreateAccessKey: AccessDenied"} for name in ("alice", "bob")]
    accounts = [dict(host="prod", account_id="123456789012", access_keys={"account_id": "123456789012", "users": users})]
    failed, result = run_module(rotation_notify, dict(
        connection_args, accounts=accounts, channels=["sns"],
        sns_topic_arn="arn:aws:sns:us-east-1:123456789012:owner-{owner_id}"))
    assert failed is True
    assert result["msg"] == (
        "sns_topic_arn arn:aws:sns:us-east-1:123456789012:owner-a-b-example-com is the topic of more than one owner"
        " (a-b@example.com, a.b@example.com): each would read the others' digests; nothing was sent")
    assert result["changed"] is False
    assert sent_notifications(aws) == []

"""only_when_changed across runs over different accounts: AWX job slices, or ``--limit``.

Each slice tells an owner about its own accounts.  What the owner was told about the accounts of one slice must
survive the other slice's digest: the first slice run again with the same results is no news.
"""

from __future__ import annotations

import json
import urllib.request

from ansible_collections.rotator.aws_iam.plugins.modules import rotation_notify

OWNER = "platform@example.com"


def sent_count(aws):
    with open(aws.state_file, encoding="utf-8") as state:
        moto_url = json.load(state)["moto_url"]
    with urllib.request.urlopen(moto_url + "/moto-api/data.json") as answer:
        data = json.load(answer)
    return sum(len(topic["sent_notifications"]) for topic in data["sns"]["Topic"])


def account(host, account_id, user):
    users = [{"user_name": user, "status": "failed", "msg": "CreateAccessKey: AccessDenied"}]
    return dict(host=host, account_id=account_id, owner=OWNER,
                access_keys={"account_id": account_id, "users": users})


def test_one_slice_does_not_make_the_other_slice_news_again(aws, connection_args, run_module):
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    options = dict(connection_args, channels=["sns"], sns_topic_arn=topic, only_when_changed=True, owner_tag="")
    slice_one = [account("prod", "111111111111", "alice")]
    slice_two = [account("shared", "222222222222", "bob")]
    reasons = []
    for accounts in (slice_one, slice_two, slice_one, slice_two):
        failed, result = run_module(rotation_notify, dict(options, accounts=accounts))
        assert failed is False, result["msg"]
        reasons.append([(d["owner"], d["reason"]) for d in result["digests"]])
    assert reasons == [[(OWNER, "sent")], [(OWNER, "sent")], [(OWNER, "no news")], [(OWNER, "no news")]]
    assert sent_count(aws) == 2


def test_an_item_gone_from_an_account_of_the_run_is_news_when_it_comes_back(aws, connection_args, run_module):
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    options = dict(connection_args, channels=["sns"], sns_topic_arn=topic, only_when_changed=True, owner_tag="")
    both = [account("prod", "111111111111", "alice"), account("shared", "222222222222", "bob")]
    alice_fixed = [dict(both[0], access_keys={"account_id": "111111111111", "users": [
        {"user_name": "alice", "status": "rotated", "actions": [{"action": "create", "access_key_id": "AKIANEW1"}],
         "secret": {"type": "none"}}]}), both[1]]
    reasons = []
    for accounts in (both, alice_fixed, both):
        failed, result = run_module(rotation_notify, dict(options, accounts=accounts))
        assert failed is False, result["msg"]
        reasons.append([(d["owner"], d["reason"]) for d in result["digests"]])
    assert reasons == [[(OWNER, "sent")], [(OWNER, "sent")], [(OWNER, "sent")]]

"""rotation_notify reads each user's owner tag in that user's account, or not at all.

An account entry without ``assume_role_arn`` is read with the module's own connection.  When that connection is
in another account than the one the results name (a host whose rotation used other credentials, a role left out),
a user of the same name there would name the owner: the digest would go to somebody else's owner.  The module
fails before anything is sent.
"""

from __future__ import annotations

import json
import urllib.request

from ansible_collections.rotator.aws_iam.plugins.modules import rotation_notify

SHARED_ROLE = "arn:aws:iam::222222222222:role/iam-rotator"


def sent_notifications(aws):
    with open(aws.state_file, encoding="utf-8") as state:
        moto_url = json.load(state)["moto_url"]
    with urllib.request.urlopen(moto_url + "/moto-api/data.json") as answer:
        data = json.load(answer)
    return [note for topic in data["sns"]["Topic"] for note in topic["sent_notifications"]]


def test_owner_tags_are_not_read_in_another_account_than_the_results(aws, connection_args, run_module):
    # carol of account 222222222222 is owned by shared-team; a carol of the module's own account by someone else.
    aws.user("carol", tags={"rotator:owner": "stranger@example.com"})
    shared = aws.connect(assume_role_arn=SHARED_ROLE).client("iam")
    shared.create_user(UserName="carol", Tags=[{"Key": "rotator:owner", "Value": "shared-team@example.com"}])
    own_account = aws.client("sts").get_caller_identity()["Account"]
    assert own_account != "222222222222"
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    users = [{"user_name": "carol", "status": "failed", "msg": "CreateAccessKey: AccessDenied"}]
    accounts = [dict(host="shared", access_keys={"account_id": "222222222222", "users": users})]
    failed, result = run_module(rotation_notify, dict(connection_args, accounts=accounts, channels=["sns"],
                                                      sns_topic_arn=topic))
    assert failed is True
    assert result["msg"] == (
        "reading the owners failed: account shared is 222222222222, but its users' owner tags would be read in "
        "account %s (set its assume_role_arn); nothing was sent" % own_account)
    assert result["changed"] is False
    assert sent_notifications(aws) == []


def test_the_account_of_an_assumed_role_is_the_account_of_the_results(aws, connection_args, run_module):
    shared = aws.connect(assume_role_arn=SHARED_ROLE).client("iam")
    shared.create_user(UserName="carol", Tags=[{"Key": "rotator:owner", "Value": "shared-team@example.com"}])
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    users = [{"user_name": "carol", "status": "failed", "msg": "CreateAccessKey: AccessDenied"}]
    accounts = [dict(host="shared", assume_role_arn=SHARED_ROLE,
                     access_keys={"account_id": "222222222222", "users": users})]
    failed, result = run_module(rotation_notify, dict(connection_args, accounts=accounts, channels=["sns"],
                                                      sns_topic_arn=topic))
    assert failed is False, result["msg"]
    assert [(d["owner"], d["reason"]) for d in result["digests"]] == [("shared-team@example.com", "sent")]

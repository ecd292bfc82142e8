"""An account whose rotation failed as a whole (the role cannot be assumed, the users cannot be listed) is told to
its owner: the module's result then has no ``users``, only ``failed`` and ``msg``."""

from __future__ import annotations

import json
import urllib.request

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, rotation_notify

MISSING_ROLE = "arn:aws:iam::222222222222:role/not-there"


def sns_sent(aws):
    with open(aws.state_file, encoding="utf-8") as state:
        moto_url = json.load(state)["moto_url"]
    with urllib.request.urlopen(moto_url + "/moto-api/data.json") as answer:
        data = json.load(answer)
    return [(note[3]["owner"]["Value"], note[1]) for topic in data["sns"]["Topic"] for note in topic["sent_notifications"]]


def test_an_account_that_failed_as_a_whole_is_told_to_its_owner(aws, connection_args, run_module):
    aws.control("POST", "aws-rules", {"assume_role_requires_role": True})
    failed, rotation = run_module(iam_access_key_rotate, dict(
        connection_args, path_prefix="/", assume_role_arn=MISSING_ROLE, secret={"type": "none"}, verify=False))
    assert failed is True
    assert "users" not in rotation
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    accounts = [dict(host="shared", account_id="222222222222", owner="platform@example.com", access_keys=rotation)]
    failed, result = run_module(rotation_notify, dict(connection_args, accounts=accounts, channels=["sns"],
                                                      sns_topic_arn=topic))
    assert failed is False, result["msg"]
    item = {"credential": "access key", "user_name": None, "msg": rotation["msg"], "account_id": "222222222222",
            "account": "shared"}
    assert [(d["owner"], d["count"], d["reason"], d["sections"]["failed"]) for d in result["digests"]] == [
        ("platform@example.com", 1, "sent", [item])]
    assert sns_sent(aws) == [("platform@example.com",
                              "Credential rotation digest for platform@example.com\n\nRotation failed (1):\n"
                              "  - every user in 222222222222 (access key): %s\n" % rotation["msg"])]

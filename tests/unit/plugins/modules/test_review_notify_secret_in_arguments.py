"""rotation_notify takes whole rotation results, and a result can hold a secret: ``new_access_key`` and
``new_password`` with return_secret, ``consumer_access_key`` while consumers wait for the new key.  The digest never
copies them, and neither may the module's own output: its ``invocation`` (shown at ``-vvv``) echoes its arguments."""

from __future__ import annotations

import json

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_password_rotate, rotation_notify

ROTATE_NOW = dict(rotate_after_days=0, verify=False, force=True, deactivate_after_days=7, return_secret=True)


def test_no_secret_of_the_results_is_in_the_module_output(aws, connection_args, run_module):
    aws.user("alice", keys=1)
    aws.client("iam").create_login_profile(UserName="alice", Password="Initial-Passw0rd!")
    # no_log on the rotation tasks hides their output, not what they register for the next task.
    failed, keys = run_module(iam_access_key_rotate, dict(connection_args, users=["alice"], secret={"type": "none"},
                                                          _ansible_no_log=True, **ROTATE_NOW))
    assert failed is False
    failed, passwords = run_module(iam_password_rotate, dict(connection_args, users=["alice"], secret={"type": "none"},
                                                             rotate_after_days=0, return_secret=True,
                                                             _ansible_no_log=True))
    assert failed is False
    [key_user], [password_user] = keys["users"], passwords["users"]
    new_secret, new_password = key_user["new_access_key"]["secret_access_key"], password_user["new_password"]
    # A user waiting for its consumers holds the key they are to get (iam_access_key_rotate's consumer_access_key).
    waiting = {"user_name": "bob", "status": "waiting_for_consumers", "consumers_pending": ["web"],
               "consumer_access_key": {"access_key_id": "AKIAWAITING", "secret_access_key": "consumer-secret-value"}}
    keys["users"].append(waiting)
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    accounts = [dict(host="prod", owner="platform@example.com", access_keys=keys, passwords=passwords)]
    failed, result = run_module(rotation_notify, dict(connection_args, accounts=accounts, channels=["sns"],
                                                      sns_topic_arn=topic, owner_tag=""))
    assert failed is False, result["msg"]
    assert [(d["owner"], d["count"]) for d in result["digests"]] == [("platform@example.com", 3)]
    output = json.dumps(result)
    assert [secret for secret in (new_secret, new_password, "consumer-secret-value") if secret in output] == []
    # The rest of the arguments is still shown: the user names are no secret.
    assert result["invocation"]["module_args"]["accounts"][0]["access_keys"]["users"][0]["user_name"] == "alice"

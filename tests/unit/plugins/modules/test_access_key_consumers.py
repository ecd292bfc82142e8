"""Consumers of a user's key through iam_access_key_rotate's main() against the stub.

The old key stays active until every consumer of the user confirmed the new
key; the module hands the new key (read back from the destination) to the
consumers that have not, and records confirmations in the tag
rotator:consumers, bound to the key and without any secret.
"""

from __future__ import annotations

import json

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate

SECRET_NAME = "rotator/123456789012/%s/access-key"
# Every step due in the same run, so only the consumers hold the old key.
ALL_DUE = dict(rotate_after_days=0, deactivate_after_days=0, delete_after_days=0, in_use_guard=False,
               use_credential_report=False, _ansible_no_log=True)
CONSUMERS = [{"name": "web"}, {"name": "batch", "users": ["app-*"]}]


def keys(aws, user):
    return {key["AccessKeyId"]: key["Status"]
            for key in aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]}


def tags(aws, user):
    return {tag["Key"]: tag["Value"] for tag in aws.client("iam").list_user_tags(UserName=user)["Tags"]}


def stored(aws, user):
    document = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=SECRET_NAME % user)["SecretString"])
    return document["AccessKeyId"], document["SecretAccessKey"]


def confirm(run_module, connection_args, user, key_id, name, **extra):
    return run_module(iam_access_key_rotate, dict(connection_args, user_name=user, consumers=CONSUMERS,
                                                  confirm_consumer={"access_key_id": key_id, "name": name},
                                                  _ansible_no_log=True, **extra))


def test_the_old_key_stays_active_until_every_consumer_confirmed(aws, connection_args, run_module):
    [(old, _secret)] = aws.user("app-1", keys=1)
    args = dict(connection_args, user_name="app-1", consumers=CONSUMERS, **ALL_DUE)
    failed, result = run_module(iam_access_key_rotate, args)
    [user] = result["users"]
    new_id, new_secret = stored(aws, "app-1")
    assert failed is False
    # The status names the last step of the run; the consumers it waits for are listed.
    assert user["status"] == "rotated"
    assert user["consumers_pending"] == ["web", "batch"]
    assert user["consumer_access_key"] == {"access_key_id": new_id, "secret_access_key": new_secret}
    assert keys(aws, "app-1") == {old: "Active", new_id: "Active"}
    assert user["old_key_last_used"]["access_key_id"] == old

    assert confirm(run_module, connection_args, "app-1", new_id, "web")[1]["changed"] is True
    assert tags(aws, "app-1")["rotator:consumers"].startswith("v1 key=%s done=web at=" % new_id)
    failed, result = run_module(iam_access_key_rotate, args)
    [user] = result["users"]
    assert (failed, user["status"], user["consumers_pending"]) == (False, "waiting_for_consumers", ["batch"])
    # A later run reads the secret back from the destination for the consumer that did not confirm.
    assert user["consumer_access_key"] == {"access_key_id": new_id, "secret_access_key": new_secret}
    assert keys(aws, "app-1") == {old: "Active", new_id: "Active"}

    confirm(run_module, connection_args, "app-1", new_id, "batch")
    failed, result = run_module(iam_access_key_rotate, args)
    [user] = result["users"]
    assert (failed, user["status"], user["consumers_pending"]) == (False, "deleted", [])
    assert "consumer_access_key" not in user
    assert keys(aws, "app-1") == {new_id: "Active"}
    assert all(new_secret not in value for value in tags(aws, "app-1").values())


def test_a_confirmation_of_a_key_that_is_not_the_new_key_is_refused(aws, connection_args, run_module):
    [(old, _secret)] = aws.user("app-2", keys=1)
    run_module(iam_access_key_rotate, dict(connection_args, user_name="app-2", consumers=CONSUMERS, **ALL_DUE))
    before = tags(aws, "app-2")
    failed, result = confirm(run_module, connection_args, "app-2", old, "web")
    assert failed is True
    assert result["msg"].startswith("consumer web confirmed key %s, which is not the new key of app-2's rotation" % old)
    assert tags(aws, "app-2") == before


def test_consumers_past_their_deadline_fail_the_user_and_keep_the_old_key(aws, connection_args, run_module):
    [(old, _secret)] = aws.user("app-3", keys=1)
    aws.user("other", keys=1)
    args = dict(connection_args, users=["app-3", "other"], consumers=[{"name": "web", "users": ["app-*"]}],
                consumers_deadline_days=0, **ALL_DUE)
    failed, result = run_module(iam_access_key_rotate, args)
    app, other = result["users"]
    assert failed is True
    assert app["status"] == "failed"
    assert app["msg"].startswith("consumers web did not confirm the new key ")
    assert app["consumers_pending"] == ["web"]
    assert keys(aws, "app-3")[old] == "Active"
    assert (other["status"], other["consumers_pending"]) == ("deleted", [])


def test_a_destination_that_keeps_nothing_hands_the_key_only_in_the_run_that_made_it(aws, connection_args,
                                                                                     run_module):
    [(old, _secret)] = aws.user("app-4", keys=1)
    args = dict(connection_args, user_name="app-4", consumers=CONSUMERS, secret={"type": "none"}, **ALL_DUE)
    failed, result = run_module(iam_access_key_rotate, args)
    assert failed is False
    new_id = result["users"][0]["consumer_access_key"]["access_key_id"]
    failed, result = run_module(iam_access_key_rotate, args)
    [user] = result["users"]
    assert failed is True
    assert user["msg"].startswith("consumers web, batch have not confirmed the new key %s, and" % new_id)
    assert "consumer_access_key" not in user
    assert keys(aws, "app-4") == {old: "Active", new_id: "Active"}


def test_bad_consumer_definitions_fail_before_any_aws_call(aws, connection_args, run_module):
    aws.user("app-5", keys=1)
    aws.control("POST", "calls/reset", {})
    failed, result = run_module(iam_access_key_rotate, dict(
        connection_args, user_name="app-5", consumers=[{"name": "web"}, {"name": "web"}, {"name": "a b"}], **ALL_DUE))
    assert failed is True
    assert result["msg"] == ("consumers[2]: name web is used more than once; consumers[3]: name 'a b' must be 1-48 of "
                             "letters, digits and _.:+@- (it is recorded in the user tag rotator:consumers); nothing "
                             "was changed")
    assert aws.calls() == []


def test_consumers_need_no_log_on_the_task(aws, connection_args, run_module):
    aws.user("app-6", keys=1)
    args = dict(connection_args, user_name="app-6", consumers=CONSUMERS, **ALL_DUE)
    args.pop("_ansible_no_log")
    failed, result = run_module(iam_access_key_rotate, args)
    assert failed is True
    assert result["msg"] == ("consumers requires no_log: true on the task: the result hands the new key to them; "
                             "nothing was changed")


def test_check_mode_names_the_pending_consumers_and_returns_no_secret(aws, connection_args, run_module):
    [(old, _secret)] = aws.user("app-7", keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="app-7", consumers=CONSUMERS,
                                                            _ansible_check_mode=True, **ALL_DUE))
    [user] = result["users"]
    assert failed is False
    assert (user["status"], user["consumers_pending"]) == ("rotated", ["web", "batch"])
    assert [action["action"] for action in user["actions"]] == ["create", "store", "verify"]
    assert "consumer_access_key" not in user
    assert keys(aws, "app-7") == {old: "Active"}


def test_an_incident_run_deactivates_the_leaked_key_and_still_hands_the_new_key_to_the_consumers(
        aws, connection_args, run_module):
    [(old, _secret)] = aws.user("app-8", keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="app-8", consumers=CONSUMERS,
                                                            force=True, **dict(ALL_DUE, rotate_after_days=90,
                                                                               delete_after_days=7)))
    [user] = result["users"]
    new_id, new_secret = stored(aws, "app-8")
    assert failed is False
    assert keys(aws, "app-8") == {old: "Inactive", new_id: "Active"}
    assert user["consumers_pending"] == ["web", "batch"]
    assert user["consumer_access_key"] == {"access_key_id": new_id, "secret_access_key": new_secret}

"""An incident run that replaces, deactivates and deletes the leaked key at once still hands the key that replaced it
to the consumers (docs/consumers.md: "the consumers still receive the key that replaced it, in the same run"), and
a rerun (the first one killed between consumers) hands it to the ones that did not confirm."""

from __future__ import annotations

import json

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate

SECRET_NAME = "rotator/123456789012/%s/access-key"
INCIDENT = dict(rotate_after_days=90, deactivate_after_days=0, delete_after_days=0, force=True, in_use_guard=False,
                use_credential_report=False, _ansible_no_log=True)
SCHEDULED = dict(INCIDENT, force=False)
CONSUMERS = [{"name": "web"}, {"name": "batch"}]


def keys(aws, user):
    return {key["AccessKeyId"]: key["Status"]
            for key in aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]}


def stored(aws, user):
    document = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=SECRET_NAME % user)["SecretString"])
    return document["AccessKeyId"], document["SecretAccessKey"]


def test_an_incident_run_that_deletes_the_leaked_key_hands_the_new_key_to_the_consumers(
        aws, connection_args, run_module):
    aws.user("ci-1", keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="ci-1", consumers=CONSUMERS,
                                                            **INCIDENT))
    [user] = result["users"]
    new_id, new_secret = stored(aws, "ci-1")
    assert failed is False
    assert keys(aws, "ci-1") == {new_id: "Active"}
    assert user["consumers_pending"] == ["web", "batch"]
    assert user["consumer_access_key"] == {"access_key_id": new_id, "secret_access_key": new_secret}

    # Killed after "web" confirmed: the next scheduled run hands the key to "batch" only.
    run_module(iam_access_key_rotate, dict(connection_args, user_name="ci-1", consumers=CONSUMERS,
                                           confirm_consumer={"access_key_id": new_id, "name": "web"},
                                           _ansible_no_log=True))
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="ci-1", consumers=CONSUMERS,
                                                            **SCHEDULED))
    [user] = result["users"]
    assert (failed, user["changed"], user["consumers_pending"]) == (False, False, ["batch"])
    assert user["consumer_access_key"] == {"access_key_id": new_id, "secret_access_key": new_secret}


def test_consumers_added_after_a_finished_rotation_to_a_destination_that_keeps_nothing_fail_nobody(
        aws, connection_args, run_module):
    aws.user("ci-2", keys=1)
    nothing_kept = dict(SCHEDULED, rotate_after_days=0, secret={"type": "none"}, verify=False)
    run_module(iam_access_key_rotate, dict(connection_args, user_name="ci-2", **nothing_kept))
    [new_id] = keys(aws, "ci-2")
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="ci-2", consumers=CONSUMERS,
                                                            **dict(nothing_kept, rotate_after_days=90)))
    [user] = result["users"]
    assert (failed, user["status"], user["consumers_pending"]) == (False, "compliant", [])
    assert "consumer_access_key" not in user
    assert keys(aws, "ci-2") == {new_id: "Active"}

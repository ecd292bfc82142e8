"""IAM user names are unique regardless of case ("CI-Deployer" and "ci-deployer" are one user, and IAM takes either
spelling), so a consumer's users match regardless of case: a selection by path, tag or group gives the name as IAM
spells it, and a consumer written with another case must still hold the user's old key."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.consumers import Consumers, Confirmations


def test_a_consumer_serves_its_user_whatever_the_case_of_either_spelling():
    consumers = Consumers.from_params([{"name": "web", "users": ["ci-deployer"]}, {"name": "batch", "users": ["CI-*"]},
                                       {"name": "other", "users": ["billing"]}])
    assert consumers.names_for("CI-Deployer") == ("web", "batch")
    assert consumers.names_for("ci-deployer") == ("web", "batch")
    assert consumers.pending("Ci-Deployer", Confirmations(), "AKIANEWNEWNEWNEW0002") == ("web", "batch")

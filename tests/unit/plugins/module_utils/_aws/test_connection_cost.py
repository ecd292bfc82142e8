"""One connection per account and module run costs one AssumeRole and no identity call, and shares botocore's data.

The account of an assumed role is in the AssumeRole answer (``AssumedRoleUser.Arn``,
arn:aws:sts::<account>:assumed-role/<role>/<session>, STS API reference, AssumeRole
response elements): asking GetCallerIdentity again would only repeat it.  Without a role
the caller's identity is asked once.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws import connection as aws_connection

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})


def test_an_assumed_role_knows_its_account_without_asking_who_it_is(aws):
    role = aws.client("iam").create_role(RoleName="rotator", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    connection = aws.connect(assume_role_arn=role)
    assert connection.account_id == "123456789012"
    assert connection.identity()["Arn"] == "arn:aws:sts::123456789012:assumed-role/rotator/rotator-aws-iam"
    assert len(aws.calls("AssumeRole")) == 1
    assert aws.calls("GetCallerIdentity") == []


def test_without_a_role_the_identity_is_asked_once(aws):
    connection = aws.connect()
    assert (connection.account_id, connection.account_id) == ("123456789012", "123456789012")
    assert len(aws.calls("GetCallerIdentity")) == 1


def test_connections_share_one_loader_of_botocore_data(aws):
    first, second = aws.connect(), aws.connect()
    loaders = {id(conn.session._session.get_component("data_loader")) for conn in (first, second)}
    assert loaders == {id(aws_connection.DATA_LOADER)}


def test_sessions_sharing_the_loader_do_not_lengthen_its_search_paths(aws):
    aws.connect()
    before = list(aws_connection.DATA_LOADER.search_paths)
    for _attempt in range(5):
        connection = aws.connect()
        connection.with_credentials("AKIAEXAMPLEEXAMPLE01", "not-a-secret-of-anyone")
    assert aws_connection.DATA_LOADER.search_paths == before
    assert len(before) == len(set(before))


def test_a_profile_that_does_not_exist_fails_the_connection_at_once(aws, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    with pytest.raises(aws_connection.AWSConnectionError, match=r"^The config profile \(nowhere\) could not be found$"):
        aws_connection.connect(dict(profile="nowhere", region="us-east-1", endpoint_url=aws.endpoint_url,
                                    assume_role_arn="arn:aws:iam::123456789012:role/rotator"))
    assert aws.calls("AssumeRole") == []

"""The shared botocore data loader (DATA_LOADER) against a session's own loader: AWS_DATA_PATH is honoured."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import connect


def test_aws_data_path_is_searched_as_a_botocore_session_searches_it(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    connection = connect(dict(access_key="testing", secret_key="testing", region="us-east-1"))
    assert str(tmp_path) in connection.session._session.get_component("data_loader").search_paths

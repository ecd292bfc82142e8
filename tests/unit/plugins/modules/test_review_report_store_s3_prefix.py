"""rotation_report_store: the S3 key prefix is a relative name as the run and the files are (no '..', no empty part)."""

from __future__ import annotations

import pytest

from ansible_collections.rotator.aws_iam.plugins.modules import rotation_report_store


@pytest.mark.parametrize("prefix", ["../other-team", "rotation/../../x", "rotation//42", "rotation/./x"])
def test_a_prefix_with_dot_dot_or_empty_parts_fails_with_nothing_written(run_module, aws, connection_args, prefix):
    aws.client("s3").create_bucket(Bucket="iam-reports")
    failed, result = run_module(rotation_report_store, dict(connection_args, s3_bucket="iam-reports", s3_prefix=prefix,
                                                            files={"report.json": "{}"}))
    listed = aws.client("s3").list_objects_v2(Bucket="iam-reports")["KeyCount"]
    assert (failed, result["changed"], result["msg"], listed) == (
        True, False, "s3_prefix: %r is not a relative name inside the destination (parts separated by /, no '..')"
        % prefix, 0)


def test_a_prefix_with_slashes_around_it_is_the_prefix(run_module, aws, connection_args):
    aws.client("s3").create_bucket(Bucket="iam-reports")
    failed, result = run_module(rotation_report_store, dict(connection_args, s3_bucket="iam-reports",
                                                            s3_prefix="/rotation/", files={"report.json": "{}"}))
    assert (failed, result["written"]) == (False, ["s3://iam-reports/rotation/report.json"])

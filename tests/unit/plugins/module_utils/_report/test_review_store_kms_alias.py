"""The S3 store with SSE-KMS and a key named by its alias: the key S3 used is compared with the alias's key."""

from __future__ import annotations

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._report.store import ReportStoreError, S3Store

BUCKET = "iam-reports"


@pytest.fixture
def keys(aws):
    """(ARN of the key alias/iam-reports names, ARN of another key)."""
    kms = aws.client("kms")
    reports = kms.create_key()["KeyMetadata"]["Arn"]
    other = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/iam-reports", TargetKeyId=reports)
    aws.client("s3").create_bucket(Bucket=BUCKET)
    return reports, other


def test_an_object_under_another_key_than_the_alias_names_fails_the_write(aws, keys):
    connection = aws.connect()
    s3 = connection.client("s3")
    # A bucket default or a proxy that put it under another key than the alias's.
    s3.meta.events.register("before-parameter-build.s3.PutObject",
                            lambda params, **_kwargs: params.update(SSEKMSKeyId=keys[1]))
    store = S3Store(s3, BUCKET, "", "aws:kms", "alias/iam-reports", kms=connection.client("kms"))
    with pytest.raises(ReportStoreError) as raised:
        store.write("report.json", "{}")
    assert str(raised.value) == ("s3://iam-reports/report.json is encrypted with KMS key %s, not alias/iam-reports "
                                 "(%s)" % (keys[1], keys[0]))


def test_an_object_under_the_alias_key_is_written(aws, keys):
    connection = aws.connect()
    s3 = connection.client("s3")
    # What AWS answers: HeadObject names the key's ARN, never the alias.
    s3.meta.events.register("before-parameter-build.s3.PutObject",
                            lambda params, **_kwargs: params.update(SSEKMSKeyId=keys[0]))
    store = S3Store(s3, BUCKET, "", "aws:kms", "alias/iam-reports", kms=connection.client("kms"))
    assert store.write("report.json", "{}") is True

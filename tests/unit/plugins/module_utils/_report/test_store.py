"""The S3 store against the stub: objects encrypted by S3 and read back, slices found under a run."""

from __future__ import annotations

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._report.store import (
    ReportStoreError,
    S3Store,
    directory_mode,
    joined,
    name_problem,
)

BUCKET = "iam-reports"


@pytest.fixture
def s3(aws):
    """The S3 client of an AWSConnection as the module builds it, and a bucket."""
    client = aws.connect().client("s3")
    aws.client("s3").create_bucket(Bucket=BUCKET)
    return client


def test_an_object_is_written_with_sse_s3_and_read_back(aws, s3):
    store = S3Store(s3, BUCKET, "rotation/", "AES256")
    assert store.write("4711/report.json", '{"accounts": []}\n') is True
    calls = [call["action"] for call in aws.calls()]
    head = aws.client("s3").head_object(Bucket=BUCKET, Key="rotation/4711/report.json")
    body = aws.client("s3").get_object(Bucket=BUCKET, Key="rotation/4711/report.json")["Body"].read()
    assert (head["ServerSideEncryption"], head["ContentType"], body) == (
        "AES256", "application/json", b'{"accounts": []}\n')
    assert calls == ["PUT /iam-reports", "PUT /iam-reports/rotation/4711/report.json",
                     "HEAD /iam-reports/rotation/4711/report.json"]


def test_an_object_is_written_with_sse_kms_and_its_key(aws, s3):
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    S3Store(s3, BUCKET, "", "aws:kms", key_arn).write("report.html", "<html></html>")
    head = aws.client("s3").head_object(Bucket=BUCKET, Key="report.html")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"], head["ContentType"]) == (
        "aws:kms", key_arn, "text/html; charset=utf-8")


def test_an_object_s3_did_not_encrypt_fails_the_write(aws, s3):
    # A proxy or an SDK hook that drops the header: S3 (here moto, with no default encryption) stores it plain.
    s3.meta.events.register("before-parameter-build.s3.PutObject",
                            lambda params, **_kwargs: params.pop("ServerSideEncryption", None))
    with pytest.raises(ReportStoreError) as raised:
        S3Store(s3, BUCKET, "rotation", "AES256").write("report.json", "{}")
    assert str(raised.value) == (
        "s3://iam-reports/rotation/report.json is stored with server-side encryption none, not AES256")


def test_an_object_under_another_kms_key_fails_the_write(aws, s3):
    asked = "arn:aws:kms:us-east-1:123456789012:key/aaaa"
    s3.meta.events.register("before-parameter-build.s3.PutObject",
                            lambda params, **_kwargs: params.update(SSEKMSKeyId="arn:aws:kms:us-east-1:123456789012:key/bbbb"))
    with pytest.raises(ReportStoreError) as raised:
        S3Store(s3, BUCKET, "", "aws:kms", asked).write("report.json", "{}")
    assert str(raised.value) == ("s3://iam-reports/report.json is encrypted with KMS key "
                                 "arn:aws:kms:us-east-1:123456789012:key/bbbb, not %s" % asked)


def test_a_missing_bucket_is_a_problem_before_anything_is_written(aws, s3):
    problem = S3Store(s3, "no-such-bucket", "", "AES256").problems()
    assert (problem.startswith("S3 bucket no-such-bucket cannot be used for the report: "),
            [call["action"] for call in aws.calls() if call["action"].startswith("PUT /no")]) == (True, [])


def test_a_failed_put_names_the_object_and_the_error(aws, s3):
    with pytest.raises(ReportStoreError) as raised:
        S3Store(s3, "no-such-bucket", "p", "AES256").write("report.json", "{}")
    assert str(raised.value).startswith("PutObject s3://no-such-bucket/p/report.json failed: NoSuchBucket: ")


def test_the_slices_of_a_run_are_read_and_nothing_else(aws, s3):
    plain = aws.client("s3")
    for key, body in (("r/41/slices/1/report.json", "old"), ("r/42/slices/7/report.json", "seven"),
                      ("r/42/slices/8/report.json", "eight"), ("r/42/slices/8/users.csv", "no"),
                      ("r/42/slices/report.json", "not a slice"), ("r/42/report.json", "merged"),
                      ("r/42/slices/9/deeper/report.json", "no")):
        plain.put_object(Bucket=BUCKET, Key=key, Body=body.encode(), ServerSideEncryption="AES256")
    assert S3Store(s3, BUCKET, "r", "AES256").read_slices("42") == {"7": "seven", "8": "eight"}


def test_a_run_without_slices_reads_none(s3):
    assert S3Store(s3, BUCKET, "r", "AES256").read_slices("43") == {}


def test_names_inside_the_destination_only():
    assert [name_problem(name) for name in ("report.json", "42/slices/7/report.json", "../x", "/etc/x", "a//b",
                                            "a/./b", "")] == [
        None, None,
        "'../x' is not a relative name inside the destination (parts separated by /, no '..')",
        "'/etc/x' is not a relative name inside the destination (parts separated by /, no '..')",
        "'a//b' is not a relative name inside the destination (parts separated by /, no '..')",
        "'a/./b' is not a relative name inside the destination (parts separated by /, no '..')",
        "'' is not a relative name inside the destination (parts separated by /, no '..')"]


def test_keys_joined_without_empty_parts_and_directory_modes():
    assert (joined("", "report.json"), joined("p/", "42", "slices"), directory_mode(0o640), directory_mode(0o600)) == (
        "report.json", "p/42/slices", 0o750, 0o700)

"""The S3 store with the least privilege docs/awx.md gives the job: s3:ListBucket only with s3:prefix rotation/*.

S3 authorises HeadBucket with s3:ListBucket and no s3:prefix in the request, so a condition on s3:prefix denies
it (AWS documentation, "Actions, resources, and condition keys for Amazon S3": s3:prefix applies to
ListBucket requests that name a prefix).  The stub enforces no bucket policy; the test models this one on the
real client, answering what AWS would for requests outside it.
"""

from __future__ import annotations

import pytest
from botocore.awsrequest import AWSResponse

from ansible_collections.rotator.aws_iam.plugins.module_utils._report.store import S3Store

BUCKET = "example-iam-reports"


def documented_policy(client):
    """Deny, as AWS would under docs/awx.md's policy, every bucket-level call without a prefix under rotation/."""
    def answer(params, model, **_kwargs):
        if model.name in ("HeadBucket", "ListObjectsV2", "ListObjects") and not str(
                params.get("query_string", {}).get("prefix", "")).startswith("rotation/"):
            status = 403
            response = AWSResponse("https://%s.s3.amazonaws.com/" % BUCKET, status, {}, None)
            return response, {"Error": {"Code": "403" if model.name == "HeadBucket" else "AccessDenied",
                                        "Message": "Forbidden"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return None

    client.meta.events.register("before-call.s3", answer)


@pytest.fixture
def s3(aws):
    client = aws.connect().client("s3")
    aws.client("s3").create_bucket(Bucket=BUCKET)
    documented_policy(client)
    return client


def test_the_documented_policy_lets_the_bucket_be_checked_before_any_account_is_read(s3):
    assert S3Store(s3, BUCKET, "rotation", "AES256").problems() is None


def test_a_prefix_outside_the_policy_is_still_a_problem(s3):
    problem = S3Store(s3, BUCKET, "elsewhere", "AES256").problems()
    assert problem.startswith("S3 bucket example-iam-reports cannot be used for the report: AccessDenied")


def test_the_documented_policy_lets_the_merge_list_the_slices(s3, aws):
    aws.client("s3").put_object(Bucket=BUCKET, Key="rotation/42/slices/7/report.json", Body=b"{}",
                                ServerSideEncryption="AES256")
    assert S3Store(s3, BUCKET, "rotation", "AES256").read_slices("42") == {"7": "{}"}

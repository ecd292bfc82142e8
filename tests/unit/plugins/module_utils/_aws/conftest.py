"""A real IAM client behind botocore's Stubber, for the gateway's tests: the IAM model checks every request."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber


@pytest.fixture
def iam():
    """(client, stubber); every answer queued on the stubber must have been asked for by the end of the test."""
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()

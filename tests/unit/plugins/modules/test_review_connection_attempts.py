"""Review: the check of a new key tries each call twice, whatever ``aws_config``'s retries say (as documented)."""

from __future__ import annotations

import botocore.exceptions
import pytest


def test_a_connection_with_a_new_key_tries_twice_whatever_aws_config_retries_say(aws):
    connection = aws.connect(aws_config={"retries": {"total_max_attempts": 4}})
    sts = connection.with_credentials("AKIAIOSFODNN7EXAMPLE", "example").client("sts")
    aws.faults(throttle_rate=1.0, actions=["GetCallerIdentity"])
    with pytest.raises(botocore.exceptions.ClientError):
        sts.get_caller_identity()
    aws.faults()
    assert len(aws.calls("GetCallerIdentity")) == 2

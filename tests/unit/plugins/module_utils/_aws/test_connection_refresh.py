"""An assumed role's credentials are renewed before they expire, with the same request (issue 11, case 14).

moto never expires credentials, so the proof is the renewal itself: a second
``AssumeRole`` (same role, external id, session name and duration, signed by
the base credentials) and the later call signed with the renewed key rather
than the first, expired one.  The clock of this process (botocore decides when
to renew) and the stub's clock (STS dates the new credentials) move together.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from botocore.exceptions import BotoCoreError

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import AWSConnectionError, refresh_windows

DURATION = 900
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})
SECONDS_PER_DAY = 86400.0
BASE_KEY = "AKIABASECREDENTIALS1"  # the stub logs signers that look like access key ids


@pytest.fixture
def role(aws):
    return aws.client("iam").create_role(RoleName="rotator", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]


def connect_as_role(aws, role_arn):
    return aws.connect(access_key=BASE_KEY, assume_role_arn=role_arn, assume_role_external_id="ext-7",
                       assume_role_session_name="rotation-run", assume_role_duration_seconds=DURATION)


def requests_sent(client, action):
    """The parameters of every ``action`` call the client makes from now on, as botocore validated them."""
    sent = []
    client.meta.events.register("provide-client-params.sts.%s" % action,
                                lambda params, **_: sent.append(dict(params)))
    return sent


def later(aws, seconds):
    """Move this process's clock and the stub's by ``seconds``; a context manager for this process."""
    aws.clock(seconds / SECONDS_PER_DAY)
    return time_machine.travel(datetime.now(timezone.utc) + timedelta(seconds=seconds), tick=True)


def test_credentials_past_expiry_are_renewed_with_the_same_request(aws, role):
    connection = connect_as_role(aws, role)
    iam = connection.client("iam")  # made before expiry: clients follow the renewal too
    iam.list_users()
    first_signer = aws.calls("ListUsers")[-1]["signer"]
    renewals = requests_sent(connection.base.client("sts"), "AssumeRole")

    with later(aws, DURATION + 60):
        iam.list_users()

    assert renewals == [{"RoleArn": role, "RoleSessionName": "rotation-run", "DurationSeconds": DURATION,
                         "ExternalId": "ext-7"}]
    assume_calls = aws.calls("AssumeRole")
    assert [(call["status"], call["signer"]) for call in assume_calls] == [(200, BASE_KEY), (200, BASE_KEY)]
    renewed_signer = aws.calls("ListUsers")[-1]["signer"]
    assert aws.calls("ListUsers")[-1]["status"] == 200
    assert renewed_signer != first_signer
    assert renewed_signer.startswith("ASIA")


def test_credentials_are_renewed_only_once_renewal_is_due(aws, role):
    connection = connect_as_role(aws, role)
    sts = connection.client("sts")
    with later(aws, 9 * 60):  # 6 of 15 minutes left: outside the windows of 15-minute credentials (5 and 2.5)
        sts.get_caller_identity()
        sts.get_caller_identity()
    assert len(aws.calls("AssumeRole")) == 1
    with later(aws, DURATION + 60):
        arn = sts.get_caller_identity()["Arn"]
        sts.get_caller_identity()
    assert arn == "arn:aws:sts::%s:assumed-role/rotator/rotation-run" % aws.account
    assert len(aws.calls("AssumeRole")) == 2


@pytest.mark.parametrize("duration, windows", [
    (900, (300, 150)), (1800, (600, 300)), (3600, (900, 600)), (43200, (900, 600))])
def test_refresh_windows_leave_short_credentials_most_of_their_life(duration, windows):
    assert refresh_windows(duration) == windows


def test_a_refused_first_assume_role_fails_the_connection(aws, role):
    aws.faults(fail_after=0, mode="error", actions=["AssumeRole"])
    with pytest.raises(AWSConnectionError) as failure:
        connect_as_role(aws, role)
    assert str(failure.value).startswith("cannot assume role %s: " % role)


def test_a_refused_renewal_fails_the_call_naming_the_role(aws, role):
    connection = connect_as_role(aws, role)
    iam = connection.client("iam")
    aws.faults(fail_after=0, mode="error", actions=["AssumeRole"])
    with later(aws, DURATION + 60):
        with pytest.raises(BotoCoreError) as failure:
            iam.list_users()
    assert str(failure.value).startswith("cannot renew the credentials of role %s: " % role)
    assert aws.calls("ListUsers") == []

"""Seed the demo accounts on the local AWS stub: users whose keys or console password are 120 days old.

Also the owners' side: the SNS topic the owner digests go to, and alice's owner in her user tag.
"""

from __future__ import annotations

import sys
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
import stubctl  # noqa: E402  pylint: disable=wrong-import-position


def demo_session():
    """The demo's own credentials, those demo/run.sh gives the playbook (account 123456789012)."""
    return boto3.session.Session(aws_access_key_id="demo", aws_secret_access_key="demo-secret",
                                 region_name="us-east-1")


def iam_client(endpoint, role_arn=None):
    session = demo_session()
    if role_arn:
        creds = session.client("sts", endpoint_url=endpoint).assume_role(
            RoleArn=role_arn, RoleSessionName="demo-seed")["Credentials"]
        session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                        aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"], region_name="us-east-1")
    return session.client("iam", endpoint_url=endpoint)


def main(state_file):
    endpoint = stubctl.read_state(state_file)["endpoint_url"]
    prod = iam_client(endpoint)
    dev = iam_client(endpoint, "arn:aws:iam::222222222222:role/rotator")
    stubctl.control(state_file, "POST", "/_stub/clock", {"offset_days": -120})
    for client, user in ((prod, "alice"), (prod, "bob"), (dev, "dave")):
        client.create_user(UserName=user)
        client.create_access_key(UserName=user)
    prod.create_user(UserName="erin")
    prod.create_login_profile(UserName="erin", Password="Demo-initial-password-1")
    stubctl.control(state_file, "POST", "/_stub/clock", {"offset_days": 0})
    prod.create_user(UserName="carol")
    prod.create_access_key(UserName="carol")
    prod.tag_user(UserName="alice", Tags=[{"Key": "rotator:owner", "Value": "alice@example.com"}])
    demo_session().client("sns", endpoint_url=endpoint).create_topic(Name="iam-owners")
    print("seeded: alice, bob (123456789012) and dave (222222222222) with 120-day-old keys; carol with a new key; "
          "erin with a 120-day-old console password; alice's owner alice@example.com; SNS topic iam-owners")


if __name__ == "__main__":
    main(sys.argv[1])

"""Seed the demo accounts on the local AWS stub: users whose keys or console password are 120 days old."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
import stubctl  # noqa: E402  pylint: disable=wrong-import-position


def iam_client(endpoint, role_arn=None):
    session = boto3.session.Session(aws_access_key_id="demo", aws_secret_access_key="demo-secret",
                                    region_name="us-east-1")
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
    print("seeded: alice, bob (123456789012) and dave (222222222222) with 120-day-old keys; carol with a new key; "
          "erin with a 120-day-old console password")


if __name__ == "__main__":
    main(sys.argv[1])

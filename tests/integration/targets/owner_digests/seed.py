"""Seed two accounts of the AWS stub and an SNS topic for the owner_digests target; prints no secret.

Usage: python seed.py INTEGRATION_CONFIG

acct-main (123456789012): alice (owner tag alice@example.com) and bob, who has two active keys (his rotation
fails; his owner is the host's rotator_owner). acct-dev (222222222222, assumed role): carol (no tag; the account
tag names dev-team@example.com) and dave (owner tag alice@example.com).
"""

from __future__ import annotations

import json
import sys

import boto3
import yaml

DEV = "arn:aws:iam::222222222222:role/rotator"
# (account role, user, tags, keys)
USERS = [
    (None, "alice", {"rotator:owner": "alice@example.com"}, 1),
    (None, "bob", {}, 2),
    (DEV, "carol", {}, 1),
    (DEV, "dave", {"rotator:owner": "alice@example.com"}, 1),
]


def stub(config, path, body=None):
    sys.path.insert(0, config["stubctl"].rsplit("/", 1)[0])
    import stubctl  # pylint: disable=import-outside-toplevel,import-error

    return stubctl.control(config["stub_state_file"], "POST", path, body)


def session(config, role_arn):
    plain = boto3.session.Session(aws_access_key_id=config["aws_access_key"],
                                  aws_secret_access_key=config["aws_secret_key"], region_name=config["aws_region"])
    if not role_arn:
        return plain
    creds = plain.client("sts", endpoint_url=config["aws_endpoint_url"]).assume_role(
        RoleArn=role_arn, RoleSessionName="seed")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"], region_name=config["aws_region"])


def main(config_path):
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    stub(config, "/_stub/reset", {})
    seeded = {}
    for role, user, tags, keys in USERS:
        iam = session(config, role).client("iam", endpoint_url=config["aws_endpoint_url"])
        iam.create_user(UserName=user, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        seeded[user] = [iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"] for _number in range(keys)]
    sns = session(config, None).client("sns", endpoint_url=config["aws_endpoint_url"])
    seeded["topic"] = sns.create_topic(Name="owners")["TopicArn"]
    print(json.dumps(seeded, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])

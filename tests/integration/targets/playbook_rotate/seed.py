"""Seed three accounts of the AWS stub for the playbook_rotate target; prints no secret.

Usage: python seed.py INTEGRATION_CONFIG

Keys and console passwords made while the stub's clock is 120 days back are
due for rotation; the others are not.
"""

from __future__ import annotations

import json
import secrets
import sys

import boto3
import yaml

MAIN = None
DEV = "arn:aws:iam::222222222222:role/rotator"
PROD = "arn:aws:iam::333333333333:role/rotator"

# An exemption tag's value names its last day (docs/tags.md); this one lasts beyond any test run.
EXEMPT = "until=2099-12-31 reason=audited"
# (account role, user, path, tags, old keys, new keys, old console password, groups)
USERS = [
    (MAIN, "app-old", "/", {}, 1, 0, False, []),
    (MAIN, "app-new", "/", {}, 0, 1, False, []),
    (MAIN, "legacy-exempt", "/", {"rotator:exempt": EXEMPT}, 1, 0, False, []),
    (MAIN, "ops-alice", "/", {}, 0, 0, True, []),
    (DEV, "svc-ci", "/service/", {}, 1, 0, False, []),
    (DEV, "svc-backup", "/service/", {}, 1, 0, False, []),
    (DEV, "svc-excluded", "/service/", {}, 1, 0, False, []),
    (DEV, "dev-bob", "/human/", {}, 1, 0, False, []),
    (DEV, "svc-twokeys", "/legacy/", {}, 0, 2, False, []),
    (DEV, "dev-carol", "/human/", {"console": "yes"}, 0, 0, True, []),
    (DEV, "dev-nologin", "/human/", {"console": "yes"}, 0, 0, False, []),
    (PROD, "deployer", "/", {}, 1, 0, False, ["rotated"]),
    (PROD, "reporter", "/", {}, 0, 1, False, ["rotated"]),
    (PROD, "glass", "/", {"break-glass": EXEMPT}, 1, 0, False, ["rotated"]),
    (PROD, "outsider", "/", {}, 1, 0, False, []),
]


def stub(config, path, body=None):
    sys.path.insert(0, config["stubctl"].rsplit("/", 1)[0])
    import stubctl  # pylint: disable=import-outside-toplevel,import-error

    return stubctl.control(config["stub_state_file"], "POST", path, body)


def iam_client(config, role_arn):
    session = boto3.session.Session(aws_access_key_id=config["aws_access_key"],
                                    aws_secret_access_key=config["aws_secret_key"], region_name=config["aws_region"])
    if role_arn:
        creds = session.client("sts", endpoint_url=config["aws_endpoint_url"]).assume_role(
            RoleArn=role_arn, RoleSessionName="seed")["Credentials"]
        session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                        aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"], region_name=config["aws_region"])
    return session.client("iam", endpoint_url=config["aws_endpoint_url"])


def main(config_path):
    with open(config_path) as handle:
        config = yaml.safe_load(handle)
    stub(config, "/_stub/reset", {})
    clients = {role: iam_client(config, role) for role in (MAIN, DEV, PROD)}
    clients[PROD].create_group(GroupName="rotated")
    seeded = {}
    for offset, old in ((-120, True), (0, False)):
        stub(config, "/_stub/clock", {"offset_days": offset})
        for role, user, path, tags, old_keys, new_keys, old_password, groups in USERS:
            iam = clients[role]
            if old:
                iam.create_user(UserName=user, Path=path, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
                for group in groups:
                    iam.add_user_to_group(GroupName=group, UserName=user)
                if old_password:
                    iam.create_login_profile(UserName=user, Password="Aa1!" + secrets.token_urlsafe(12))
            for _number in range(old_keys if old else new_keys):
                key = iam.create_access_key(UserName=user)["AccessKey"]
                seeded.setdefault(user, []).append(key["AccessKeyId"])
    stub(config, "/_stub/clock", {"offset_days": 0})
    print(json.dumps(seeded, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])

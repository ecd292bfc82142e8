"""The floor to compare with: the API calls of one rotation step, serially, from one process, in plain boto3.

    python benchmarks/boto3_serial.py --endpoint URL --accounts 210000000000,... --users bench-raw- --count 100
        [--mode full|noop]

``full``: per user, what the module's live path calls for a due key (list the
keys and their last use, read the state tag, announce the create, create the
key, store it in Secrets Manager, read it back, check it with STS, record it).
``noop``: the live look alone (list, last use, state tag), as a run without
the credential report makes it for every user.  Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import boto3
import botocore.config
import botocore.exceptions

CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 10})


def rotate(iam, secrets, endpoint, account, user, full):
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    for key in keys:
        iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    iam.list_user_tags(UserName=user)
    if not full:
        return
    old = keys[0]["AccessKeyId"]
    iam.tag_user(UserName=user, Tags=[{"Key": "rotator:access-key-rotation", "Value": "creating=" + old}])
    new = iam.create_access_key(UserName=user)["AccessKey"]
    name = "rotator/%s/%s/access-key" % (account, user)
    value = json.dumps({"UserName": user, "AccessKeyId": new["AccessKeyId"], "SecretAccessKey": new["SecretAccessKey"]})
    try:
        secrets.put_secret_value(SecretId=name, SecretString=value)
    except botocore.exceptions.ClientError:
        secrets.create_secret(Name=name, SecretString=value)
    assert json.loads(secrets.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"])["AccessKeyId"] \
        == new["AccessKeyId"]
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint, config=CONFIG,
                       aws_access_key_id=new["AccessKeyId"], aws_secret_access_key=new["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"].endswith("/" + user)
    iam.tag_user(UserName=user, Tags=[{"Key": "rotator:access-key-rotation",
                                       "Value": "new=%s old=%s verified=true" % (new["AccessKeyId"], old)}])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--accounts", required=True)
    parser.add_argument("--users", required=True, help="user name prefix")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--mode", choices=("full", "noop"), default="full")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    base = boto3.session.Session(region_name="us-east-1")
    sts = base.client("sts", endpoint_url=args.endpoint, config=CONFIG)
    for account in args.accounts.split(","):
        creds = sts.assume_role(RoleArn="arn:aws:iam::%s:role/rotator" % account, RoleSessionName="bench")["Credentials"]
        session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"], region_name="us-east-1")
        iam = session.client("iam", endpoint_url=args.endpoint, config=CONFIG)
        secrets = session.client("secretsmanager", endpoint_url=args.endpoint, config=CONFIG)
        for index in range(args.count):
            rotate(iam, secrets, args.endpoint, account, "%s%04d" % (args.users, index), args.mode == "full")
    print(json.dumps({"seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Test-side AWS helper for the integration targets: seeds users and keys, checks stored secrets.

It never prints a secret: commands that need one read it from a file or a
destination and print only key ids, ARNs and yes/no answers as JSON.
"""

from __future__ import annotations

import argparse
import configparser
import csv
import io
import json
import os
import subprocess
import sys

import boto3
import botocore.config
import botocore.exceptions

CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3})


def session(args):
    base = boto3.session.Session(aws_access_key_id=args.access_key, aws_secret_access_key=args.secret_key,
                                 region_name=args.region)
    if not args.role_arn:
        return base
    creds = base.client("sts", endpoint_url=args.endpoint, config=CONFIG).assume_role(
        RoleArn=args.role_arn, RoleSessionName="awsctl")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"], region_name=args.region)


def client(args, service, **kwargs):
    return session(args).client(service, endpoint_url=args.endpoint, config=CONFIG, **kwargs)


def stubctl(args, *words):
    out = subprocess.run([sys.executable, args.stubctl, "--state-file", args.stub_state_file, *words],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def key_with_secret(args, access_key_id, secret):
    return boto3.session.Session(aws_access_key_id=access_key_id, aws_secret_access_key=secret,
                                 region_name=args.region).client("sts", endpoint_url=args.endpoint, config=CONFIG)


def read_destination(args):
    """(access_key_id, secret) from a destination, as the consumer of the secret would read it."""
    if args.type == "secretsmanager":
        value = client(args, "secretsmanager", region_name=args.dest_region or args.region).get_secret_value(
            SecretId=args.name)["SecretString"]
        data = json.loads(value)
        return data["AccessKeyId"], data["SecretAccessKey"]
    if args.type == "ssm":
        value = client(args, "ssm", region_name=args.dest_region or args.region).get_parameter(
            Name=args.name, WithDecryption=True)["Parameter"]["Value"]
        data = json.loads(value)
        return data["AccessKeyId"], data["SecretAccessKey"]
    with open(args.path) as handle:
        text = handle.read()
    if args.format == "json":
        data = json.loads(text)
        return data["AccessKeyId"], data["SecretAccessKey"]
    if args.format == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["Access key ID", "Secret access key"], "not the console's CSV header"
        return rows[1][0], rows[1][1]
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser.get(args.profile, "aws_access_key_id"), parser.get(args.profile, "aws_secret_access_key")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--role-arn")
    parser.add_argument("--stubctl")
    parser.add_argument("--stub-state-file")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("reset")
    clock = sub.add_parser("clock")
    clock.add_argument("days", type=float)
    user = sub.add_parser("create-user")
    user.add_argument("user")
    user.add_argument("--keys", type=int, default=0)
    user.add_argument("--save-dir", help="directory to keep the seeded keys' secrets in, for use-key")
    key = sub.add_parser("create-key")
    key.add_argument("user")
    key.add_argument("--save-dir")
    use = sub.add_parser("use-key")
    use.add_argument("access_key_id")
    use.add_argument("--save-dir", required=True)
    listing = sub.add_parser("list-keys")
    listing.add_argument("user")
    status = sub.add_parser("set-status")
    status.add_argument("user")
    status.add_argument("access_key_id")
    status.add_argument("status", choices=["Active", "Inactive"])
    state = sub.add_parser("state")
    state.add_argument("user")
    check = sub.add_parser("check-secret")
    check.add_argument("user")
    check.add_argument("--type", required=True, choices=["secretsmanager", "ssm", "file"])
    check.add_argument("--name")
    check.add_argument("--dest-region")
    check.add_argument("--path")
    check.add_argument("--format", default="json")
    check.add_argument("--profile")
    mode = sub.add_parser("file-mode")
    mode.add_argument("path")
    args = parser.parse_args()
    iam = client(args, "iam") if args.command not in ("reset", "clock", "file-mode") else None

    if args.command == "reset":
        result = json.loads(stubctl(args, "reset") or "{}")
    elif args.command == "clock":
        result = json.loads(stubctl(args, "clock", str(args.days)) or "{}")
    elif args.command in ("create-user", "create-key"):
        if args.command == "create-user":
            iam.create_user(UserName=args.user)
        count = args.keys if args.command == "create-user" else 1
        ids = []
        for _ in range(count):
            item = iam.create_access_key(UserName=args.user)["AccessKey"]
            ids.append(item["AccessKeyId"])
            if args.save_dir:
                path = os.path.join(args.save_dir, item["AccessKeyId"])
                with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
                    handle.write(item["SecretAccessKey"])
        result = {"user": args.user, "access_key_ids": ids}
    elif args.command == "use-key":
        with open(os.path.join(args.save_dir, args.access_key_id)) as handle:
            secret = handle.read()
        result = {"arn": key_with_secret(args, args.access_key_id, secret).get_caller_identity()["Arn"]}
    elif args.command == "list-keys":
        keys = iam.list_access_keys(UserName=args.user)["AccessKeyMetadata"]
        result = {"keys": [{"access_key_id": k["AccessKeyId"], "status": k["Status"],
                            "create_date": k["CreateDate"].isoformat()} for k in keys]}
        result["active"] = [k["access_key_id"] for k in result["keys"] if k["status"] == "Active"]
        result["ids"] = [k["access_key_id"] for k in result["keys"]]
    elif args.command == "set-status":
        iam.update_access_key(UserName=args.user, AccessKeyId=args.access_key_id, Status=args.status)
        result = {"changed": True}
    elif args.command == "state":
        tags = iam.list_user_tags(UserName=args.user)["Tags"]
        result = {"tags": {t["Key"]: t["Value"] for t in tags}}
    elif args.command == "check-secret":
        access_key_id, secret = read_destination(args)
        try:
            arn = key_with_secret(args, access_key_id, secret).get_caller_identity()["Arn"]
        except botocore.exceptions.ClientError as exc:
            arn = "error: %s" % exc.response["Error"]["Code"]
        active = [k["AccessKeyId"] for k in iam.list_access_keys(UserName=args.user)["AccessKeyMetadata"]
                  if k["Status"] == "Active"]
        result = {"access_key_id": access_key_id, "arn": arn,
                  "authenticates_as_user": arn.endswith(":user/" + args.user),
                  "key_is_active": access_key_id in active}
    elif args.command == "file-mode":
        result = {"mode": "%o" % (os.stat(args.path).st_mode & 0o777)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()

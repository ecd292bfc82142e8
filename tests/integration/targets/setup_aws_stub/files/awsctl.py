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


# Why a destination holds no secret, by exception; --missing-ok reports these instead of failing.
MISSING_ERRORS = ("ResourceNotFoundException", "ParameterNotFound")


def missing_reason(exc):
    """A short reason when ``exc`` means the destination holds no secret, else None."""
    if isinstance(exc, botocore.exceptions.ClientError):
        code = exc.response["Error"]["Code"]
        return code if code in MISSING_ERRORS else None
    if isinstance(exc, FileNotFoundError):
        return "FileNotFoundError"
    if isinstance(exc, (configparser.NoSectionError, configparser.NoOptionError)):
        return "NoProfile"
    return None


def add_destination_args(command):
    command.add_argument("user")
    command.add_argument("--type", required=True, choices=["secretsmanager", "ssm", "file"])
    command.add_argument("--name")
    command.add_argument("--dest-region")
    command.add_argument("--path")
    command.add_argument("--format", default="json")
    command.add_argument("--profile")
    command.add_argument("--missing-ok", action="store_true",
                         help="print found: false instead of failing when the destination holds no secret")
    command.add_argument("--user-role-arn",
                         help="role of the account the user lives in, when the destination is in another one")


def user_iam(args):
    """IAM of the account the user of check-secret lives in."""
    if getattr(args, "user_role_arn", None):
        return client(argparse.Namespace(**dict(vars(args), role_arn=args.user_role_arn)), "iam")
    return client(args, "iam")


def user_keys(args):
    """The ids of the user's keys and of its active keys, as list-keys prints them."""
    keys = user_iam(args).list_access_keys(UserName=args.user)["AccessKeyMetadata"]
    return {"ids": [k["AccessKeyId"] for k in keys], "active": [k["AccessKeyId"] for k in keys if k["Status"] == "Active"]}


def check_key(args, access_key_id, secret, keys):
    """Where a key authenticates, and whether it is one of the user's active keys; never the secret."""
    try:
        arn = key_with_secret(args, access_key_id, secret).get_caller_identity()["Arn"]
    except botocore.exceptions.ClientError as exc:
        arn = "error: %s" % exc.response["Error"]["Code"]
    return {"access_key_id": access_key_id, "arn": arn,
            "authenticates_as_user": arn.endswith(":user/" + args.user),
            "key_is_active": access_key_id in keys["active"]}


def file_summary(path):
    """The shape of a credentials/CSV/JSON file without its secrets: profiles, comments, key ids."""
    with open(path) as handle:
        lines = handle.read().splitlines()
    summary = {"lines": len(lines), "comments": [line for line in lines if line.lstrip().startswith(("#", ";"))],
               "profiles": [], "key_ids": {}}
    section = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
            summary["profiles"].append(section)
        elif "=" in stripped and section is not None:
            option, value = (part.strip() for part in stripped.split("=", 1))
            if option == "aws_access_key_id":
                summary["key_ids"][section] = value
    return summary


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
    add_destination_args(check)
    search = sub.add_parser("secret-in-text", help="whether the destination's secret occurs in the text on stdin")
    add_destination_args(search)
    sub.add_parser("check-key-stdin", help="check the key 'ACCESS_KEY_ID SECRET' given on stdin").add_argument("user")
    sub.add_parser("file-summary", help="profiles, comments and key ids of a file, never a secret").add_argument("path")
    mode = sub.add_parser("file-mode")
    mode.add_argument("path")
    args = parser.parse_args()
    iam_commands = ("create-user", "create-key", "list-keys", "set-status", "state")
    iam = client(args, "iam") if args.command in iam_commands else None

    if args.command == "reset":
        result = json.loads(stubctl(args, "reset") or "{}")
    elif args.command == "clock":
        result = json.loads(stubctl(args, "clock", str(args.days)) or "{}")
    elif args.command in ("create-user", "create-key"):
        if args.command == "create-user":
            iam.create_user(UserName=args.user)
        count = args.keys if args.command == "create-user" else 1
        ids = []
        for _number in range(count):
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
    elif args.command in ("check-secret", "secret-in-text"):
        # check-secret also prints the user's keys (ids, active) and a file's mode, to save separate calls.
        result = {}
        if args.command == "check-secret":
            result.update(user_keys(args))
            if args.type == "file" and os.path.exists(args.path):
                result["file_mode"] = "%o" % (os.stat(args.path).st_mode & 0o777)
        try:
            access_key_id, secret = read_destination(args)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            reason = missing_reason(exc)
            if not (args.missing_ok and reason):
                raise
            result.update(found=False, reason=reason)
            print(json.dumps(result))
            return
        if args.command == "check-secret":
            result.update(check_key(args, access_key_id, secret, result), found=True)
            if args.type == "ssm":
                result["parameter_type"] = client(args, "ssm", region_name=args.dest_region or args.region).get_parameter(
                    Name=args.name)["Parameter"]["Type"]
        else:
            text = sys.stdin.read()
            result = {"found": True, "access_key_id": access_key_id, "text_length": len(text),
                      "contains_secret": bool(secret) and secret in text}
    elif args.command == "check-key-stdin":
        access_key_id, secret = sys.stdin.read().split()
        keys = user_keys(args)
        result = dict(check_key(args, access_key_id, secret, keys), **keys)
    elif args.command == "file-summary":
        result = file_summary(args.path)
    elif args.command == "file-mode":
        result = {"mode": "%o" % (os.stat(args.path).st_mode & 0o777)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()

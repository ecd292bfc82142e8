"""Test-side helper for console passwords: seeds login profiles and policies, checks stored passwords.

It never prints a password: it compares the destination's value with the
password IAM holds (through the stub's in-process moto backend) and prints
yes/no answers and lengths as JSON.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import secrets
import string
import sys

import botocore.exceptions

from awsctl import client  # the same sessions, assumed roles and retries as awsctl

SYMBOLS = "!@#$%^&*()_+-=[]{}|'"


def stub(args, path, body):
    sys.path.insert(0, os.path.dirname(args.stubctl))
    import stubctl  # pylint: disable=import-outside-toplevel,import-error

    return stubctl.control(args.stub_state_file, "POST", path, body)


def read_password(args, pending=False):
    """The current (or pending) password in a destination, or None."""
    try:
        if args.type == "secretsmanager":
            value = client(args, "secretsmanager").get_secret_value(
                SecretId=args.name, VersionStage="AWSPENDING" if pending else "AWSCURRENT")["SecretString"]
            return json.loads(value)["Password"]
        if args.type == "ssm":
            name = args.name + "-pending" if pending else args.name
            value = client(args, "ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
            return json.loads(value)["Password"]
        path = args.path + ".pending" if pending else args.path
        with open(path) as handle:
            text = handle.read()
    except (botocore.exceptions.ClientError, FileNotFoundError):
        return None
    if args.format == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["User name", "Password", "Console sign-in URL"], "not the console's CSV header"
        return rows[1][1]
    return json.loads(text)["Password"]


def classes(password):
    found = []
    for name, chars in (("uppercase", string.ascii_uppercase), ("lowercase", string.ascii_lowercase),
                        ("numbers", string.digits), ("symbols", SYMBOLS)):
        if any(ch in chars for ch in password):
            found.append(name)
    return found


def main():
    parser = argparse.ArgumentParser()
    for option in ("--endpoint", "--access-key", "--secret-key", "--stubctl", "--stub-state-file"):
        parser.add_argument(option, required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--role-arn")
    parser.add_argument("--account", default="123456789012")
    sub = parser.add_subparsers(dest="command", required=True)
    user = sub.add_parser("create-user")
    user.add_argument("user")
    user.add_argument("--login-profile", action="store_true")
    user.add_argument("--path", default="/")
    user.add_argument("--tag", action="append", default=[], help="KEY=VALUE")
    user.add_argument("--group", action="append", default=[])
    user.add_argument("--keys", type=int, default=0)
    policy = sub.add_parser("policy")
    policy.add_argument("--min", type=int, default=8)
    for name in ("upper", "lower", "numbers", "symbols", "delete"):
        policy.add_argument("--" + name, action="store_true")
    check = sub.add_parser("check")
    check.add_argument("user")
    check.add_argument("--type", required=True, choices=["secretsmanager", "ssm", "file"])
    check.add_argument("--name")
    check.add_argument("--path")
    check.add_argument("--format", default="json")
    check.add_argument("--forbid", default="", help="characters the password must not contain")
    state = sub.add_parser("state")
    state.add_argument("user")
    args = parser.parse_args()
    iam = client(args, "iam")
    if args.command == "create-user":
        tags = [dict(zip(("Key", "Value"), tag.split("=", 1))) for tag in args.tag]
        iam.create_user(UserName=args.user, Path=args.path, **({"Tags": tags} if tags else {}))
        for group in args.group:
            try:
                iam.create_group(GroupName=group)
            except iam.exceptions.EntityAlreadyExistsException:
                pass
            iam.add_user_to_group(GroupName=group, UserName=args.user)
        for _number in range(args.keys):
            iam.create_access_key(UserName=args.user)
        if args.login_profile:
            initial = "Aa1!" + secrets.token_urlsafe(12)
            iam.create_login_profile(UserName=args.user, Password=initial)
        result = {"user": args.user, "login_profile": args.login_profile}
    elif args.command == "policy":
        if args.delete:
            try:
                iam.delete_account_password_policy()
            except botocore.exceptions.ClientError:
                pass
        else:
            iam.update_account_password_policy(
                MinimumPasswordLength=args.min, RequireUppercaseCharacters=args.upper,
                RequireLowercaseCharacters=args.lower, RequireNumbers=args.numbers, RequireSymbols=args.symbols)
        result = {"changed": True}
    elif args.command == "check":
        current = read_password(args)
        pending = read_password(args, pending=True)
        iam_side = stub(args, "/_stub/login-profile",
                        {"account": args.account, "user": args.user, "password": current})
        result = {"stored": current is not None, "pending": pending is not None,
                  "matches_iam": iam_side["matches"], "iam_has_password": iam_side["has_password"],
                  "password_reset_required": iam_side["password_reset_required"],
                  "length": len(current) if current else 0, "classes": classes(current or ""),
                  "has_forbidden": any(ch in args.forbid for ch in current or "")}
    elif args.command == "state":
        tags = iam.list_user_tags(UserName=args.user)["Tags"]
        result = {"tags": {t["Key"]: t["Value"] for t in tags}}
    print(json.dumps(result))


if __name__ == "__main__":
    main()

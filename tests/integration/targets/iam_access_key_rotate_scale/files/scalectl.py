"""Test-side helper of the scale target: seeds many users at once and counts the stub's calls.

It never prints a secret: only user names, key ids and counts, as JSON.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.config

CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=16)


def stub(args, method, path, body=None):
    sys.path.insert(0, os.path.dirname(args.stubctl))
    import stubctl  # pylint: disable=import-outside-toplevel,import-error

    return stubctl.control(args.stub_state_file, method, path, body)


def main():
    parser = argparse.ArgumentParser()
    for option in ("--endpoint", "--access-key", "--secret-key", "--stubctl", "--stub-state-file"):
        parser.add_argument(option, required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    seed = sub.add_parser("seed", help="users PREFIX00.. with one key each, created AGE days ago")
    seed.add_argument("prefix")
    seed.add_argument("count", type=int)
    seed.add_argument("--age-days", type=float, default=0)
    tag = sub.add_parser("tag", help="set the access key rotation state tag of a user")
    tag.add_argument("user")
    tag.add_argument("value")
    sub.add_parser("calls", help="the calls since the last reset, by action; then reset")
    args = parser.parse_args()
    iam = boto3.client("iam", endpoint_url=args.endpoint, aws_access_key_id=args.access_key,
                       aws_secret_access_key=args.secret_key, region_name="us-east-1", config=CONFIG)
    if args.command == "seed":
        users = ["%s%02d" % (args.prefix, index) for index in range(args.count)]
        if args.age_days:
            stub(args, "POST", "clock", {"offset_days": -args.age_days})
        try:
            def make(user):
                iam.create_user(UserName=user)
                return iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]

            with ThreadPoolExecutor(8) as pool:
                keys = dict(zip(users, pool.map(make, users)))
        finally:
            if args.age_days:
                stub(args, "POST", "clock", {"offset_days": 0})
        result = {"users": users, "keys": keys}
    elif args.command == "tag":
        iam.tag_user(UserName=args.user, Tags=[{"Key": "rotator:access-key-rotation", "Value": args.value}])
        result = {"changed": True}
    else:
        calls = stub(args, "GET", "calls")["calls"]
        stub(args, "POST", "calls/reset")
        result = {"total": len(calls), "by_action": dict(collections.Counter(call["action"] for call in calls))}
    print(json.dumps(result))


if __name__ == "__main__":
    main()

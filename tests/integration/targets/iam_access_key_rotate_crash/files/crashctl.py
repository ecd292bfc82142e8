"""One process per step of a crash case, so the matrix stays fast.

``start`` resets AWS, seeds the user with one key, empties the call log and
arms the fault; ``clear`` disarms it and returns the calls so far, the
user's keys and the key id the destination holds; ``observe`` returns what a case is judged on: the
keys, the rotation state tag, the call log, and what a consumer of the
destination sees when it authenticates with the stored secret.  moto does
not check signatures (any secret works with a known key id), so the stored
secret is also compared with the one moto holds for the key, read from
moto's own data dump behind the proxy.

It never prints a secret: only key ids, ARNs, statuses and yes/no answers.
"""

from __future__ import annotations

import argparse
import json
import urllib.request

STATE_TAG = "rotator:access-key-rotation"


def stub(args, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(args.endpoint + "/_stub/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def client(args, service, access_key=None, secret_key=None):
    import boto3  # pylint: disable=import-outside-toplevel
    import botocore.config  # pylint: disable=import-outside-toplevel

    return boto3.session.Session(
        aws_access_key_id=access_key or args.access_key, aws_secret_access_key=secret_key or args.secret_key,
        region_name=args.region,
    ).client(service, endpoint_url=args.endpoint,
             config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 3}))


def keys_of(args, user):
    keys = client(args, "iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {"ids": [key["AccessKeyId"] for key in keys],
            "active": [key["AccessKeyId"] for key in keys if key["Status"] == "Active"]}


def start(args):
    stub(args, "POST", "reset", {})
    iam = client(args, "iam")
    iam.create_user(UserName=args.user)
    old_key = iam.create_access_key(UserName=args.user)["AccessKey"]["AccessKeyId"]
    stub(args, "POST", "calls/reset", {})
    if args.fault_at is not None:
        stub(args, "POST", "faults", {"fail_after": args.fault_at, "mode": args.mode})
    return {"old_key": old_key}


def stored_key_id(args):
    """The access key id the destination holds, or None when it holds nothing yet."""
    secrets = client(args, "secretsmanager")
    try:
        value = secrets.get_secret_value(SecretId=args.secret_name)["SecretString"]
    except secrets.exceptions.ResourceNotFoundException:
        return None
    return json.loads(value)["AccessKeyId"]


def clear(args):
    stub(args, "POST", "faults", {"fail_after": None})
    calls = stub(args, "GET", "calls")["calls"]
    return {"calls": calls, "keys": keys_of(args, args.user), "stored": stored_key_id(args)}


def moto_secret(args, access_key_id):
    """The secret moto holds for a key, from /moto-api/data.json on moto itself (not the proxy)."""
    with open(args.stub_state_file) as handle:
        moto_url = json.load(handle)["moto_url"]
    with urllib.request.urlopen(moto_url + "/moto-api/data.json", timeout=30) as response:
        data = json.loads(response.read())
    return next((key["secret_access_key"] for key in data["iam"]["AccessKey"]
                 if key["access_key_id"] == access_key_id), None)


def observe(args):
    iam = client(args, "iam")
    tags = {tag["Key"]: tag["Value"] for tag in iam.list_user_tags(UserName=args.user)["Tags"]}
    keys = keys_of(args, args.user)
    stored = json.loads(client(args, "secretsmanager").get_secret_value(SecretId=args.secret_name)["SecretString"])
    key_id = stored["AccessKeyId"]
    try:
        arn = client(args, "sts", key_id, stored["SecretAccessKey"]).get_caller_identity()["Arn"]
    except Exception as exc:  # pylint: disable=broad-exception-caught
        arn = "error: %s" % type(exc).__name__
    return {
        "keys": keys,
        "state": tags.get(STATE_TAG, ""),
        "destination": {"access_key_id": key_id, "arn": arn,
                        "authenticates_as_user": arn.endswith(":user/" + args.user),
                        "key_is_active": key_id in keys["active"],
                        "secret_is_the_keys": stored["SecretAccessKey"] == moto_secret(args, key_id)},
        "calls": stub(args, "GET", "calls")["calls"],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--stub-state-file", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    begin = sub.add_parser("start")
    begin.add_argument("user")
    begin.add_argument("--fault-at", type=int)
    begin.add_argument("--mode", choices=["drop", "error"], default="drop")
    end_fault = sub.add_parser("clear")
    end_fault.add_argument("user")
    end_fault.add_argument("--secret-name", required=True)
    look = sub.add_parser("observe")
    look.add_argument("user")
    look.add_argument("--secret-name", required=True)
    args = parser.parse_args()
    print(json.dumps({"start": start, "clear": clear, "observe": observe}[args.command](args)))


if __name__ == "__main__":
    main()

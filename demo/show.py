"""What the demo's first run handed out, without a secret: the key billing-app received, and the owners' digests.

Usage: python demo/show.py STATE_FILE CONSUMER_DIR

Prints the ID of the key in billing-app's credentials file and the identity STS gives that key on the stub (so
the application's new key works), then each owner digest the stub's SNS topic recorded: owner, subject, lines.
Exits non-zero when the consumer received no key, its key does not work, or no digest was sent: the demo
promises all three.
"""

from __future__ import annotations

import configparser
import json
import sys
import urllib.request
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
import stubctl  # noqa: E402  pylint: disable=wrong-import-position


def show_consumer(endpoint, consumer_dir):
    """Each credentials file of the consumer: its key ID, and whom STS says that key is. Never the secret."""
    files = sorted(Path(consumer_dir).glob("*.ini"))
    if not files:
        sys.exit("consumer billing-app received no key: no credentials file in %s" % consumer_dir)
    for path in files:
        credentials = configparser.ConfigParser()
        credentials.read(path)
        profile = credentials["default"]
        key_id = profile["aws_access_key_id"]
        sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key_id,
                           aws_secret_access_key=profile["aws_secret_access_key"])
        arn = sts.get_caller_identity()["Arn"]
        print("consumer billing-app received key %s in %s (mode %o); STS GetCallerIdentity with it: %s" % (
            key_id, path.name, path.stat().st_mode & 0o777, arn))


def show_digests(moto_url):
    """The digests the stub's SNS topics recorded: to whom, with which subject, and their lines."""
    with urllib.request.urlopen(moto_url + "/moto-api/data.json") as answer:
        topics = json.load(answer)["sns"]["Topic"]
    if not any(topic["sent_notifications"] for topic in topics):
        sys.exit("no owner digest was sent")
    for topic in topics:
        for _message_id, message, subject, attributes, _group in topic["sent_notifications"]:
            print("owner digest to %s on %s: %s" % (attributes["owner"]["Value"], topic["name"], subject))
            for line in message.splitlines():
                print("    " + line)


def main(state_file, consumer_dir):
    state = stubctl.read_state(state_file)
    show_consumer(state["endpoint_url"], consumer_dir)
    show_digests(state["moto_url"])


if __name__ == "__main__":
    main(*sys.argv[1:3])

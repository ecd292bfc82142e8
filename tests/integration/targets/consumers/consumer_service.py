"""A consumer of access keys for the consumers target: an HTTP service on 127.0.0.1.

Usage: python consumer_service.py STATE_DIR STS_ENDPOINT REGION

It listens on a free port of 127.0.0.1 and writes ``STATE_DIR/port`` once it
accepts connections.  ``POST /key`` with JSON ``{consumer, user,
access_key_id, secret_access_key}`` (a push), or ``POST /reload`` with JSON
``{consumer, user, path}`` (a credentials file it reads, as an application
reloads its configuration), makes it call STS ``GetCallerIdentity`` with the
key it got, as an application would on its next request, and append to
``STATE_DIR/received.jsonl`` what it got: the consumer, the user, the key id,
the SHA-256 of the secret (never the secret) and the ARN STS answered.  A
consumer named ``broken`` is answered 500, as a consumer that rejects the key.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import botocore.config


def caller_arn(endpoint, region, access_key_id, secret):
    client = boto3.session.Session(aws_access_key_id=access_key_id, aws_secret_access_key=secret,
                                   region_name=region).client(
        "sts", endpoint_url=endpoint, config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 3}))
    return client.get_caller_identity()["Arn"]


class Consumer(BaseHTTPRequestHandler):
    state_dir: Path
    endpoint: str
    region: str

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # the request line holds no secret, but nothing needs it

    def do_POST(self):  # pylint: disable=invalid-name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("consumer") == "broken":
            self._answer(500, {"error": "this consumer rejects every key"})
            return
        if self.path == "/key":
            key_id, secret = body["access_key_id"], body["secret_access_key"]
        elif self.path == "/reload":
            profile = configparser.ConfigParser()
            profile.read(body["path"])
            key_id, secret = profile["default"]["aws_access_key_id"], profile["default"]["aws_secret_access_key"]
        else:
            self._answer(404, {"error": "unknown path"})
            return
        arn = caller_arn(self.endpoint, self.region, key_id, secret)
        record = {"consumer": body["consumer"], "user": body["user"], "access_key_id": key_id, "how": self.path[1:],
                  "secret_sha256": hashlib.sha256(secret.encode()).hexdigest(), "arn": arn}
        with (self.state_dir / "received.jsonl").open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        self._answer(200, {"arn": arn})

    def _answer(self, status, document):
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main(state_dir, endpoint, region):
    Consumer.state_dir, Consumer.endpoint, Consumer.region = Path(state_dir), endpoint, region
    server = ThreadingHTTPServer(("127.0.0.1", 0), Consumer)
    port_file = Path(state_dir) / "port"
    port_file.with_suffix(".tmp").write_text(str(server.server_address[1]))
    port_file.with_suffix(".tmp").rename(port_file)
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])

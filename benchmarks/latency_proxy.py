"""A loopback HTTP proxy in front of moto that counts AWS calls and can add AWS's latency.

    python benchmarks/latency_proxy.py --upstream http://127.0.0.1:PORT [--delay-ms 50]

Prints its own URL on the first line of stdout, then serves until killed.
Every request (keep-alive or not) waits ``--delay-ms`` before it is sent on,
so a client making N calls one after the other waits N times; a client with
N calls under way at once waits about once.  ``GET /_bench/calls`` answers
the calls relayed so far by action and empties the count; ``POST
/_bench/delay`` with ``{"ms": 0}`` changes the delay from then on (one proxy
serves runs at different latencies).

moto 5.2.5 gives every credential report the GeneratedTime
2015-02-02T20:02:02Z (and builds the report anew at each
GetCredentialReport); a rotator that checks the report's age would find it
years old and look at every user live, which AWS's fresh report spares.  The
proxy answers GetCredentialReport with the time of the answer as GeneratedTime,
which is what moto's content is: a report of the accounts as they are now.

Answers go out in one write on a TCP_NODELAY socket: a header and a body in
two small writes would meet the client's delayed ACK and cost 40 ms a call
on loopback, which would measure the proxy rather than the clients.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import http.client
import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
              "content-length", "expect"}


CALLS = collections.Counter()
CALLS_LOCK = threading.Lock()
# Seconds every relayed call waits; a dict so POST /_bench/delay can change it while handlers run.
DELAY = {"seconds": 0.0}
MOTO_GENERATED_TIME = re.compile(rb"<GeneratedTime>[^<]*</GeneratedTime>")


def fresh_report(payload):
    """A GetCredentialReport answer whose GeneratedTime is now (moto's is fixed in 2015)."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return MOTO_GENERATED_TIME.sub(("<GeneratedTime>%s</GeneratedTime>" % now).encode(), payload, count=1)


def action_of(path, headers, body):
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    params = parse_qs(urlsplit(path).query)
    if "application/x-www-form-urlencoded" in headers.get("Content-Type", ""):
        params.update(parse_qs(body.decode("utf-8", "replace")))
    return params.get("Action", ["%s %s" % ("?", urlsplit(path).path)])[0]


def make_handler(host, port):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def reply(self, status, headers, payload):
            lines = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("",))[0])]
            lines += ["%s: %s" % (name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]
            lines += ["Content-Length: %d" % len(payload), "", ""]
            self.wfile.write("\r\n".join(lines).encode("latin-1") + payload)

        def relay(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith("/_bench/calls"):
                with CALLS_LOCK:
                    document = dict(CALLS)
                    CALLS.clear()
                self.reply(200, [("Content-Type", "application/json")], json.dumps(document).encode())
                return
            if self.path.startswith("/_bench/delay"):
                DELAY["seconds"] = float(json.loads(body)["ms"]) / 1000.0
                self.reply(200, [("Content-Type", "application/json")], json.dumps(DELAY).encode())
                return
            action = action_of(self.path, self.headers, body)
            with CALLS_LOCK:
                CALLS[action] += 1
            time.sleep(DELAY["seconds"])
            upstream = http.client.HTTPConnection(host, port, timeout=120)
            try:
                upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        upstream.putheader(name, value)
                upstream.putheader("Content-Length", str(len(body)))
                upstream.endheaders(body)
                response = upstream.getresponse()
                payload = response.read()
                if action == "GetCredentialReport" and response.status == 200:
                    payload = fresh_report(payload)
                self.reply(response.status, response.getheaders(), payload)
            finally:
                upstream.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = relay

        def log_message(self, format, *args):  # noqa: A002 - quiet
            pass

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    args = parser.parse_args(argv)
    upstream = urlsplit(args.upstream)
    DELAY["seconds"] = args.delay_ms / 1000.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(upstream.hostname, upstream.port))
    server.daemon_threads = True
    print("http://127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

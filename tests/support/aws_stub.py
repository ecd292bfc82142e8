"""Fake AWS endpoint for the test suite: moto in server mode behind a recording proxy.

Run as ``python tests/support/aws_stub.py --state-file PATH``.  The process
starts moto's ``ThreadedMotoServer`` and, in front of it, a small forwarding
HTTP proxy.  Clients use the proxy URL as ``endpoint_url``; the proxy adds what
plain moto cannot offer the tests:

* a record of every secret the code under test was handed or sent (access key
  secrets, login-profile passwords), so tests can assert none of them leak
  into logs or output;
* fault injection (drop the connection or answer HTTP 500 after N calls), so
  tests can interrupt a rotation half-way and check it recovers;
* a log of the AWS actions called, so tests can count calls;
* control of moto's clock, so tests can create "old" access keys.

The control API lives under ``/_stub/`` on the proxy and is never forwarded::

    POST /_stub/clock         {"offset_days": 100}
    GET  /_stub/faults
    POST /_stub/faults        {"fail_after": 5, "mode": "drop"|"error"}
                              {"fail_after": null}  (clear)
    GET  /_stub/calls         {"calls": [{"action": "CreateUser", "status": 200}]}
    POST /_stub/calls/reset
    GET  /_stub/secrets       {"secrets": [...]}  (never cleared)
    POST /_stub/reset         moto reset + clear faults, clock and call log
    POST /_stub/login-profile {"account", "user", "password"} -> {"matches": bool, ...}

Once both servers accept connections the state file is written atomically as
``{"pid": ..., "endpoint_url": ..., "moto_url": ...}``.
"""

from __future__ import annotations

import argparse
import gzip
import html
import http.client
import json
import logging
import os
import re
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOG = logging.getLogger("aws_stub")

CONTROL_PREFIX = "/_stub/"
FAULT_MODES = ("drop", "error")
SECONDS_PER_DAY = 86400.0
UPSTREAM_TIMEOUT = 60.0

# Hop-by-hop headers describe one connection, not the message, so they must
# not be relayed; Content-Length is recomputed because bodies are re-framed.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)

PASSWORD_ACTIONS = frozenset({"CreateLoginProfile", "UpdateLoginProfile"})
SECRET_KEY_XML = re.compile(rb"<SecretAccessKey>([^<]*)</SecretAccessKey>")
SECRET_KEY_JSON = re.compile(rb'"SecretAccessKey"\s*:\s*"([^"]*)"')


@dataclass
class StubState:
    """Mutable, thread-safe state shared by all proxy handler threads."""

    moto_host: str
    moto_port: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    secrets: list[str] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_after: int | None = None
    fault_mode: str = "drop"
    calls_since_fault_set: int = 0
    offset_days: float = 0.0
    traveller: Any = None

    def record_secret(self, value: str) -> None:
        """Remember a secret so tests can later grep logs for it."""
        if value:
            with self.lock:
                self.secrets.append(value)

    def record_call(self, action: str, status: int | None) -> None:
        """Append one AWS call to the log tests use to count calls."""
        with self.lock:
            self.calls.append({"action": action, "status": status})

    def next_call_fault(self) -> str | None:
        """Count one AWS call against the fault budget; return the fault mode if it must fail."""
        with self.lock:
            if self.fail_after is None:
                return None
            self.calls_since_fault_set += 1
            if self.calls_since_fault_set > self.fail_after:
                return self.fault_mode
            return None

    def set_faults(self, fail_after: int | None, mode: str) -> dict[str, Any]:
        """Arm (or clear, with None) fault injection; the budget restarts now."""
        with self.lock:
            self.fail_after = fail_after
            self.fault_mode = mode
            self.calls_since_fault_set = 0
            return self._faults_view()

    def faults(self) -> dict[str, Any]:
        """Current fault settings, as reported by the control API."""
        with self.lock:
            return self._faults_view()

    def _faults_view(self) -> dict[str, Any]:
        return {
            "fail_after": self.fail_after,
            "mode": self.fault_mode,
            "calls_since_set": self.calls_since_fault_set,
        }

    def set_clock(self, offset_days: float) -> dict[str, Any]:
        """Shift the whole process clock (and so moto's timestamps) by offset_days.

        time-machine patches the clock process-wide, which is what moto's
        handler threads need.  The previous traveller is stopped before the
        real time is read, so offsets are relative to the real clock, not
        cumulative.
        """
        import time_machine

        with self.lock:
            if self.traveller is not None:
                self.traveller.stop()
                self.traveller = None
            self.offset_days = offset_days
            if offset_days:
                real_now = time.time()
                destination = real_now + offset_days * SECONDS_PER_DAY
                self.traveller = time_machine.travel(destination, tick=True)
                self.traveller.start()
            return {"offset_days": self.offset_days}

    def reset_calls(self) -> None:
        """Empty the call log."""
        with self.lock:
            self.calls.clear()


def action_name(method: str, path: str, headers: Any, body: bytes) -> str:
    """Name the AWS action of a request, whatever protocol the service speaks.

    Query-protocol services (IAM, STS) put ``Action=`` in the form body or
    query string; JSON services (Secrets Manager, SSM) name it in
    ``X-Amz-Target`` as ``<prefix>.<Action>``.  REST services have neither, so
    they are named by method and path.
    """
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    params = request_params(path, headers, body)
    if "Action" in params:
        return params["Action"]
    return f"{method} {urlsplit(path).path}"


def request_params(path: str, headers: Any, body: bytes) -> dict[str, str]:
    """Merge query-string and form-body parameters (first value wins)."""
    params: dict[str, str] = {}
    sources = [urlsplit(path).query]
    content_type = headers.get("Content-Type", "")
    if "application/x-www-form-urlencoded" in content_type:
        sources.append(body.decode("utf-8", "replace"))
    for source in sources:
        for key, values in parse_qs(source, keep_blank_values=True).items():
            params.setdefault(key, values[0])
    return params


def header_value(headers: list[tuple[str, str]], name: str) -> str | None:
    """Case-insensitive lookup in a list of header pairs."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def secrets_in_response(body: bytes, content_encoding: str) -> list[str]:
    """Extract access key secrets from a CreateAccessKey response (XML or JSON)."""
    if content_encoding.lower() == "gzip":
        body = gzip.decompress(body)
    found = SECRET_KEY_XML.findall(body) + SECRET_KEY_JSON.findall(body)
    return [html.unescape(value.decode("utf-8", "replace")) for value in found]


def fault_response_body(headers: Any) -> tuple[bytes, str]:
    """Build an AWS-shaped InternalFailure error matching the request's protocol."""
    request_id = str(uuid.uuid4())
    if headers.get("X-Amz-Target"):
        body = {"__type": "InternalFailure", "message": "Injected fault"}
        return json.dumps(body).encode(), "application/x-amz-json-1.1"
    xml = (
        "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"
        "<Message>Injected fault</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return xml.encode(), "text/xml"


class ProxyHandler(BaseHTTPRequestHandler):
    """Relays AWS calls to moto and serves the ``/_stub/`` control API."""

    protocol_version = "HTTP/1.1"
    # Bounds how long an idle keep-alive connection holds a thread.
    timeout = 120
    server: "StubProxyServer"

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    @property
    def state(self) -> StubState:
        return self.server.state

    def dispatch(self) -> None:
        """Route one request to the control API or to moto."""
        body = self.read_body()
        if self.path.startswith(CONTROL_PREFIX):
            self.handle_control(body)
        else:
            self.handle_aws(body)

    def read_body(self) -> bytes:
        """Read the request body, honouring Content-Length or chunked framing."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def read_chunked(self) -> bytes:
        """Decode a chunked request body (trailers are discarded)."""
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    # -- AWS forwarding -------------------------------------------------

    def handle_aws(self, body: bytes) -> None:
        """Forward an AWS call unless fault injection says it must fail."""
        action = action_name(self.command, self.path, self.headers, body)
        self.record_request_secrets(action, body)
        fault = self.state.next_call_fault()
        if fault == "drop":
            LOG.info("dropping connection for %s", action)
            self.state.record_call(action, None)
            self.close_connection = True
            return
        if fault == "error":
            LOG.info("failing %s with InternalFailure", action)
            self.state.record_call(action, 500)
            payload, content_type = fault_response_body(self.headers)
            self.send_local(500, content_type, payload)
            return
        status, headers, payload = self.forward(body)
        self.state.record_call(action, status)
        if action == "CreateAccessKey" and status == 200:
            encoding = header_value(headers, "Content-Encoding") or ""
            for secret in secrets_in_response(payload, encoding):
                self.state.record_secret(secret)
        self.send_bytes(status, headers, payload)

    def record_request_secrets(self, action: str, body: bytes) -> None:
        """Remember passwords sent to CreateLoginProfile/UpdateLoginProfile."""
        if action in PASSWORD_ACTIONS:
            password = request_params(self.path, self.headers, body).get("Password")
            if password:
                self.state.record_secret(password)

    def forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request to moto and return its status, headers and body."""
        conn = http.client.HTTPConnection(
            self.state.moto_host, self.state.moto_port, timeout=UPSTREAM_TIMEOUT
        )
        try:
            conn.putrequest(
                self.command, self.path, skip_host=True, skip_accept_encoding=True
            )
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    conn.putheader(name, value)
            if body or self.command in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            response = conn.getresponse()
            payload = response.read()
            return response.status, response.getheaders(), payload
        except OSError as exc:
            LOG.warning("moto unreachable: %s", exc)
            return 502, [("Content-Type", "text/plain")], b"moto unreachable"
        finally:
            conn.close()

    def send_bytes(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        """Write a complete response, re-framed with a correct Content-Length.

        A HEAD response carries no body, so the upstream Content-Length (the
        size the matching GET would have) is relayed instead.
        """
        self.log_request(status)
        self.send_response_only(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if status not in (204, 304):
            if self.command == "HEAD":
                length = header_value(headers, "Content-Length") or "0"
            else:
                length = str(len(payload))
            self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)
        self.wfile.flush()

    def send_local(self, status: int, content_type: str, payload: bytes) -> None:
        """Answer from the proxy itself (control calls, injected errors)."""
        headers = [("Content-Type", content_type), ("Date", self.date_time_string())]
        self.send_bytes(status, headers, payload)

    # -- control API ----------------------------------------------------

    def handle_control(self, body: bytes) -> None:
        """Serve ``/_stub/...``: parse JSON, run the command, answer JSON."""
        route = urlsplit(self.path).path[len(CONTROL_PREFIX) :].strip("/")
        handler = CONTROL_ROUTES.get((self.command, route))
        if handler is None:
            self.send_json(404, {"error": f"no control route {self.command} /_stub/{route}"})
            return
        try:
            request = json.loads(body) if body.strip() else {}
            if not isinstance(request, dict):
                raise ValueError("request body must be a JSON object")
            result = handler(self.state, request)
        except (ValueError, TypeError, KeyError) as exc:
            self.send_json(400, {"error": str(exc)})
            return
        self.send_json(200, result)

    def send_json(self, status: int, document: dict[str, Any]) -> None:
        """Answer a control call."""
        self.send_local(status, "application/json", json.dumps(document).encode())

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Route http.server's access log through logging (silent unless --verbose)."""
        LOG.debug("%s - %s", self.address_string(), format % args)


def control_clock(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """POST /_stub/clock {"offset_days": float}."""
    return state.set_clock(float(request["offset_days"]))


def control_set_faults(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """POST /_stub/faults {"fail_after": int|null, "mode": "drop"|"error"}."""
    fail_after = request.get("fail_after")
    mode = request.get("mode", "drop")
    if mode not in FAULT_MODES:
        raise ValueError(f"mode must be one of {FAULT_MODES}")
    if fail_after is not None:
        if isinstance(fail_after, bool) or not isinstance(fail_after, int) or fail_after < 0:
            raise ValueError("fail_after must be a non-negative integer or null")
    return state.set_faults(fail_after, mode)


def control_get_faults(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """GET /_stub/faults."""
    return state.faults()


def control_calls(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """GET /_stub/calls."""
    with state.lock:
        return {"calls": list(state.calls)}


def control_calls_reset(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """POST /_stub/calls/reset."""
    state.reset_calls()
    return {"calls": []}


def control_secrets(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """GET /_stub/secrets."""
    with state.lock:
        return {"secrets": list(state.secrets)}


def control_reset(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """POST /_stub/reset: fresh moto backends, no faults, real clock, empty call log.

    Secrets are kept on purpose: a test may reset AWS and still need to check
    that secrets from earlier steps never reached its logs.
    """
    conn = http.client.HTTPConnection(state.moto_host, state.moto_port, timeout=UPSTREAM_TIMEOUT)
    try:
        conn.request("POST", "/moto-api/reset", body=b"")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise ValueError(f"moto reset failed with HTTP {response.status}")
    finally:
        conn.close()
    state.set_faults(None, "drop")
    state.set_clock(0.0)
    state.reset_calls()
    return {"reset": True}


def control_login_profile(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """POST /_stub/login-profile {"account", "user", "password"}: does IAM hold that password?

    The IAM API never returns a password, so tests compare against moto's
    in-process backend.  Only a yes/no answer leaves the stub.
    """
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    users = iam_backends[str(request.get("account", "123456789012"))]["global"].users
    user = users.get(request["user"])
    if user is None:
        raise KeyError(f"no user {request['user']}")
    return {"has_password": user.password is not None,
            "matches": user.password is not None and user.password == request.get("password"),
            "password_reset_required": bool(user.password_reset_required)}


CONTROL_ROUTES = {
    ("POST", "login-profile"): control_login_profile,
    ("POST", "clock"): control_clock,
    ("GET", "faults"): control_get_faults,
    ("POST", "faults"): control_set_faults,
    ("GET", "calls"): control_calls,
    ("POST", "calls/reset"): control_calls_reset,
    ("GET", "secrets"): control_secrets,
    ("POST", "reset"): control_reset,
}


class StubProxyServer(ThreadingHTTPServer):
    """Threaded HTTP server that carries the shared stub state."""

    daemon_threads = True

    def __init__(self, state: StubState) -> None:
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.state = state


def wait_until_accepting(host: str, port: int, timeout: float = 10.0) -> None:
    """Block until a TCP connect to host:port succeeds, so the state file never lies."""
    with socket.create_connection((host, port), timeout=timeout):
        pass


def write_state_file(path: str, document: dict[str, Any]) -> None:
    """Write the state file atomically so readers never see a partial document."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(prefix=".aws_stub.", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle)
        os.replace(tmp_path, path)
    except BaseException:
        os.unlink(tmp_path)
        raise


def configure_logging(verbose: bool) -> None:
    """Log to stderr with --verbose; otherwise keep the process silent."""
    if verbose:
        logging.basicConfig(
            stream=sys.stderr,
            level=logging.DEBUG,
            format="%(asctime)s %(name)s %(levelname)s %(message)s",
        )
        return
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)


def run(state_file: str) -> None:
    """Start moto and the proxy, publish the state file, serve until signalled."""
    from moto.server import ThreadedMotoServer

    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    moto_host, moto_port = moto.get_host_and_port()

    state = StubState(moto_host=moto_host, moto_port=moto_port)
    proxy = StubProxyServer(state)
    proxy_thread = threading.Thread(target=proxy.serve_forever, name="proxy", daemon=True)
    proxy_thread.start()
    proxy_port = proxy.server_address[1]

    try:
        wait_until_accepting(moto_host, moto_port)
        wait_until_accepting("127.0.0.1", proxy_port)
        document = {
            "pid": os.getpid(),
            "endpoint_url": f"http://127.0.0.1:{proxy_port}",
            "moto_url": f"http://{moto_host}:{moto_port}",
        }
        write_state_file(state_file, document)
        LOG.info("ready: %s", document)
        while not stop_requested.wait(0.5):
            pass
    finally:
        LOG.info("shutting down")
        proxy.shutdown()
        proxy.server_close()
        moto.stop()
        state.set_clock(0.0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line interface."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-file", required=True, help="where to publish pid and URLs")
    parser.add_argument("--verbose", action="store_true", help="log to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    configure_logging(args.verbose)
    run(args.state_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fake AWS endpoint for the test suite: moto in server mode behind a recording proxy.

Run as ``python tests/support/aws_stub.py --state-file PATH``.  The process
starts moto's ``ThreadedMotoServer`` and, in front of it, a small forwarding
HTTP proxy.  Clients use the proxy URL as ``endpoint_url``; the proxy adds what
plain moto cannot offer the tests:

* a record of every secret the code under test was handed or sent (access key
  secrets, login-profile passwords), so tests can assert none of them leak
  into logs or output;
* fault injection, bounded and reproducible (seeded random):

  - after N calls, every further call fails: the connection is dropped, HTTP
    500 is answered, or the request is *held open* (``hang``: before it
    reaches moto; ``hang-response``: after moto did it, so only the answer is
    held) until the faults are set again, so a test can SIGKILL the client
    while it waits;
  - at a rate: AWS-style throttling (``Throttling`` XML for query services,
    ``ThrottlingException`` JSON for JSON services, HTTP 400), HTTP 500
    ``InternalFailure``, dropped connections (before or after moto answered);
  - added latency on every call;
  - IAM's eventual consistency: a request signed with a key created less than
    ``consistency_seconds`` ago is refused with ``InvalidClientTokenId``
    (HTTP 403; ``UnrecognizedClientException`` for JSON services);

* a log of the AWS actions called (with the user they name and the fault
  injected), so tests can count calls;
* a record of secrets sent where they must never go: any request other than
  the destination and login-profile writes whose body holds a recorded secret
  (a user tag, a description...) is listed under ``/_stub/leaks``;
* control of moto's clock, so tests can create "old" access keys;
* AWS's own rules where moto is more lenient (each cited from the AWS
  documentation where it is modelled, in "AWS behaviour moto does not model"):
  SSM parameter names (characters a-zA-Z0-9_.-/, depth 15, length 1011) and
  Secrets Manager names (characters /_+=.@- and alphanumerics, length 512)
  are refused as AWS refuses them; IAM user tags: 50 per user (TagUser over
  the quota is LimitExceeded, HTTP 409), keys of 128 and values of 256
  characters at most, of letters, digits, spaces and ``_.:/=+-@`` only (no
  ``;`` or ``,``); the credential report is STARTED, then INPROGRESS
  (GetCredentialReport: ReportInProgress) for ``report_delay_seconds``, then
  COMPLETE, and the same report (content and GeneratedTime) is served again
  for 4 hours; optionally GetAccessKeyLastUsed lags, and AssumeRole of a role
  that does not exist is AccessDenied.

The control API lives under ``/_stub/`` on the proxy and is never forwarded::

    POST /_stub/clock         {"offset_days": 100}
    GET  /_stub/faults        settings, counters of injected faults, "held" request
    POST /_stub/faults        {"fail_after": 5, "mode": "drop"|"error"|"hang"|"hang-response",
                               "throttle_rate": 0.3, "error_rate": 0.05, "drop_rate": 0.05,
                               "drop_phase": "request"|"response", "latency_ms": 20,
                               "consistency_seconds": 5, "actions": ["CreateAccessKey"],
                               "max_faults": 100, "seed": 7}
                              every POST replaces all settings (omitted = off) and
                              releases a held request; {"fail_after": null} clears
    GET  /_stub/calls         {"calls": [{"action": "CreateUser", "status": 200, "user": "alice",
                                          "signer": "AKIA..."}]}  (+ "fault" when one was injected)
    POST /_stub/calls/reset
    GET  /_stub/secrets       {"secrets": [...]}  (never cleared)
    GET  /_stub/leaks         {"leaks": [{"action": "TagUser", "secret_index": 3}]}  (never cleared)
    POST /_stub/reset         moto reset + clear faults, clock, call log and created keys
    POST /_stub/login-profile {"account", "user", "password"} -> {"matches": bool, ...}
    GET  /_stub/aws-rules     the AWS rules in force
    POST /_stub/aws-rules     {"names": true, "tags": true, "report_delay_seconds": 0.5,
                               "report_reuse_seconds": 14400, "last_used_lag_seconds": 0,
                               "assume_role_requires_role": false}
                              every POST replaces all rules (omitted = default, shown above);
                              POST /_stub/reset restores the defaults and forgets reports and key uses

Once both servers accept connections the state file is written atomically as
``{"pid": ..., "endpoint_url": ..., "moto_url": ...}``.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import html
import http.client
import json
import logging
import os
import random
import re
import signal
import socket
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
import warnings
from dataclasses import asdict, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

LOG = logging.getLogger("aws_stub")

CONTROL_PREFIX = "/_stub/"
FAULT_MODES = ("drop", "error", "hang", "hang-response")
DROP_PHASES = ("request", "response")
RATE_FAULTS = ("throttle_rate", "error_rate", "drop_rate")
# Bounds of the fault settings, so a typo cannot wedge a test run.
MAX_LATENCY_MS = 10000
MAX_CONSISTENCY_SECONDS = 600
# A held request is released after this long even if nobody clears the fault.
MAX_HOLD_SECONDS = 300.0
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
# The only requests that may carry a secret: the writes of secret destinations and passwords.
SECRET_SINKS = PASSWORD_ACTIONS | {"CreateSecret", "PutSecretValue", "UpdateSecret", "PutParameter"}
ACCESS_KEY_ID_XML = re.compile(rb"<AccessKeyId>([^<]*)</AccessKeyId>")
ACCESS_KEY_ID_JSON = re.compile(rb'"AccessKeyId"\s*:\s*"([^"]*)"')
SIGNING_KEY = re.compile(r"Credential=([A-Z0-9]+)/")
# Credential=<key id>/<date>/<region>/<service>/aws4_request
CREDENTIAL_SCOPE = re.compile(r"Credential=([A-Z0-9]+)/[0-9]+/([^/]+)/([^/]+)/")
SECRET_KEY_XML = re.compile(rb"<SecretAccessKey>([^<]*)</SecretAccessKey>")
SECRET_KEY_JSON = re.compile(rb'"SecretAccessKey"\s*:\s*"([^"]*)"')


@dataclass
class FaultSettings:
    """What the proxy injects; one POST to /_stub/faults replaces all of it."""

    fail_after: int | None = None
    mode: str = "drop"
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    drop_phase: str = "request"
    latency_ms: int = 0
    consistency_seconds: float = 0.0
    actions: list[str] | None = None
    max_faults: int | None = None
    seed: int = 0

    def view(self) -> dict[str, Any]:
        return {
            "fail_after": self.fail_after,
            "mode": self.mode,
            "throttle_rate": self.throttle_rate,
            "error_rate": self.error_rate,
            "drop_rate": self.drop_rate,
            "drop_phase": self.drop_phase,
            "latency_ms": self.latency_ms,
            "consistency_seconds": self.consistency_seconds,
            "actions": self.actions,
            "max_faults": self.max_faults,
            "seed": self.seed,
        }


def new_counters() -> dict[str, int]:
    return {"throttle": 0, "error": 0, "drop": 0, "consistency": 0, "hang": 0, "fail_after": 0}


@dataclass
class StubState:
    """Mutable, thread-safe state shared by all proxy handler threads."""

    moto_host: str
    moto_port: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    secrets: list[str] = field(default_factory=list)
    leaks: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    settings: FaultSettings = field(default_factory=FaultSettings)
    calls_since_fault_set: int = 0
    counters: dict[str, int] = field(default_factory=new_counters)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    # Released (and replaced) whenever the faults are set again.
    release: threading.Event = field(default_factory=threading.Event)
    held: dict[str, Any] | None = None
    # access key id -> (monotonic creation time, user), for eventual consistency.
    created_keys: dict[str, tuple[float, str]] = field(default_factory=dict)
    offset_days: float = 0.0
    traveller: Any = None
    rules: "AwsRules" = field(default_factory=lambda: AwsRules())  # pylint: disable=unnecessary-lambda
    # account -> the credential report AWS would hold (see rule_generate_credential_report).
    reports: dict[str, Any] = field(default_factory=dict)
    # access key id -> [(time, region, service)] of the requests it signed, while a last-used lag is set.
    key_uses: dict[str, list[tuple[float, str, str]]] = field(default_factory=dict)

    # Kept for callers of the first version of this API.
    @property
    def fail_after(self) -> int | None:
        return self.settings.fail_after

    @property
    def fault_mode(self) -> str:
        return self.settings.mode

    def record_secret(self, value: str) -> None:
        """Remember a secret so tests can later grep logs for it."""
        if value:
            with self.lock:
                self.secrets.append(value)

    def record_call(self, action: str, status: int | None, user: str | None = None,
                    fault: str | None = None, signer: str | None = None) -> None:
        """Append one AWS call to the log tests use to count calls.

        ``user`` is the UserName the call names, ``fault`` the fault injected
        into it, ``signer`` the access key id it was signed with.
        """
        entry: dict[str, Any] = {"action": action, "status": status}
        if user:
            entry["user"] = user
        if fault:
            entry["fault"] = fault
        if signer:
            entry["signer"] = signer
        with self.lock:
            self.calls.append(entry)

    def check_leaks(self, action: str, body: bytes) -> None:
        """Record a request outside the secret sinks whose body holds a known secret."""
        if action in SECRET_SINKS or not body:
            return
        raw = body.decode("utf-8", "replace")
        texts = (raw, unquote_plus(raw))
        with self.lock:
            for index, secret in enumerate(self.secrets):
                if secret and any(secret in text for text in texts):
                    self.leaks.append({"action": action, "secret_index": index})

    def next_call_fault(self, action: str = "") -> str | None:
        """Count one AWS call; return the fault to inject, if any.

        The ``fail_after`` budget comes first (every call after it fails);
        then one draw of the seeded random decides a rate fault, for the
        calls ``actions`` selects, until ``max_faults`` were injected.
        """
        with self.lock:
            settings = self.settings
            if settings.fail_after is not None:
                self.calls_since_fault_set += 1
                if self.calls_since_fault_set > settings.fail_after:
                    self.counters["fail_after"] += 1
                    return settings.mode
                return None
            if settings.actions is not None and action not in settings.actions:
                return None
            rates = [(name.split("_", maxsplit=1)[0], getattr(settings, name)) for name in RATE_FAULTS]
            if not any(rate for _name, rate in rates):
                return None
            if settings.max_faults is not None and self.injected() >= settings.max_faults:
                return None
            draw = self.rng.random()
            for name, rate in rates:
                if draw < rate:
                    self.counters[name] += 1
                    return name
                draw -= rate
            return None

    def injected(self) -> int:
        """Rate faults injected since the settings were made (lock held by the caller)."""
        return sum(self.counters[name] for name in ("throttle", "error", "drop"))

    def set_faults(self, fail_after: int | None = None, mode: str = "drop", **options: Any) -> dict[str, Any]:
        """Replace the fault settings (omitted ones are off); the budget restarts now.

        A request held by a ``hang`` mode is released (its connection is
        dropped without an answer).
        """
        with self.lock:
            self.settings = FaultSettings(fail_after=fail_after, mode=mode, **options)
            self.calls_since_fault_set = 0
            self.counters = new_counters()
            self.rng = random.Random(self.settings.seed)
            self.release.set()
            self.release = threading.Event()
            self.held = None
            return self._faults_view()

    def hold(self, action: str, user: str | None) -> threading.Event:
        """Register a held request; returns the event that releases it."""
        with self.lock:
            self.counters["hang"] += 1
            if self.held is None:
                self.held = {"action": action, "user": user, "call": len(self.calls),
                             "since": time.time()}
            return self.release

    def faults(self) -> dict[str, Any]:
        """Current fault settings, as reported by the control API."""
        with self.lock:
            return self._faults_view()

    def _faults_view(self) -> dict[str, Any]:
        view = self.settings.view()
        view.update(calls_since_set=self.calls_since_fault_set, injected=dict(self.counters),
                    held=dict(self.held) if self.held else None)
        return view

    def key_created(self, access_key_id: str, user: str | None) -> None:
        """Remember when a key was created, for eventual consistency."""
        with self.lock:
            self.created_keys[access_key_id] = (time.monotonic(), user or "")

    def too_young(self, signing_key: str | None) -> bool:
        """Whether a request signed with this key falls in the consistency window."""
        if not signing_key:
            return False
        with self.lock:
            window = self.settings.consistency_seconds
            created = self.created_keys.get(signing_key)
            if not window or created is None or time.monotonic() - created[0] >= window:
                return False
            self.counters["consistency"] += 1
            return True

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

    def forget_keys(self) -> None:
        """Forget the creation times of keys (moto's keys are gone after a reset)."""
        with self.lock:
            self.created_keys.clear()

    def forget_aws_memory(self) -> None:
        """Forget credential reports and key uses (moto's are gone after a reset)."""
        with self.lock:
            self.reports.clear()
            self.key_uses.clear()

    def record_use(self, authorization: str) -> None:
        """Remember that a key signed a request now (with its region and service), for the last-used lag.

        Only the uses a lag still hides are kept, plus the newest one it no longer hides.
        """
        match = CREDENTIAL_SCOPE.search(authorization)
        if not match:
            return
        key_id, region, service = match.groups()
        now = time.time()
        with self.lock:
            cutoff = now - self.rules.last_used_lag_seconds
            uses = self.key_uses.setdefault(key_id, [])
            uses.append((now, region, service))
            shown = [use for use in uses if use[0] <= cutoff]
            uses[:] = shown[-1:] + [use for use in uses if use[0] > cutoff]

    def lagged_use(self, key_id: str, cutoff: float) -> tuple[bool, tuple[float, str, str] | None]:
        """(whether uses of the key were counted, the newest use at or before cutoff or None)."""
        with self.lock:
            uses = list(self.key_uses.get(key_id, ()))
        shown = [use for use in uses if use[0] <= cutoff]
        return bool(uses), (shown[-1] if shown else None)


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


def error_body(headers: Any, code: str, message: str, json_code: str | None = None) -> tuple[bytes, str]:
    """An AWS-shaped error in the request's protocol: JSON for X-Amz-Target services, else query XML."""
    if headers.get("X-Amz-Target"):
        body = {"__type": json_code or code, "message": message}
        return json.dumps(body).encode(), "application/x-amz-json-1.1"
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{html.escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return xml.encode(), "text/xml"


def fault_response_body(headers: Any) -> tuple[bytes, str]:
    """Build an AWS-shaped InternalFailure error matching the request's protocol."""
    return error_body(headers, "InternalFailure", "Injected fault")


# fault -> (HTTP status, query-protocol code, message, JSON-protocol code)
INJECTED_ERRORS = {
    "error": (500, "InternalFailure", "Injected fault", "InternalFailure"),
    "throttle": (400, "Throttling", "Rate exceeded", "ThrottlingException"),
    "consistency": (403, "InvalidClientTokenId", "The security token included in the request is invalid.",
                    "UnrecognizedClientException"),
}


def signing_key_id(headers: Any) -> str | None:
    """The access key id a SigV4 request is signed with (Authorization: ... Credential=AKIA.../...)."""
    match = SIGNING_KEY.search(headers.get("Authorization", ""))
    return match.group(1) if match else None


def created_key_ids(body: bytes, content_encoding: str) -> list[str]:
    """The access key ids in a CreateAccessKey response (XML or JSON)."""
    if content_encoding.lower() == "gzip":
        body = gzip.decompress(body)
    found = ACCESS_KEY_ID_XML.findall(body) + ACCESS_KEY_ID_JSON.findall(body)
    return [value.decode("utf-8", "replace") for value in found]


# -- AWS behaviour moto does not model --------------------------------------
#
# Where moto accepts what AWS refuses, or answers at once what AWS answers
# later, a test that passes on moto proves nothing.  The proxy models AWS for
# the few actions concerned: AWS_RULES maps an action to the function that
# answers it, so every other call pays one dict lookup and nothing else.
# Each rule cites the AWS documentation it follows.

SECONDS_PER_HOUR = 3600.0
# Bounds of the rule settings, so a typo cannot wedge a test run.
MAX_RULE_SECONDS = 7 * 86400.0

# SSM: "Parameter names can consist of the following symbols and letters
# only: a-zA-Z0-9_.-/", "the hierarchy can have a maximum depth of fifteen
# levels", "The maximum length for the fully qualified parameter name you
# specify is 1011 characters" and (API reference, GetParameter Name) 2048 for
# a name given as an ARN.  AWS Systems Manager User Guide, "Requirements and
# constraints for parameter names",
# https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html
# moto 5.2.5 already refuses the "aws"/"ssm" prefixes; it accepts @ + = , and
# spaces (which IAM user names, or typos, bring), deeper hierarchies and longer names.
SSM_NAME_CHARACTERS = re.compile(r"[a-zA-Z0-9_.\-/]+")
SSM_MAX_DEPTH = 15
SSM_MAX_NAME = 1011
SSM_MAX_ARN = 2048
SSM_NAME_ACTIONS = frozenset({"PutParameter", "GetParameter", "DeleteParameter", "GetParameterHistory",
                              "LabelParameterVersion", "UnlabelParameterVersion"})
# The message AWS sends for a name outside those characters (as AWS SDK users
# quote it, e.g. aws-amplify/amplify-backend#2352).
SSM_BAD_NAME_MESSAGE = ('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as '
                        "a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed "
                        "as a mix of letters, numbers and the following 3 symbols .-_")
# PutParameter's documented error for a deeper hierarchy (SSM API reference,
# PutParameter, Errors: HierarchyLevelLimitExceededException).
SSM_DEPTH_MESSAGE = ("A hierarchy can have a maximum of 15 levels. For more information, see Requirements and "
                     "constraints for parameter names in the AWS Systems Manager User Guide.")

# Secrets Manager: "The secret name can contain ASCII letters, numbers, and
# the following characters: /_+=.@-" (Secrets Manager API reference,
# CreateSecret, Name; Length Constraints: maximum length of 512).
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
# Of the characters an IAM user name may hold (letters, digits and +=,.@_-,
# IAM User Guide, "IAM and AWS STS quotas"), the comma is refused.  moto
# 5.2.5 accepts any name.  Only CreateSecret names a secret: the other actions
# take a SecretId, and a name that cannot be created is simply not found.
SECRET_NAME_CHARACTERS = re.compile(r"[a-zA-Z0-9/_+=.@\-]+")
SECRET_MAX_NAME = 512
SECRET_BAD_NAME_MESSAGE = ("Invalid name. Must be a valid name containing alphanumeric characters, or any of the "
                           "following: -/_+=.@!")

# IAM: "Tags per IAM user: 50" (IAM User Guide, "IAM and AWS STS quotas",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
# a tag key is 1-128 characters, a value 0-256 (IAM API reference, Tag data
# type, https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html).
# TagUser: "If any one of the tags is invalid or if you exceed the allowed
# maximum number of tags, then the entire request fails"; its documented
# errors are LimitExceeded (HTTP 409, the code the 2-keys quota also uses) and
# InvalidInput (IAM API reference, TagUser,
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagUser.html).
# A request listing more than 50 tags breaks the API's own constraint (IAM API
# reference, CreateUser and TagUser, Tags: "Array Members: Maximum number of
# 50 items"; botocore's model: tagListType max 50): a ValidationError before
# any quota is looked at, as moto answers it for roles.  moto 5.2.5 checks
# none of this for users.
MAX_USER_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
# The characters of a tag key and value: "Pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+" (key) and "...*" (value): Unicode
# letters, separators and numbers, and _ . : / = + - @ (IAM API reference, Tag data type, same page as above);
# no ";" or ",".  moto 5.2.5 stores any character.  unicodedata's general categories stand for \p{L}, \p{Z}, \p{N}.
TAG_PATTERN_TEXT = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]"
TAG_PUNCTUATION = frozenset("_.:/=+-@")
TAG_QUOTA_MESSAGE = f"Cannot exceed quota for TagsPerUser: {MAX_USER_TAGS}"

IAM_XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"


@dataclass
class AwsRules:
    """Which AWS behaviour the proxy models; one POST to /_stub/aws-rules replaces it.

    ``names`` (SSM parameter and Secrets Manager secret names) and ``tags``
    (IAM user tag quota and sizes) are plain AWS validation, on by default.
    The credential report is AWS's state machine: ready ``report_delay_seconds``
    after a generation starts, served again (not regenerated) for
    ``report_reuse_seconds`` (AWS: 4 hours); both 0 come closest to moto.
    ``last_used_lag_seconds`` (default 0: moto's exactness) hides a key's uses
    younger than that from GetAccessKeyLastUsed.  ``assume_role_requires_role``
    refuses AssumeRole of a role that does not exist; off by default because
    integration targets and the demo assume roles in 222222222222 that they
    never create.
    """

    names: bool = True
    tags: bool = True
    report_delay_seconds: float = 0.5
    report_reuse_seconds: float = 4 * SECONDS_PER_HOUR
    last_used_lag_seconds: float = 0.0
    assume_role_requires_role: bool = False

    def view(self) -> dict[str, Any]:
        return asdict(self)


AWS_RULE_NAMES = tuple(setting.name for setting in fields(AwsRules))


@dataclass
class Refusal:
    """An error AWS answers instead of doing the call."""

    status: int
    code: str
    message: str


def json_params(body: bytes) -> dict[str, Any]:
    """The parameters of a JSON-protocol request (empty when the body is not a JSON object)."""
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def ssm_name_refusal(name: Any, action: str) -> Refusal | None:
    """How AWS refuses an SSM parameter name, or None when AWS accepts it."""
    if not isinstance(name, str) or not name:
        return None  # botocore refuses a missing name before sending
    if name.startswith("arn:") and action != "PutParameter":
        if len(name) > SSM_MAX_ARN:
            return Refusal(400, "ValidationException", f"Parameter name exceeds {SSM_MAX_ARN} characters.")
        name = name.split(":parameter", 1)[-1]
    elif len(name) > SSM_MAX_NAME:
        return Refusal(400, "ValidationException",
                       f"Parameter name: {len(name)} characters exceeds the maximum of {SSM_MAX_NAME}.")
    if not SSM_NAME_CHARACTERS.fullmatch(name):
        return Refusal(400, "ValidationException", SSM_BAD_NAME_MESSAGE)
    if action == "PutParameter" and len([part for part in name.split("/") if part]) > SSM_MAX_DEPTH:
        return Refusal(400, "HierarchyLevelLimitExceededException", SSM_DEPTH_MESSAGE)
    return None


def secret_name_refusal(name: Any) -> Refusal | None:
    """How AWS refuses a Secrets Manager secret name, or None when AWS accepts it."""
    if not isinstance(name, str) or not name:
        return None
    if len(name) > SECRET_MAX_NAME:
        return Refusal(400, "ValidationException",
                       f"1 validation error detected: Value at 'name' failed to satisfy constraint: "
                       f"Member must have length less than or equal to {SECRET_MAX_NAME}")
    if not SECRET_NAME_CHARACTERS.fullmatch(name):
        return Refusal(400, "ValidationException", SECRET_BAD_NAME_MESSAGE)
    return None


def requested_tags(params: dict[str, str]) -> dict[str, str]:
    """Tags.member.N.Key/Value of a query-protocol request, as key -> value."""
    tags: dict[str, str] = {}
    number = 1
    while f"Tags.member.{number}.Key" in params:
        tags[params[f"Tags.member.{number}.Key"]] = params.get(f"Tags.member.{number}.Value", "")
        number += 1
    return tags


def tag_refusal(tags: dict[str, str], member_count: int) -> Refusal | None:
    """The validation AWS applies to the tags of one CreateUser/TagUser request."""
    if member_count > MAX_USER_TAGS:
        return Refusal(400, "ValidationError",
                       "1 validation error detected: Value at 'tags' failed to satisfy constraint: "
                       f"Member must have length less than or equal to {MAX_USER_TAGS}.")
    for key, value in tags.items():
        if len(key) > MAX_TAG_KEY:
            return Refusal(400, "ValidationError",
                           f"1 validation error detected: Value '{key}' at 'tags.X.member.key' failed to satisfy "
                           f"constraint: Member must have length less than or equal to {MAX_TAG_KEY}.")
        if len(value) > MAX_TAG_VALUE:
            return Refusal(400, "ValidationError",
                           "1 validation error detected: Value at 'tags.X.member.value' failed to satisfy "
                           f"constraint: Member must have length less than or equal to {MAX_TAG_VALUE}.")
    for number, (key, value) in enumerate(tags.items(), 1):
        for part, text, repeat in (("key", key, "+"), ("value", value, "*")):
            if not tag_characters_allowed(text):
                return Refusal(400, "ValidationError",
                               f"1 validation error detected: Value '{text}' at 'tags.{number}.member.{part}' failed "
                               "to satisfy constraint: Member must satisfy regular expression pattern: "
                               f"{TAG_PATTERN_TEXT}{repeat}")
    return None


def tag_characters_allowed(text: str) -> bool:
    """Whether every character of a tag key or value is one IAM allows (see TAG_PATTERN_TEXT)."""
    return all(char in TAG_PUNCTUATION or unicodedata.category(char)[0] in "LZN" for char in text)


def moto_account(headers: Any, signer: str | None) -> str:
    """The account moto serves a request from (the order of moto's BaseResponse.get_current_account)."""
    from moto.iam.models import get_account_id_from  # pylint: disable=import-outside-toplevel

    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if headers.get("x-moto-account-id"):
        return headers["x-moto-account-id"]
    return get_account_id_from(signer or "")


def moto_iam(account: str) -> Any:
    """moto's IAM backend of an account (IAM is global: one backend per partition)."""
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    return iam_backends[account]["global"]


def existing_tag_keys(account: str, user_name: str) -> set[str] | None:
    """The tag keys a user holds now, or None when there is no such user (moto answers that)."""
    backend = moto_iam(account)
    user = backend.users.get(user_name)
    if user is None:
        return None
    return {tag["Key"] for tag in backend.tagger.list_tags_for_resource(user.arn)["Tags"]}


def iam_time(epoch: float) -> str:
    """A timestamp as IAM writes it in XML answers."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@dataclass
class CredentialReport:
    """One account's credential report as AWS would hold it."""

    started: float
    ready: float
    content: str
    generated_time: str


def xml_text(value: str) -> str:
    return html.escape(value, quote=False)


def query_answer(action: str, result: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """A successful IAM/STS query-protocol answer built by the proxy."""
    xml = (f'<{action}Response xmlns="{IAM_XMLNS}"><{action}Result>{result}</{action}Result>'
           f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>")
    return 200, [("Content-Type", "text/xml")], xml.encode()


def rule_ssm_name(proxy: "ProxyHandler", action: str, body: bytes, signer: str | None) -> Any:
    """SSM parameter names: AWS's characters, depth and length (see SSM_NAME_CHARACTERS)."""
    if not proxy.state.rules.names:
        return None
    return proxy.refuse(ssm_name_refusal(json_params(body).get("Name"), action))


def rule_secret_name(proxy: "ProxyHandler", action: str, body: bytes, signer: str | None) -> Any:
    """Secrets Manager names: AWS's characters and length (see SECRET_NAME_CHARACTERS)."""
    if not proxy.state.rules.names:
        return None
    return proxy.refuse(secret_name_refusal(json_params(body).get("Name")))


def rule_user_tags(proxy: "ProxyHandler", action: str, body: bytes, signer: str | None) -> Any:
    """IAM user tags: 50 per user, key and value lengths (see MAX_USER_TAGS).

    TagUser overwrites a key the user already has, so only new keys count
    against the quota; the user's current keys are read from moto in-process
    (no extra call).
    """
    if not proxy.state.rules.tags:
        return None
    params = request_params(proxy.path, proxy.headers, body)
    tags = requested_tags(params)
    members = sum(1 for name in params if name.startswith("Tags.member.") and name.endswith(".Key"))
    refusal = tag_refusal(tags, members)
    if refusal is None and action == "TagUser" and tags:
        existing = existing_tag_keys(moto_account(proxy.headers, signer), params.get("UserName", ""))
        if existing is not None and len(existing | set(tags)) > MAX_USER_TAGS:
            refusal = Refusal(409, "LimitExceeded", TAG_QUOTA_MESSAGE)
    return proxy.refuse(refusal)

# IAM credential report: "GenerateCredentialReport ... answers STARTED,
# INPROGRESS or COMPLETE" (IAM API reference, GenerateCredentialReport,
# ReportStateType); GetCredentialReport answers ReportInProgress (HTTP 404)
# while the report is being generated, ReportNotPresent (HTTP 410) before one
# was generated and ReportExpired (HTTP 410) once it is too old (IAM API
# reference, GetCredentialReport, Errors).  "If the existing credential report
# is less than four hours old, IAM returns that report.  Otherwise, IAM
# generates a new report": "you can generate a new report at most every four
# hours" (IAM User Guide, "Generate credential reports for your AWS account",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html).
# moto 5.2.5 answers COMPLETE from the second call on, builds the report anew
# at every GetCredentialReport (so it is never stale) and gives every report
# the GeneratedTime 2015-02-02T20:02:02Z.  The proxy keeps, per account, the
# content moto builds when a generation starts, serves it once
# ``report_delay_seconds`` passed, with the real GeneratedTime, and serves the
# same report until ``report_reuse_seconds`` passed.
# A quirk of moto left as it is: the report's password_last_changed is always
# the user's creation time (moto's User.to_csv), not when the password changed.


REPORT_STARTED = "No report exists. Starting a new report generation task"
REPORT_IN_PROGRESS = "The request was rejected because the credential report is still being generated."
REPORT_NOT_PRESENT = ("The request was rejected because the credential report does not exist. To generate a "
                      "credential report, use GenerateCredentialReport.")
REPORT_EXPIRED = ("The request was rejected because the most recent credential report has expired. To generate "
                  "a new credential report, use GenerateCredentialReport.")

# GetAccessKeyLastUsed lags on AWS: IAM's activity tracking is not
# instantaneous; "Recent activity usually appears within 4 hours" (IAM User
# Guide, "Refine permissions in AWS using last accessed information",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html).
# The API reference of GetAccessKeyLastUsed and AccessKeyLastUsed states no
# delay either way, so the lag is a setting, 0 by default (moto's exactness:
# moto records a use at the very request).  With ``last_used_lag_seconds`` the
# proxy answers the newest use at least that old (or none: no LastUsedDate,
# ServiceName and Region "N/A"), with the region and service of that use.
# The proxy counts uses from the moment a lag is set.

# STS AssumeRole of a role that does not exist: AWS refuses it with
# AccessDenied, "User: <caller> is not authorized to perform: sts:AssumeRole
# on resource: <role>" (IAM User Guide, "Troubleshoot IAM roles": "I can't
# assume a role", https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_roles.html).
# moto 5.2.5 grants it ("the role does not need to exist", moto's STSBackend.assume_role).
ASSUME_ROLE_DENIED = "User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role}"


def report_view(report: "CredentialReport") -> str:
    content = base64.b64encode(report.content.encode()).decode()
    return (f"<Content>{content}</Content><ReportFormat>text/csv</ReportFormat>"
            f"<GeneratedTime>{report.generated_time}</GeneratedTime>")


def rule_generate_credential_report(proxy: "ProxyHandler", action: str, body: bytes, signer: str | None) -> Any:
    """STARTED (a new generation), INPROGRESS (until ready), COMPLETE (ready, reused for report_reuse_seconds)."""
    rules = proxy.state.rules
    account = moto_account(proxy.headers, signer)
    now = time.time()
    with proxy.state.lock:
        report = proxy.state.reports.get(account)
    if report is not None and now < report.ready:
        return query_answer(action, f"<State>INPROGRESS</State><Description>{REPORT_IN_PROGRESS}</Description>")
    if report is not None and now - report.started < rules.report_reuse_seconds:
        return query_answer(action, "<State>COMPLETE</State>")
    status, headers, payload = proxy.forward(body)
    if status != 200:
        return status, headers, payload
    fresh = CredentialReport(started=now, ready=now + rules.report_delay_seconds,
                             content=moto_iam(account).get_credential_report(), generated_time=iam_time(now))
    with proxy.state.lock:
        proxy.state.reports[account] = fresh
    return query_answer(action, f"<State>STARTED</State><Description>{REPORT_STARTED}</Description>")


def rule_get_credential_report(proxy: "ProxyHandler", action: str, body: bytes, signer: str | None) -> Any:
    """The report generated last, once ready; AWS's errors before that and once it expired."""
    rules = proxy.state.rules
    account = moto_account(proxy.headers, signer)
    now = time.time()
    with proxy.state.lock:
        report = proxy.state.reports.get(account)
    if report is None:
        return proxy.refuse(Refusal(410, "ReportNotPresent", REPORT_NOT_PRESENT))
    if now < report.ready:
        return proxy.refuse(Refusal(404, "ReportInProgress", REPORT_IN_PROGRESS))
    if rules.report_reuse_seconds and now - report.started >= rules.report_reuse_seconds:
        return proxy.refuse(Refusal(410, "ReportExpired", REPORT_EXPIRED))
    return query_answer(action, report_view(report))


LAST_USED_BLOCK = re.compile(rb"<AccessKeyLastUsed>.*?</AccessKeyLastUsed>", re.DOTALL)


def rule_access_key_last_used(proxy: "ProxyHandler", action: str, body: bytes, signer: str | None) -> Any:
    """moto's answer, its last use replaced by the newest use the lag no longer hides.

    Only keys whose uses the proxy counted (since the lag was set) are
    rewritten; errors (NoSuchEntity) stay moto's.
    """
    lag = proxy.state.rules.last_used_lag_seconds
    if not lag:
        return None
    key_id = request_params(proxy.path, proxy.headers, body).get("AccessKeyId", "")
    status, headers, payload = proxy.forward(body)
    counted, visible = proxy.state.lagged_use(key_id, time.time() - lag)
    if status != 200 or not counted:
        return status, headers, payload
    if visible is None:
        block = "<AccessKeyLastUsed><ServiceName>N/A</ServiceName><Region>N/A</Region></AccessKeyLastUsed>"
    else:
        used_at, region, service = visible
        block = (f"<AccessKeyLastUsed><LastUsedDate>{iam_time(used_at)}</LastUsedDate>"
                 f"<ServiceName>{xml_text(service)}</ServiceName><Region>{xml_text(region)}</Region>"
                 "</AccessKeyLastUsed>")
    return status, headers, LAST_USED_BLOCK.sub(block.encode(), payload, count=1)


def caller_arn(account: str, signer: str | None) -> str:
    """The ARN GetCallerIdentity would answer for the signer."""
    from moto.sts.models import sts_backends  # pylint: disable=import-outside-toplevel

    return sts_backends[account]["aws"].get_caller_identity(signer or "", "us-east-1")[1]


def rule_assume_role(proxy: "ProxyHandler", action: str, body: bytes, signer: str | None) -> Any:
    """AccessDenied for a role the target account does not have (assume_role_requires_role)."""
    if not proxy.state.rules.assume_role_requires_role:
        return None
    role_arn = request_params(proxy.path, proxy.headers, body).get("RoleArn", "")
    parts = role_arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("role/") and role_exists(parts[4], role_arn):
        return None
    caller = caller_arn(moto_account(proxy.headers, signer), signer)
    return proxy.refuse(Refusal(403, "AccessDenied", ASSUME_ROLE_DENIED.format(caller=caller, role=role_arn)))


def role_exists(account: str, role_arn: str) -> bool:
    return any(role.arn == role_arn for role in moto_iam(account).roles.values())


# Secrets Manager labels: PutSecretValue "moves the staging label AWSCURRENT
# to this version" and AWSPREVIOUS to the version AWSCURRENT was removed from
# (Secrets Manager API reference, PutSecretValue, VersionStages), wherever
# AWSCURRENT is.  moto 5.2.5 moves them from the version it last made current
# itself (FakeSecret.default_version_id), which UpdateSecretVersionStage does
# not update: after AWSCURRENT was moved back to an older version, the next
# PutSecretValue leaves two versions labelled AWSCURRENT, and GetSecretValue
# of AWSCURRENT answers the older one.  After a successful
# UpdateSecretVersionStage the proxy points moto at the version that carries
# AWSCURRENT now.


# The region of a SigV4 request, whatever its key id looks like.
SIGNING_REGION = re.compile(r"Credential=[^/,]+/[0-9]+/([^/]+)/")


def rule_secret_version_stage(proxy: "ProxyHandler", action: str, body: bytes, signer: str | None) -> Any:
    """Forward to moto, then keep moto's idea of the current version where AWSCURRENT is."""
    answer = proxy.forward(body)
    if answer[0] != 200:
        return answer
    scope = SIGNING_REGION.search(proxy.headers.get("Authorization", ""))
    secret_id = json_params(body).get("SecretId", "")
    if scope is None or not secret_id:
        return answer
    from moto.secretsmanager.models import secretsmanager_backends  # pylint: disable=import-outside-toplevel

    backend = secretsmanager_backends[moto_account(proxy.headers, signer)][scope.group(1)]
    # moto's store finds a secret by name or ARN through [] only.
    secret = backend.secrets[secret_id] if backend._is_valid_identifier(secret_id) else None  # pylint: disable=protected-access
    if secret is not None:
        for version_id, version in secret.versions.items():
            if "AWSCURRENT" in version["version_stages"]:
                secret.default_version_id = version_id
    return answer


AWS_RULES = {
    **{action: rule_ssm_name for action in SSM_NAME_ACTIONS},
    "UpdateSecretVersionStage": rule_secret_version_stage,
    "CreateSecret": rule_secret_name,
    "CreateUser": rule_user_tags,
    "TagUser": rule_user_tags,
    "GenerateCredentialReport": rule_generate_credential_report,
    "GetCredentialReport": rule_get_credential_report,
    "GetAccessKeyLastUsed": rule_access_key_last_used,
    "AssumeRole": rule_assume_role,
}


class ProxyHandler(BaseHTTPRequestHandler):
    """Relays AWS calls to moto and serves the ``/_stub/`` control API."""

    protocol_version = "HTTP/1.1"
    # Bounds how long an idle keep-alive connection holds a thread.
    timeout = 120
    server: "StubProxyServer"

    def setup(self) -> None:
        """Answers leave in one write on a TCP_NODELAY socket (see ``send_bytes``)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

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
        user = request_params(self.path, self.headers, body).get("UserName")
        signer = signing_key_id(self.headers)
        self.record_request_secrets(action, body)
        self.state.check_leaks(action, body)
        settings = self.state.settings
        if settings.latency_ms:
            time.sleep(settings.latency_ms / 1000.0)
        fault = self.state.next_call_fault(action)
        if fault is None and self.state.too_young(signer):
            fault = "consistency"
        if fault == "hang":
            self.hold(action, user, signer)
            return
        if fault == "drop" and (settings.fail_after is not None or settings.drop_phase == "request"):
            LOG.info("dropping connection for %s", action)
            self.state.record_call(action, None, user, fault, signer)
            self.close_connection = True
            return
        if fault in INJECTED_ERRORS:
            status, code, message, json_code = INJECTED_ERRORS[fault]
            LOG.info("failing %s with %s", action, code)
            self.state.record_call(action, status, user, fault, signer)
            payload, content_type = error_body(self.headers, code, message, json_code)
            self.send_local(status, content_type, payload)
            return
        status, headers, payload = self.answer(action, body, signer)
        if action == "CreateAccessKey" and status == 200:
            encoding = header_value(headers, "Content-Encoding") or ""
            for secret in secrets_in_response(payload, encoding):
                self.state.record_secret(secret)
            for key_id in created_key_ids(payload, encoding):
                self.state.key_created(key_id, user)
        if fault == "hang-response":
            self.hold(action, user, signer, status)
            return
        if fault == "drop":
            LOG.info("dropping the answer of %s", action)
            self.state.record_call(action, status, user, "drop-response", signer)
            self.close_connection = True
            return
        self.state.record_call(action, status, user, signer=signer)
        self.send_bytes(status, headers, payload)

    def answer(self, action: str, body: bytes, signer: str | None) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer as AWS would: moto's answer, unless an AWS rule answers this action itself."""
        rule = AWS_RULES.get(action)
        if rule is not None:
            try:
                answered = rule(self, action, body, signer)
            # A broken rule must show, not hang the client.
            except Exception as exc:  # pylint: disable=broad-except
                LOG.exception("AWS rule for %s failed", action)
                answered = self.refuse(Refusal(500, "InternalFailure", f"aws_stub rule for {action} failed: {exc!r}"))
            if answered is not None:
                return answered
        return self.forward(body)

    def refuse(self, refusal: Refusal | None) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The AWS-shaped error answer of a refusal (None: no refusal, the call goes on)."""
        if refusal is None:
            return None
        payload, content_type = error_body(self.headers, refusal.code, refusal.message)
        return refusal.status, [("Content-Type", content_type), ("Date", self.date_time_string())], payload

    def hold(self, action: str, user: str | None, signer: str | None = None, status: int | None = None) -> None:
        """Keep the request open until the faults are set again, then drop the connection unanswered."""
        LOG.info("holding %s", action)
        self.state.record_call(action, status, user, "hang" if status is None else "hang-response", signer)
        self.state.hold(action, user).wait(MAX_HOLD_SECONDS)
        self.close_connection = True

    def record_request_secrets(self, action: str, body: bytes) -> None:
        """Remember passwords sent to CreateLoginProfile/UpdateLoginProfile."""
        if action in PASSWORD_ACTIONS:
            password = request_params(self.path, self.headers, body).get("Password")
            if password:
                self.state.record_secret(password)

    def forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request to moto and return its status, headers and body.

        A new connection per call: moto's werkzeug server closes every
        connection after its answer (it has no HTTP keep-alive).
        """
        if self.state.rules.last_used_lag_seconds:
            self.state.record_use(self.headers.get("Authorization", ""))
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
        size the matching GET would have) is relayed instead.  The head and
        the body leave in one write: in two small writes the second one waits
        for the client's delayed ACK of the first (Nagle), about 40 ms a call
        on a kept-alive connection.
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
        buffered = getattr(self, "_headers_buffer", [])  # http.server's pending head (none for HTTP/0.9)
        head = b"".join(buffered) + b"\r\n" if buffered else b""
        self._headers_buffer = []
        self.wfile.write(head + payload if self.command != "HEAD" and payload else head)
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


def _number(request: dict[str, Any], name: str, low: float, high: float, integer: bool = False) -> Any:
    """A bounded number from the request (0 when absent)."""
    value = request.get(name, 0)
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise ValueError(f"{name} must be a {'whole ' if integer else ''}number from {low} to {high}")
    return value


def control_set_faults(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """POST /_stub/faults: replace the fault settings (see the module docstring)."""
    known = {"fail_after", "mode", "drop_phase", "actions", "max_faults", "seed", "latency_ms",
             "consistency_seconds", *RATE_FAULTS}
    unknown = sorted(set(request) - known)
    if unknown:
        raise ValueError(f"unknown fault settings {unknown}")
    fail_after = request.get("fail_after")
    mode = request.get("mode", "drop")
    if mode not in FAULT_MODES:
        raise ValueError(f"mode must be one of {FAULT_MODES}")
    if fail_after is not None:
        if isinstance(fail_after, bool) or not isinstance(fail_after, int) or fail_after < 0:
            raise ValueError("fail_after must be a non-negative integer or null")
    options: dict[str, Any] = {name: float(_number(request, name, 0, 1)) for name in RATE_FAULTS}
    if sum(options.values()) > 1:
        raise ValueError("the rates must add up to 1 at most")
    options["drop_phase"] = request.get("drop_phase", "request")
    if options["drop_phase"] not in DROP_PHASES:
        raise ValueError(f"drop_phase must be one of {DROP_PHASES}")
    options["latency_ms"] = _number(request, "latency_ms", 0, MAX_LATENCY_MS, integer=True)
    options["consistency_seconds"] = float(_number(request, "consistency_seconds", 0, MAX_CONSISTENCY_SECONDS))
    options["seed"] = _number(request, "seed", -(2**31), 2**31, integer=True)
    actions = request.get("actions")
    if actions is not None and (not isinstance(actions, list) or not all(isinstance(a, str) for a in actions)):
        raise ValueError("actions must be a list of action names or null")
    options["actions"] = actions
    max_faults = request.get("max_faults")
    if max_faults is not None:
        max_faults = _number(request, "max_faults", 0, 10**6, integer=True)
    options["max_faults"] = max_faults
    return state.set_faults(fail_after, mode, **options)


def control_get_faults(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """GET /_stub/faults."""
    return state.faults()


def control_set_rules(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """POST /_stub/aws-rules: replace the AWS rules; an omitted setting takes its default."""
    unknown = sorted(set(request) - set(AWS_RULE_NAMES))
    if unknown:
        raise ValueError(f"unknown AWS rules {unknown}")
    defaults = AwsRules()
    settings: dict[str, Any] = {}
    for name in AWS_RULE_NAMES:
        default = getattr(defaults, name)
        value = request.get(name, default)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
            settings[name] = value
        else:
            settings[name] = float(_number({name: value}, name, 0, MAX_RULE_SECONDS))
    with state.lock:
        state.rules = AwsRules(**settings)
        return state.rules.view()


def control_get_rules(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """GET /_stub/aws-rules."""
    with state.lock:
        return state.rules.view()


def control_calls(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """GET /_stub/calls."""
    with state.lock:
        return {"calls": list(state.calls)}


def control_leaks(state: StubState, request: dict[str, Any]) -> dict[str, Any]:
    """GET /_stub/leaks: requests outside the secret sinks that carried a recorded secret."""
    with state.lock:
        return {"leaks": list(state.leaks)}


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

    Secrets and leaks are kept on purpose: a test may reset AWS and still need to check
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
    control_set_rules(state, {})
    state.set_clock(0.0)
    state.reset_calls()
    state.forget_keys()
    state.forget_aws_memory()
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
    ("GET", "leaks"): control_leaks,
    ("POST", "reset"): control_reset,
    ("GET", "aws-rules"): control_get_rules,
    ("POST", "aws-rules"): control_set_rules,
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


# -- moto's own server ------------------------------------------------------
#
# moto.server.ThreadedMotoServer, built here with three changes that keep
# every answer the same and take per-call work off moto's one process (every
# test and benchmark call pays it; see docs/performance.md):
#
# * moto's dispatcher lists moto's package directory (an os.path.isdir of
#   each of its ~250 entries) to map a request's host to a backend, for every
#   request and under a lock all handler threads share.  The answer depends
#   only on the host string and the installed moto, so it is remembered.
# * accepted sockets get TCP_NODELAY: werkzeug writes an answer's head and
#   body in two writes, and the second one must not wait for the client's
#   ACK of the first (Nagle).  (werkzeug closes every connection after its
#   answer, so each call is a new connection and a new handler thread.)
# * werkzeug's access log line per request is skipped unless --verbose.


def make_moto_server(verbose: bool = False) -> Any:
    """A threaded werkzeug server for moto's app on 127.0.0.1, a free port."""
    from moto.moto_server.werkzeug_app import (  # pylint: disable=import-outside-toplevel
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server  # pylint: disable=import-outside-toplevel

    class Dispatcher(DomainDispatcherApplication):
        """moto's dispatcher; the host -> backend answer is computed once per host."""

        def __init__(self) -> None:
            super().__init__(create_backend_app)
            self.backend_for_host: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            # Called with self.lock held (DomainDispatcherApplication.get_application).
            if host not in self.backend_for_host:
                self.backend_for_host[host] = super().get_backend_for_host(host)
            return self.backend_for_host[host]

    class RequestHandler(MotoRequestHandler):
        """moto's request handler on a TCP_NODELAY socket, with the access log off unless verbose."""

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        if not verbose:
            def log_request(self, code: Any = "-", size: Any = "-") -> None:
                pass

    return make_server("127.0.0.1", 0, Dispatcher(), threaded=True, request_handler=RequestHandler)


def index_moto_access_keys() -> None:
    """Let moto find a user's access key by id without scanning every user of every account.

    moto 5's ``IAMBackend.get_access_key_last_used`` (GetAccessKeyLastUsed)
    builds the list of all access keys of all users of all accounts for every
    call, and ``get_user_from_access_key_id`` (STS GetCallerIdentity signed
    with a user's key) walks every user of the account: with thousands of
    users that scan is most of the call.  moto already keeps each account's
    keys in a dict by id (``IAMBackend.access_keys``); these replacements look
    there first, check that the key is still on its user's list (exactly what
    the scan would find), and fall back to moto's own scan when the dict does
    not have it, so every answer, error included, stays moto's.
    """
    from moto.iam import models  # pylint: disable=import-outside-toplevel

    backend_class = models.IAMBackend
    if getattr(backend_class, "_rotator_indexed", False):
        return
    scan_last_used = backend_class.get_access_key_last_used
    scan_user_of_key = backend_class.get_user_from_access_key_id

    def user_key(backend: Any, access_key_id: str) -> tuple[Any, Any] | None:
        key = backend.access_keys.get(access_key_id)
        if key is None or key.user_name is None:
            return None
        user = backend.users.get(key.user_name)
        if user is None or not any(own is key for own in user.access_keys):
            return None
        return user, key

    def get_access_key_last_used(self: Any, access_key_id: str) -> dict[str, Any]:
        for account in list(models.iam_backends.values()):
            found = user_key(account[self.partition], access_key_id)
            if found is not None:
                key = found[1]
                return {"user_name": key.user_name, "last_used": key.last_used}
        return scan_last_used(self, access_key_id)

    def get_user_from_access_key_id(self: Any, access_key_id: str) -> Any:
        found = user_key(self, access_key_id)
        if found is not None:
            return found[0]
        return scan_user_of_key(self, access_key_id)

    backend_class.get_access_key_last_used = get_access_key_last_used
    backend_class.get_user_from_access_key_id = get_user_from_access_key_id
    backend_class._rotator_indexed = True


def run(state_file: str, verbose: bool = False) -> None:
    """Start moto and the proxy, publish the state file, serve until signalled."""
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())

    index_moto_access_keys()
    moto = make_moto_server(verbose)
    moto_thread = threading.Thread(target=moto.serve_forever, name="moto", daemon=True)
    moto_thread.start()
    moto_host, moto_port = moto.server_address[:2]

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
        moto.shutdown()
        moto.server_close()
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
    run(args.state_file, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())

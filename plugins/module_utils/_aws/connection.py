# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one way this collection connects to AWS, and the one place that imports boto3 and botocore.

Option names and environment variables follow amazon.aws, plus
``AWS_SECURITY_TOKEN`` (set by AWX) and an assumed role.  Retries are
botocore's own retry modes; nothing here retries by hand.  An assumed
role's credentials are botocore's refreshable credentials: they are renewed
with a new ``AssumeRole`` before they expire, so a run may outlast them.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import unquote, urlsplit

from ansible.module_utils.basic import env_fallback

# The rest of module_utils imports boto3 and botocore from here, so a missing
# library is detected once and reported by connect().
try:
    import boto3
    import botocore.config
    import botocore.credentials
    import botocore.exceptions
    import botocore.loaders
    import botocore.session
except ImportError as exc:  # pragma: no cover - reported by connect()
    boto3 = None
    botocore = None
    BOTO3_IMPORT_ERROR = exc
    AWS_ERRORS = ()
else:
    BOTO3_IMPORT_ERROR = None
    # What a failed boto3 call raises: no answer (BotoCoreError) or an error answer (ClientError).
    AWS_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
HAS_BOTO3 = boto3 is not None

DEFAULT_REGION = "us-east-1"
# Every client's user agent names the collection; aws_config's user_agent_extra comes after it.
USER_AGENT_EXTRA = "rotator.aws_iam"
ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
SESSION_NAME_PATTERN = re.compile(r"^[\w+=,.@-]{2,64}$")

CONNECTION_ARGSPEC = dict(
    # Names, aliases and environment variables are amazon.aws's (doc fragments common and region), so
    # module_defaults written for amazon.aws's group/aws work here too; aliases and variables amazon.aws 9 still
    # took (EC2_*, ec2_url, s3_url, ec2_region, access_token) are kept for plays written for it.
    access_key=dict(type="str", aliases=["aws_access_key_id", "aws_access_key", "ec2_access_key"],
                    fallback=(env_fallback, ["AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "EC2_ACCESS_KEY"]), no_log=False),
    secret_key=dict(type="str", aliases=["aws_secret_access_key", "aws_secret_key", "ec2_secret_key"],
                    fallback=(env_fallback, ["AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "EC2_SECRET_KEY"]), no_log=True),
    session_token=dict(type="str", aliases=["aws_session_token", "security_token", "aws_security_token", "access_token"],
                       fallback=(env_fallback, ["AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "EC2_SECURITY_TOKEN"]),
                       no_log=True),
    profile=dict(type="str", aliases=["aws_profile"], fallback=(env_fallback, ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"])),
    region=dict(type="str", aliases=["aws_region", "ec2_region"],
                fallback=(env_fallback, ["AWS_REGION", "AWS_DEFAULT_REGION", "EC2_REGION"])),
    endpoint_url=dict(type="str", aliases=["aws_endpoint_url", "ec2_url", "s3_url"],
                      fallback=(env_fallback, ["AWS_ENDPOINT_URL", "AWS_URL", "EC2_URL"])),
    validate_certs=dict(type="bool", default=True),
    aws_ca_bundle=dict(type="path", fallback=(env_fallback, ["AWS_CA_BUNDLE"])),
    aws_config=dict(type="dict"),
    assume_role_arn=dict(type="str"),
    assume_role_external_id=dict(type="str", no_log=True),
    assume_role_session_name=dict(type="str", default="rotator-aws-iam"),
    assume_role_duration_seconds=dict(type="int", default=3600),
    retry_mode=dict(type="str", choices=["standard", "adaptive"],
                    fallback=(env_fallback, ["AWS_RETRY_MODE"])),
    max_attempts=dict(type="int", fallback=(env_fallback, ["AWS_MAX_ATTEMPTS"])),
)


class AWSConnectionError(Exception):
    """A connection setting or credential problem, with a message fit for the user."""


def connection_errors(params) -> list:
    """Check the combination of connection options before any call is made."""
    errors = []
    if params.get("profile") and (params.get("access_key") or params.get("secret_key") or params.get("session_token")):
        errors.append("profile and access_key/secret_key/session_token are mutually exclusive: "
                      "pass a profile or explicit keys, not both")
    if bool(params.get("access_key")) != bool(params.get("secret_key")):
        errors.append("access_key and secret_key must be given together")
    errors.extend(role_errors(params, ""))
    if params.get("max_attempts") is not None and params["max_attempts"] < 1:
        errors.append("max_attempts must be at least 1")
    errors.extend(aws_config_errors(params.get("aws_config")))
    return errors


def aws_config_errors(aws_config) -> list:
    """What botocore refuses in ``aws_config`` (an unknown parameter, a bad retry setting), before any call."""
    if not aws_config or not HAS_BOTO3:
        return []
    try:
        botocore.config.Config(**aws_config)
    except (TypeError, ValueError, AttributeError, botocore.exceptions.BotoCoreError) as exc:
        return ["aws_config is not a valid botocore configuration: %s" % exc]
    return []


def aws_config_secrets(aws_config) -> set:
    """The passwords of the proxy URLs in ``aws_config`` (``http://user:password@proxy``), as given and decoded.

    ``aws_config`` is a free dict, so its argument spec cannot mark this one part of it ``no_log``; what
    shows a module's arguments or result removes these (botocore masks them in its own errors).
    """
    proxies = (aws_config or {}).get("proxies") if isinstance(aws_config, dict) else None
    found = set()
    for url in (proxies or {}).values() if isinstance(proxies, dict) else ():
        try:
            password = urlsplit(str(url)).password
        except ValueError:
            continue
        if password:
            found.update((password, unquote(password)))
    return found


def client_config(retry_mode, max_attempts, aws_config=None, attempts=None):
    """botocore's Config of a client: our retries and user agent, with the user's ``aws_config`` over them.

    Retries stay on unless ``aws_config`` says otherwise: its ``retries`` replace ours key by key (its
    ``max_attempts`` or ``total_max_attempts`` replaces our count), and its ``user_agent_extra`` follows ours.
    ``attempts`` is the caller's own count (1 for calls that must not be retried blindly) and wins over both.
    """
    settings = dict(aws_config or {})
    retries = {"mode": retry_mode, "total_max_attempts": max_attempts}
    asked = dict(settings.pop("retries", None) or {})
    if "max_attempts" in asked or "total_max_attempts" in asked:
        del retries["total_max_attempts"]
    retries.update(asked)
    if attempts is not None:
        retries.pop("max_attempts", None)
        retries["total_max_attempts"] = attempts
    agent = " ".join(part for part in (USER_AGENT_EXTRA, settings.pop("user_agent_extra", None)) if part)
    return botocore.config.Config(retries=retries, user_agent_extra=agent, **settings)


def role_errors(params, prefix) -> list:
    errors = []
    arn = params.get("assume_role_arn")
    if arn and not ROLE_ARN_PATTERN.match(arn):
        errors.append("%sassume_role_arn %r is not an IAM role ARN (arn:aws:iam::123456789012:role/Name)" % (prefix, arn))
    name = params.get("assume_role_session_name")
    if arn and name and not SESSION_NAME_PATTERN.match(name):
        errors.append("%sassume_role_session_name %r must be 2-64 characters of letters, digits and _+=,.@-" % (prefix, name))
    duration = params.get("assume_role_duration_seconds")
    if arn and duration is not None and not 900 <= duration <= 43200:
        errors.append("%sassume_role_duration_seconds must be between 900 and 43200" % prefix)
    return errors


class AWSConnection:
    """A boto3 session (possibly an assumed role) and the settings of its clients.

    Sessions are not thread-safe but the clients they make are, so a
    connection makes each client once and hands out the same one.
    """

    def __init__(self, session, region, endpoint_url=None, verify=True, retry_mode="standard", max_attempts=10,
                 aws_config=None, attempts=None):
        self.session = session
        self.region = region or DEFAULT_REGION
        self.endpoint_url = endpoint_url
        self.verify = verify
        self.retry_mode = retry_mode
        self.max_attempts = max_attempts
        self.aws_config = aws_config
        # A count of attempts fixed for every client, over aws_config's retries (None: the retry settings decide).
        self.attempts = attempts
        self._clients = {}
        self._identity = None
        # The credentials the module started with, before any assumed role.
        self.base = self

    def config(self, max_attempts=None):
        """Client settings; ``max_attempts`` (every attempt, the first included) fixes the count for these clients."""
        return client_config(self.retry_mode, self.max_attempts, self.aws_config, max_attempts)

    def client(self, service, region=None, retries=True):
        """The connection's client for a service; ``retries=False`` gives one that tries each call once.

        Calls that are not idempotent (``CreateAccessKey``: a retry after a
        lost answer asks for another key) use the latter and decide
        themselves whether to try again.
        """
        region = region or self.region
        if (service, region, retries) not in self._clients:
            self._clients[(service, region, retries)] = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint_url, verify=self.verify,
                config=self.config(self.attempts if retries else 1))
        return self._clients[(service, region, retries)]

    def identity(self):
        """The caller's identity, looked up once per connection."""
        if self._identity is None:
            try:
                self._identity = self.client("sts").get_caller_identity()
            except AWS_ERRORS as exc:
                raise AWSConnectionError("cannot authenticate to AWS: %s" % error_message(exc)) from None
        return self._identity

    @property
    def account_id(self):
        return self.identity()["Account"]

    def assume_role(self, role_arn, session_name, external_id=None, duration_seconds=3600, region=None):
        """A connection to another role, from this one's credentials.

        The role is assumed here, so a refusal fails the connection at once;
        botocore then renews the credentials with the same request (an
        advisory refresh 15 minutes before they expire, a mandatory one 10
        minutes before; sooner for shorter durations, see refresh_windows),
        so a run may outlast them: one hour at most when roles are chained.
        """
        request = dict(RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=duration_seconds)
        if external_id:
            request["ExternalId"] = external_id
        role = _RoleCredentials(self.client("sts"), request)
        try:
            first = role.fetch()
        except AWS_ERRORS as exc:
            raise AWSConnectionError("cannot assume role %s: %s" % (role_arn, error_message(exc))) from None
        advisory, mandatory = refresh_windows(duration_seconds)
        credentials = botocore.credentials.RefreshableCredentials.create_from_metadata(
            metadata=first, refresh_using=role.renew, method=_AssumedRoleProvider.METHOD,
            advisory_timeout=advisory, mandatory_timeout=mandatory)
        assumed = AWSConnection(_session_with(credentials), region or self.region, self.endpoint_url, self.verify,
                                self.retry_mode, self.max_attempts, self.aws_config)
        assumed.base = self.base
        assumed._identity = identity_of(role.assumed_user)
        return assumed

    def in_region(self, region):
        """The same credentials, with clients in another region."""
        other = AWSConnection(self.session, region, self.endpoint_url, self.verify, self.retry_mode, self.max_attempts,
                              self.aws_config)
        other.base = self.base
        return other

    def with_credentials(self, access_key_id, secret_access_key):
        """A connection that signs with the given key, for checking that it works."""
        session = _boto3_session(aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key)
        return AWSConnection(session, self.region, self.endpoint_url, self.verify, self.retry_mode,
                             aws_config=self.aws_config, attempts=2)


def refresh_windows(duration_seconds):
    """(advisory, mandatory) seconds before expiry at which botocore renews credentials of this duration.

    botocore's own windows (15 and 10 minutes) are kept for an hour or more;
    credentials of 15 minutes would be inside them from the start and be
    renewed at every call, so shorter ones are renewed with a third, then a
    sixth, of their life left.
    """
    return min(15 * 60, duration_seconds // 3), min(10 * 60, duration_seconds // 6)


class RoleRenewalError(botocore.exceptions.BotoCoreError if HAS_BOTO3 else Exception):
    """The credentials of an assumed role could not be renewed; raised inside the API call that needed them."""

    fmt = "cannot renew the credentials of role {role_arn}: {error}"


class _RoleCredentials:
    """``AssumeRole`` with one fixed request, as the metadata botocore's refreshable credentials take."""

    def __init__(self, sts, request):
        self.sts = sts
        self.request = request
        self.assumed_user = None

    def fetch(self):
        answer = self.sts.assume_role(**self.request)
        credentials = answer["Credentials"]
        self.assumed_user = answer.get("AssumedRoleUser")
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    def renew(self):
        """The refresh callback: a failure names the role (botocore raises it from the call being signed)."""
        try:
            return self.fetch()
        except AWS_ERRORS as exc:
            raise RoleRenewalError(role_arn=self.request["RoleArn"], error=error_message(exc)) from None


class _AssumedRoleProvider(botocore.credentials.CredentialProvider if HAS_BOTO3 else object):
    """A credential provider that hands out one set of (refreshable) credentials."""

    METHOD = "rotator-assume-role"
    CANONICAL_NAME = "custom-rotator-assume-role"

    def __init__(self, credentials):
        super().__init__()
        self.credentials = credentials

    def load(self):
        return self.credentials


def identity_of(assumed_user):
    """GetCallerIdentity's answer for an assumed role, from AssumeRole's ``AssumedRoleUser``; None without one.

    Its ARN, arn:aws:sts::<account>:assumed-role/<role>/<session>, names the
    account (STS API reference, AssumeRole response elements and
    GetCallerIdentity): the identity of the assumed role needs no call of its own.
    """
    arn = (assumed_user or {}).get("Arn", "")
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit():
        return None
    return {"Account": parts[4], "Arn": arn, "UserId": assumed_user.get("AssumedRoleId")}


# One loader of botocore's data files (service models, endpoints, retry rules)
# for every session of the process.  Each new botocore session would read and
# parse them again (about 0.1 CPU-second for IAM, STS and Secrets Manager);
# the collection's action plugins load this module in the controller before
# the workers fork, and warm() fills the loader there, so every worker finds
# the data already parsed.
DATA_LOADER = botocore.loaders.create_loader() if HAS_BOTO3 else None
WARM_SERVICES = ("sts", "iam", "secretsmanager", "ssm")


_LOADER_LOCK = threading.Lock()


def _botocore_session():
    session = botocore.session.Session()
    # A session told to look for data elsewhere too (AWS_DATA_PATH, a profile's data_path) keeps its own loader.
    if not session.get_config_variable("data_path"):
        session.register_component("data_loader", DATA_LOADER)
    return session


def _boto3_session(botocore_session=None, **kwargs):
    """A boto3 session on DATA_LOADER.

    boto3 adds its own data folder to the loader's search paths for every
    session it makes; on a loader every session shares, the list would grow
    by one entry per session, so the one it adds again is taken back out.
    """
    with _LOADER_LOCK:
        session = boto3.session.Session(botocore_session=botocore_session or _botocore_session(), **kwargs)
        DATA_LOADER.search_paths[:] = list(dict.fromkeys(DATA_LOADER.search_paths))
    return session


def warm():
    """Parse the data of the services the collection calls, once, into DATA_LOADER (no call is made)."""
    if not HAS_BOTO3:
        return
    session = _botocore_session()
    for service in WARM_SERVICES:
        session.create_client(service, region_name=DEFAULT_REGION, aws_access_key_id="warm",
                              aws_secret_access_key="warm")


def _session_with(credentials):
    """A boto3 session whose credentials are ``credentials``, ahead of the whole default chain."""
    session = _botocore_session()
    session.get_component("credential_provider").insert_before("env", _AssumedRoleProvider(credentials))
    return _boto3_session(botocore_session=session)


def connect(params) -> AWSConnection:
    """Build the connection the module's parameters describe.

    With no keys and no profile boto3 uses its default chain (environment,
    SSO, web identity, ECS and instance roles).
    """
    if not HAS_BOTO3:
        raise AWSConnectionError("boto3 and botocore are required")
    errors = connection_errors(params)
    if errors:
        raise AWSConnectionError("; ".join(errors))
    core = _botocore_session()
    try:
        session = _boto3_session(
            botocore_session=core,
            aws_access_key_id=params.get("access_key"),
            aws_secret_access_key=params.get("secret_key"),
            aws_session_token=params.get("session_token"),
            profile_name=params.get("profile"),
        )
        # Given a botocore session, boto3 reads the profile only when a client is made; read it now, so a
        # profile that does not exist fails the connection here, before any call.
        core.get_scoped_config()
    except botocore.exceptions.ProfileNotFound as exc:
        raise AWSConnectionError(str(exc)) from None
    verify = params.get("aws_ca_bundle") or params.get("validate_certs", True)
    base = AWSConnection(session, params.get("region"), params.get("endpoint_url"), verify,
                         params.get("retry_mode") or "standard", params.get("max_attempts") or 10,
                         params.get("aws_config"))
    if params.get("assume_role_arn"):
        return base.assume_role(params["assume_role_arn"], params.get("assume_role_session_name") or "rotator-aws-iam",
                                params.get("assume_role_external_id"), params.get("assume_role_duration_seconds") or 3600)
    return base


def error_code(exc) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return exc.response.get("Error", {}).get("Code", "")
    return type(exc).__name__


def request_id(exc):
    """The id AWS gave the request an error answers (None without one): AWS support asks for it; it is not secret."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return exc.response.get("ResponseMetadata", {}).get("RequestId") or None
    return None


def with_request_id(message, exc) -> str:
    """``message`` followed by the request id of the error answer ``exc``, as amazon.aws's fail_json_aws keeps it."""
    found = request_id(exc)
    return "%s (request id %s)" % (message, found) if found else message


def error_message(exc) -> str:
    """A short description of a botocore error and its request id; botocore never puts request parameters in it."""
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        return with_request_id("%s: %s" % (error.get("Code", "Error"), error.get("Message", "")), exc)
    return str(exc)

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The IAM and STS calls of access key rotation, paginated, with errors turned into messages.

Retries of throttling and transient errors come from the client's botocore
retry mode; every list call goes through a boto3 paginator.
"""

from __future__ import annotations

import csv
import email.utils
import io
import threading
import time
from datetime import datetime, timedelta, timezone

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import AccessKey
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import error_code, error_message
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    PASSWORD_STATE_TAG,
    StateFormatError,
    decode_password_state,
    decode_state,
    encode_password_state,
    encode_state,
)

try:
    import botocore.exceptions
    AWS_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
except ImportError:  # pragma: no cover - reported by the module
    AWS_ERRORS = ()

# IAM quotas: "Tags per IAM user: 50" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
MAX_USER_TAGS = 50
# Users per page of ListUsers and GetAccountAuthorizationDetails (the largest page either gives).
BULK_PAGE_SIZE = 1000


class RotationError(Exception):
    """A failure for one user, with a message fit for the user (never a secret)."""


class UserNotFound(RotationError):
    pass


class CreateFailed(RotationError):
    """CreateAccessKey failed.

    ``unclear``: some attempt failed without IAM's answer (or with a 5xx), so
    a key it made may exist unseen; ``foreign``: ids of keys that appeared
    meanwhile and are somebody else's.
    """

    def __init__(self, message, unclear=False, foreign=()):
        super().__init__(message)
        self.unclear = unclear
        self.foreign = tuple(foreign)


class KeyLimitReached(CreateFailed):
    """IAM refused a new key: the user already has two."""


def _error(description, exc, kwargs):
    if error_code(exc) == "NoSuchEntity" and "UserName" in kwargs and "AccessKeyId" not in kwargs:
        return UserNotFound("user %s does not exist" % kwargs["UserName"])
    return RotationError("%s failed: %s" % (description, error_message(exc)))


def _call(description, func, **kwargs):
    try:
        return func(**kwargs)
    except AWS_ERRORS as exc:
        raise _error(description, exc, kwargs) from None


def room_for_tag(tags, key):
    """Whether a user with ``tags`` can be given tag ``key``: it has it already, or holds fewer than IAM allows."""
    return key in tags or len(tags) < MAX_USER_TAGS


class IAMGateway:
    """IAM calls for one account."""

    def __init__(self, iam_client, create_client=None):
        self.iam = iam_client
        # Its CreateAccessKey attempts are watched: see create_access_key.
        self.create_client = create_client or iam_client
        self._watch_create_attempts(self.create_client)

    @classmethod
    def for_connection(cls, connection):
        """The gateway of a connection's account, as the modules use it."""
        return cls(connection.client("iam"))

    def _paginate(self, operation, result_key, description, **kwargs):
        paginator = self.iam.get_paginator(operation)
        items = []
        pages = _call(description, lambda **kw: list(paginator.paginate(**kw)), **kwargs)
        for page in pages:
            items.extend(page.get(result_key, []))
        return items

    def list_access_keys(self, user_name, with_last_used=True):
        metadata = self._paginate("list_access_keys", "AccessKeyMetadata", "listing access keys of %s" % user_name,
                                  UserName=user_name)
        keys = []
        for item in metadata:
            last_used = None
            if with_last_used:
                last_used = self.access_key_last_used(user_name, item["AccessKeyId"])
            keys.append(AccessKey(item["AccessKeyId"], item["Status"], item["CreateDate"], last_used))
        return keys

    def access_key_last_used(self, user_name, access_key_id):
        answer = _call("reading last use of %s" % access_key_id, self.iam.get_access_key_last_used,
                       AccessKeyId=access_key_id)
        return answer.get("AccessKeyLastUsed", {}).get("LastUsedDate")

    def users(self, path_prefix="/"):
        """Every user under a path prefix."""
        return self._paginate("list_users", "Users", "listing users under %s" % path_prefix, PathPrefix=path_prefix,
                              PaginationConfig={"PageSize": BULK_PAGE_SIZE})

    def group_members(self, group_name):
        try:
            members = self.iam.get_paginator("get_group").paginate(GroupName=group_name).build_full_result()
        except AWS_ERRORS as exc:
            if error_code(exc) == "NoSuchEntity":
                raise RotationError("group %s does not exist" % group_name) from None
            raise RotationError("reading group %s failed: %s" % (group_name, error_message(exc))) from None
        return [user["UserName"] for user in members.get("Users", [])]

    def user_tags(self, user_name):
        tags = self._paginate("list_user_tags", "Tags", "reading tags of %s" % user_name, UserName=user_name)
        return {tag["Key"]: tag["Value"] for tag in tags}

    def tags_of_every_user(self):
        """{user name: {tag key: value}} for every user of the account, from GetAccountAuthorizationDetails.

        A few calls for the whole account instead of one ListUserTags per user.
        """
        details = self._paginate("get_account_authorization_details", "UserDetailList",
                                 "reading the users' tags (GetAccountAuthorizationDetails)", Filter=["User"],
                                 PaginationConfig={"PageSize": BULK_PAGE_SIZE})
        return {user["UserName"]: {tag["Key"]: tag["Value"] for tag in user.get("Tags", [])} for user in details}

    def rotation_state_with_room(self, user_name):
        """(the recorded rotation state, whether IAM leaves room to record one).

        IAM allows 50 tags per user ("IAM and AWS STS quotas", IAM User Guide):
        a user with 50 tags and no state tag yet cannot have its state recorded.
        """
        tags = self.user_tags(user_name)
        try:
            state = decode_state(tags.get(ACCESS_KEY_STATE_TAG))
        except StateFormatError as exc:
            raise RotationError("tag %s of user %s: %s" % (ACCESS_KEY_STATE_TAG, user_name, exc)) from None
        return state, room_for_tag(tags, ACCESS_KEY_STATE_TAG)

    def password_rotated_at(self, user_name, tags=None):
        """When the collection last set the password, from ``tags`` (the user's, read here when not given)."""
        tags = self.user_tags(user_name) if tags is None else tags
        try:
            return decode_password_state(tags.get(PASSWORD_STATE_TAG))
        except StateFormatError as exc:
            raise RotationError("tag %s of user %s: %s" % (PASSWORD_STATE_TAG, user_name, exc)) from None

    def record_password_rotation(self, user_name, rotated_at):
        try:
            self.iam.tag_user(UserName=user_name,
                              Tags=[{"Key": PASSWORD_STATE_TAG, "Value": encode_password_state(rotated_at)}])
        except AWS_ERRORS as exc:
            if error_code(exc) == "LimitExceeded":
                # TagUser's LimitExceeded is the tag quota, never the access key one.
                raise RotationError("recording the password rotation of %s failed: the user has reached IAM's limit "
                                    "of %d tags per user, so tag %s cannot be added (%s)"
                                    % (user_name, MAX_USER_TAGS, PASSWORD_STATE_TAG, error_message(exc))) from None
            raise RotationError("recording password rotation of %s failed: %s"
                                % (user_name, error_message(exc))) from None

    def login_profile(self, user_name):
        """The user's login profile, or None when the user has no console password."""
        try:
            return self.iam.get_login_profile(UserName=user_name)["LoginProfile"]
        except AWS_ERRORS as exc:
            if error_code(exc) != "NoSuchEntity":
                raise RotationError("reading the login profile of %s failed: %s" % (user_name, error_message(exc))) from None
        # NoSuchEntity means either no user or no profile; tell them apart.
        _call("reading user %s" % user_name, self.iam.get_user, UserName=user_name)
        return None

    def set_password(self, user_name, password, reset_required, create=False, attempts=6, sleep=time.sleep):
        """Set (or with ``create``, first set) the console password.

        ``EntityTemporarilyUnmodifiable`` (IAM still settling a recent change)
        is retried with backoff; botocore's retry modes do not cover it.
        Raises :class:`PasswordRefused` when IAM certainly did not take the
        password, :class:`PasswordOutcomeUnknown` when it may have (an answer
        lost after IAM applied the call, a 5xx, throttling past the attempts).
        """
        operation = self.iam.create_login_profile if create else self.iam.update_login_profile
        in_doubt = False
        for attempt in range(attempts):
            try:
                operation(UserName=user_name, Password=password, PasswordResetRequired=reset_required)
                return
            except AWS_ERRORS as exc:
                in_doubt = in_doubt or not refused_for_sure(exc)
                if error_code(exc) == "EntityTemporarilyUnmodifiable" and attempt + 1 < attempts:
                    sleep(min(2 ** attempt, 20))
                    continue
                raise password_failure(user_name, exc, in_doubt) from None

    def account_password_policy(self):
        """The account's password policy, or None when it has none (AWS's default applies)."""
        try:
            return self.iam.get_account_password_policy()["PasswordPolicy"]
        except AWS_ERRORS as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise RotationError("reading the account password policy failed: %s" % error_message(exc)) from None

    def password_last_changed(self, generate=True):
        """``password_last_changed`` per user, from :meth:`credential_report` (None when none could be read)."""
        report = self.credential_report(generate=generate)
        return None if report is None else parse_password_last_changed(report.content)

    def credential_report(self, generate=True, timeout=30.0, sleep=time.sleep, clock=time.monotonic):
        """The account's credential report with its GeneratedTime: the one fetcher for passwords and access keys.

        ``GenerateCredentialReport`` answers STARTED, then INPROGRESS, then
        COMPLETE; AWS makes a new report at most every four hours and serves
        the previous one meanwhile, so the report may be hours old: callers
        weigh its ``generated_time``.  Waits with growing pauses up to
        ``timeout`` seconds, then raises RotationError, as it does when a call
        fails: never an empty or older answer in silence.

        With ``generate=False`` (check mode, which must not call mutating
        APIs) only ``GetCredentialReport`` is called; None when no report
        exists.
        """
        try:
            if generate:
                self._wait_for_credential_report(timeout, sleep, clock)
            try:
                answer = self.iam.get_credential_report()
            except botocore.exceptions.ClientError as exc:
                if not generate and error_code(exc) in REPORT_ABSENT:
                    return None
                raise
        except AWS_ERRORS as exc:
            raise RotationError("reading the credential report failed: %s" % error_message(exc)) from None
        content = answer["Content"]
        return CredentialReport(content.decode("utf-8") if isinstance(content, bytes) else content,
                                answer["GeneratedTime"])

    def _wait_for_credential_report(self, timeout, sleep, clock):
        deadline = clock() + timeout
        delay = 0.2
        while True:
            state = self.iam.generate_credential_report()["State"]
            if state == "COMPLETE":
                return
            if clock() + delay > deadline:
                raise RotationError("the credential report was not ready within %d seconds (state %s)"
                                    % (timeout, state))
            sleep(delay)
            delay = min(delay * 2, 2.0)

    def record_rotation_state(self, user_name, state):
        try:
            self.iam.tag_user(UserName=user_name, Tags=[{"Key": ACCESS_KEY_STATE_TAG, "Value": encode_state(state)}])
        except AWS_ERRORS as exc:
            if error_code(exc) == "LimitExceeded":
                raise RotationError("recording rotation state of %s failed: IAM refused the tag %s: %s (at most %d "
                                    "tags per user)" % (user_name, ACCESS_KEY_STATE_TAG, error_message(exc),
                                                        MAX_USER_TAGS)) from None
            raise _error("recording rotation state of %s" % user_name, exc, {"UserName": user_name}) from None

    def create_access_key(self, user_name, existing_key_ids):
        """Create a key; returns (AccessKey, secret, ids of keys lost attempts made and this one deleted).

        The secret exists only in the answer.  The client's botocore retry
        mode decides whether and when to try again; before each new try (and
        after the last) a watcher on the client's public ``needs-retry`` event
        looks at what a failed attempt may have left (see _CreateWatch).
        """
        watch = _CreateWatch(self, user_name, existing_key_ids)
        self._create_watches.current = watch
        try:
            item = self.create_client.create_access_key(UserName=user_name)["AccessKey"]
        except AWS_ERRORS as exc:
            failure = KeyLimitReached if error_code(exc) == "LimitExceeded" else CreateFailed
            raise failure("creating an access key for %s failed: %s" % (user_name, error_message(exc)),
                          unclear=watch.unclear, foreign=watch.foreign) from None
        except RotationError as exc:  # from the watcher: a look at the keys failed, or found somebody else's key
            raise CreateFailed(str(exc), unclear=watch.unclear, foreign=watch.foreign) from None
        finally:
            self._create_watches.current = None
        key = AccessKey(item["AccessKeyId"], item["Status"], item["CreateDate"])
        return key, item["SecretAccessKey"], watch.deleted

    def _watch_create_attempts(self, client):
        """Hook the CreateAccessKey attempts of ``client`` (once per client; the watch is per thread)."""
        self._create_watches = threading.local()
        self._create_watches.current = None

        def on_send(**_kwargs):
            watch = getattr(self._create_watches, "current", None)
            if watch is not None:
                watch.sent()

        def on_needs_retry(response=None, caught_exception=None, **_kwargs):
            watch = getattr(self._create_watches, "current", None)
            if watch is not None:
                watch.failed(response, caught_exception)

        client.meta.events.register("before-send.iam.CreateAccessKey", on_send)
        client.meta.events.register_first("needs-retry.iam.CreateAccessKey", on_needs_retry)

    def keys_with_aws_time(self, user_name):
        """(the user's keys with their last use, IAM's clock offset from ours as (low, high) bounds).

        IAM's clock comes from the listing's Date header (whole seconds), taken
        between sending the listing and its answer, before any other call.
        """
        sent = datetime.now(timezone.utc)
        try:
            pages = list(self.iam.get_paginator("list_access_keys").paginate(UserName=user_name))
        except AWS_ERRORS as exc:
            raise _error("listing access keys of %s" % user_name, exc, {"UserName": user_name}) from None
        answered = datetime.now(timezone.utc)
        headers = pages[0].get("ResponseMetadata", {}).get("HTTPHeaders", {}) if pages else {}
        aws_now = _http_date(headers.get("date"))
        skew = None if aws_now is None else (aws_now - answered, aws_now + CLOCK_RESOLUTION - sent)
        keys = []
        for page in pages:
            for item in page.get("AccessKeyMetadata", []):
                keys.append(AccessKey(item["AccessKeyId"], item["Status"], item["CreateDate"],
                                      self.access_key_last_used(user_name, item["AccessKeyId"])))
        return keys, skew

    def set_access_key_status(self, user_name, access_key_id, status):
        try:
            self.iam.update_access_key(UserName=user_name, AccessKeyId=access_key_id, Status=status)
        except AWS_ERRORS as exc:
            if error_code(exc) == "NoSuchEntity" and status == "Inactive":
                return  # deleted meanwhile: it can no longer be used, the goal of the call is met
            raise _error("setting %s to %s" % (access_key_id, status), exc, {}) from None

    def delete_access_key(self, user_name, access_key_id):
        try:
            self.iam.delete_access_key(UserName=user_name, AccessKeyId=access_key_id)
        except AWS_ERRORS as exc:
            if error_code(exc) == "NoSuchEntity":
                return  # already gone: the goal of the call is met
            raise RotationError("deleting %s failed: %s" % (access_key_id, error_message(exc))) from None


# IAM dates keys to the second and its Date header is to the second too.
CLOCK_RESOLUTION = timedelta(seconds=1)


def _http_date(value):
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).astimezone(timezone.utc)
    except (TypeError, ValueError):
        return None


class _CreateWatch:
    """What one CreateAccessKey call's failed attempts may have left behind.

    An attempt that IAM answered with an error (throttling, a refusal: a
    4xx) was not carried out, so there is nothing to look for.  An attempt
    without an answer (connection dropped, timed out) or answered with a 5xx
    may have made a key whose secret nobody received.  The user's keys are
    listed: a key that was not there before and that IAM dated inside the
    attempt (from before it was sent to when it failed, on IAM's clock) is
    that key, and is deleted; nobody can hold its secret.  Any other key that
    appeared was made by somebody else: it is left alone and the create
    fails, naming it.
    """

    def __init__(self, gateway, user_name, existing_key_ids):
        self.gateway = gateway
        self.user_name = user_name
        self.existing = set(existing_key_ids)
        self.deleted = []
        self.foreign = []
        self.unclear = False
        self.sent_at = None

    def sent(self):
        self.sent_at = datetime.now(timezone.utc)

    def failed(self, response, caught_exception):
        status = response[0].status_code if response is not None else None
        if status is not None and status < 500:
            return  # an answer: a success, or a refusal of a request IAM did not carry out
        if self.sent_at is None:
            return  # it failed before it was sent
        self.unclear = True
        failed_at = datetime.now(timezone.utc)
        keys, skew = self.gateway.keys_with_aws_time(self.user_name)
        low, high = skew or (timedelta(0), timedelta(0))
        # IAM's CreateDate drops the fraction of its second: a key made at the window's start may show up to 1 s earlier.
        earliest = self.sent_at + low - CLOCK_RESOLUTION
        latest = failed_at + high
        appeared = [key for key in keys if key.access_key_id not in self.existing and key.access_key_id not in self.deleted]
        failure = error_message(caught_exception) if caught_exception is not None else "HTTP %s" % status
        lost = [key for key in appeared if earliest <= key.create_date <= latest and key.last_used_date is None]
        foreign = [key for key in appeared if key not in lost]
        if len(lost) > 1:  # one attempt makes one key: which is it? None is taken for it
            foreign, lost = foreign + lost, []
        for key in lost:
            self.gateway.delete_access_key(self.user_name, key.access_key_id)
            self.deleted.append(key.access_key_id)
        if foreign:
            self.foreign.extend(key.access_key_id for key in foreign)
            raise RotationError(
                "creating an access key for %s failed (%s) and key %s appeared meanwhile, not made by this run's "
                "attempt (created %s; the attempt ran from %s to %s on IAM's clock); it was left alone. Find out who "
                "holds it, then delete it or record it by hand"
                % (self.user_name, failure, ", ".join(key.access_key_id for key in foreign),
                   ", ".join(key.create_date.isoformat() for key in foreign), earliest.isoformat(),
                   latest.isoformat()))
        if lost:
            # This attempt's key was found and deleted.  Nothing seen proves nothing: the request may still be
            # on its way to IAM, or its key not listed yet; the announcement stays for the next run's repair.
            self.unclear = False


def user_arn_matches(arn, account_id, user_name):
    """Whether an STS caller ARN is the IAM user ``user_name`` of ``account_id`` (any path)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or parts[4] != account_id:
        return False
    resource = parts[5]
    return resource.startswith("user/") and resource.rsplit("/", 1)[-1] == user_name


def wait_until_key_works(connection, access_key_id, secret_access_key, account_id, user_name, timeout,
                         interval=2.0, clock=time.monotonic, sleep=time.sleep):
    """Poll STS GetCallerIdentity with the new key until it answers as the user.

    New keys take a few seconds to work on AWS; errors until then are
    expected.  Returns None on success, else the last thing STS said.
    """
    sts = connection.with_credentials(access_key_id, secret_access_key).client("sts")
    deadline = clock() + timeout
    last = "no answer"
    while True:
        try:
            arn = sts.get_caller_identity()["Arn"]
            if user_arn_matches(arn, account_id, user_name):
                return None
            last = "the key authenticates as %s" % arn
        except AWS_ERRORS as exc:
            last = error_message(exc)
        if clock() + interval > deadline:
            return last
        sleep(interval)


# --- console passwords and the credential report ------------------------------------------------

# GetCredentialReport's answers when there is no report to read.
REPORT_ABSENT = ("ReportNotPresent", "ReportExpired", "ReportInProgress")
# Error codes of throttled requests: never processed, but retried, so an earlier attempt may have been.
THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
                              "RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
                              "SlowDown", "PriorRequestNotComplete"})
NOT_A_DATE = ("", "N/A", "not_supported", "no_information")


class PasswordRefused(RotationError):
    """IAM answered that it did not take the password."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


class PasswordOutcomeUnknown(RotationError):
    """IAM may or may not hold the password: no answer that says which."""


class CredentialReport:
    """The credential report's CSV text and when AWS generated it."""

    def __init__(self, content, generated_time):
        self.content = content
        self.generated_time = generated_time

    def __repr__(self):
        return "CredentialReport(generated_time=%r)" % (self.generated_time,)


def refused_for_sure(exc):
    """Whether a failed call was certainly not applied: a 4xx answer to its only attempt, not throttling.

    botocore retries connection errors, 5xx and throttling; an answer to a
    retry says nothing about the attempts before it, which IAM may have
    applied (with reuse prevention, a retry of an applied password is even
    refused as a reuse).
    """
    if not isinstance(exc, botocore.exceptions.ClientError):
        return False
    metadata = exc.response.get("ResponseMetadata", {})
    status = metadata.get("HTTPStatusCode") or 0
    return not metadata.get("RetryAttempts") and 400 <= status < 500 and error_code(exc) not in THROTTLING_CODES


def password_failure(user_name, exc, in_doubt):
    """The error for a failed UpdateLoginProfile / CreateLoginProfile, never holding the password."""
    if in_doubt:
        return PasswordOutcomeUnknown("the outcome of setting the console password of %s is unknown (%s): IAM may "
                                      "hold the new password" % (user_name, error_message(exc)))
    code = error_code(exc)
    if code == "PasswordPolicyViolation":
        return PasswordRefused("the new password of %s was refused by the account's password policy: %s"
                               % (user_name, exc.response.get("Error", {}).get("Message", "")), code)
    return PasswordRefused("setting the console password of %s failed: %s" % (user_name, error_message(exc)), code)


def parse_password_last_changed(content):
    """``password_last_changed`` per user from the report's CSV; users without a date are left out."""
    changed = {}
    for row in csv.DictReader(io.StringIO(content)):
        value = (row.get("password_last_changed") or "").strip()
        if value in NOT_A_DATE:
            continue
        try:
            changed[row["user"]] = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
    return changed

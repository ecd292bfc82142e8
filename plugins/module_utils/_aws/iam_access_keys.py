# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The IAM calls of access key rotation: list, create (watching its lost attempts), set status, delete, record state."""

from __future__ import annotations

import email.utils
import threading
from datetime import datetime, timedelta, timezone

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import AccessKey
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import ACCESS_KEY_STATE_TAG, encode_state
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import AWS_ERRORS, error_code, error_message
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import (
    CreateFailed,
    KeyLimitReached,
    RotationError,
    call,
    paginate,
    rotation_error,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_users import MAX_USER_TAGS


class AccessKeyCalls:
    """The access key calls of :class:`IAMGateway`: ``self.iam`` for most, ``self.create_client`` for CreateAccessKey.

    The gateway calls :meth:`_watch_create_attempts` on ``self.create_client`` once, when it is made.
    """

    def list_access_keys(self, user_name, with_last_used=True):
        metadata = paginate(self.iam, "list_access_keys", "AccessKeyMetadata", "listing access keys of %s" % user_name,
                            UserName=user_name)
        keys = []
        for item in metadata:
            last_used = None
            if with_last_used:
                last_used = self.access_key_last_used(user_name, item["AccessKeyId"])
            keys.append(AccessKey(item["AccessKeyId"], item["Status"], item["CreateDate"], last_used))
        return keys

    def access_key_last_used(self, user_name, access_key_id):
        answer = call("reading last use of %s" % access_key_id, self.iam.get_access_key_last_used,
                      AccessKeyId=access_key_id)
        return answer.get("AccessKeyLastUsed", {}).get("LastUsedDate")

    def record_rotation_state(self, user_name, state):
        try:
            self.iam.tag_user(UserName=user_name, Tags=[{"Key": ACCESS_KEY_STATE_TAG, "Value": encode_state(state)}])
        except AWS_ERRORS as exc:
            if error_code(exc) == "LimitExceeded":
                raise RotationError("recording rotation state of %s failed: IAM refused the tag %s: %s (at most %d "
                                    "tags per user)" % (user_name, ACCESS_KEY_STATE_TAG, error_message(exc),
                                                        MAX_USER_TAGS)) from None
            raise rotation_error("recording rotation state of %s" % user_name, exc, {"UserName": user_name}) from None

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
            raise rotation_error("listing access keys of %s" % user_name, exc, {"UserName": user_name}) from None
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
            raise rotation_error("setting %s to %s" % (access_key_id, status), exc, {}) from None

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

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The IAM calls of console password rotation: login profiles, the password policy, the password state tag."""

from __future__ import annotations

import time

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    AWS_ERRORS,
    botocore,
    error_code,
    error_message,
    with_request_id,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError, call
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_users import MAX_USER_TAGS
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import StateFormatError
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.state_tag import (
    PASSWORD_STATE_TAG,
    decode_password_state,
    encode_password_state,
)

# Error codes of throttled requests: never processed, but retried, so an earlier attempt may have been.
THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
                              "RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
                              "SlowDown", "PriorRequestNotComplete"})


class PasswordRefused(RotationError):
    """IAM answered that it did not take the password."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


class PasswordOutcomeUnknown(RotationError):
    """IAM may or may not hold the password: no answer that says which."""


class PasswordCalls:
    """The console password calls of :class:`IAMGateway` (on its IAM client ``self.iam``; tags by ``self.user_tags``)."""

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
        call("reading user %s" % user_name, self.iam.get_user, UserName=user_name)
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
        return PasswordRefused(with_request_id("the new password of %s was refused by the account's password policy: %s"
                                               % (user_name, exc.response.get("Error", {}).get("Message", "")), exc),
                               code)
    return PasswordRefused("setting the console password of %s failed: %s" % (user_name, error_message(exc)), code)

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The failures of IAM calls for one user, and the calls that turn AWS's errors into them.

Each message is fit for the user: it never holds a secret, and it keeps the
request id of AWS's error answer for support cases.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    AWS_ERRORS,
    error_code,
    error_message,
)


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


def rotation_error(description, exc, request):
    """The RotationError for AWS error ``exc`` of the call ``description`` made with parameters ``request``.

    NoSuchEntity of a call about a user (and not about one of its keys)
    means the user does not exist: a fact about the play's input, stated
    alone (a user is reported "gone" in the same words wherever it is found
    missing).  Any other error keeps AWS's code, message and request id.
    """
    if error_code(exc) == "NoSuchEntity" and "UserName" in request and "AccessKeyId" not in request:
        return UserNotFound("user %s does not exist" % request["UserName"])
    return RotationError("%s failed: %s" % (description, error_message(exc)))


def call(description, func, **request):
    """``func(**request)``; an AWS error becomes the RotationError of :func:`rotation_error`."""
    try:
        return func(**request)
    except AWS_ERRORS as exc:
        raise rotation_error(description, exc, request) from None


def paginate(client, operation, result_key, description, **request):
    """Every ``result_key`` item of every page of ``operation``, through its boto3 paginator."""
    paginator = client.get_paginator(operation)
    pages = call(description, lambda **kw: list(paginator.paginate(**kw)), **request)
    items = []
    for page in pages:
        items.extend(page.get(result_key, []))
    return items

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Proof that a new access key works: STS GetCallerIdentity, signed with it, answers as its user."""

from __future__ import annotations

import time

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import AWS_ERRORS, error_message


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

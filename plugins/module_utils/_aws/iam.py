# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The IAM gateway of one account: the calls of each job, composed on one client.

Each job's calls live in their own file: access keys (iam_access_keys),
console passwords (iam_passwords), users and their tags (iam_users), the
credential report (credential_report).  Their errors are in errors.
Retries of throttling and transient errors come from the client's botocore
retry mode; every list call goes through a boto3 paginator.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.credential_report import CredentialReportCalls
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_access_keys import AccessKeyCalls
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_passwords import PasswordCalls
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_users import UserCalls


class IAMGateway(AccessKeyCalls, PasswordCalls, UserCalls, CredentialReportCalls):
    """IAM calls for one account."""

    def __init__(self, iam_client, create_client=None):
        self.iam = iam_client
        # Its CreateAccessKey attempts are watched: see AccessKeyCalls.create_access_key.
        self.create_client = create_client or iam_client
        self._watch_create_attempts(self.create_client)

    @classmethod
    def for_connection(cls, connection):
        """The gateway of a connection's account, as the modules use it."""
        return cls(connection.client("iam"))

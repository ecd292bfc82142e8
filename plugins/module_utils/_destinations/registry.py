# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Choosing a secret destination by name, for one user."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    ACCESS_KEY,
    DEFAULT_FILE_MODE,
    DEFAULT_NAMES,
    expand,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.file import (
    FileDestination,
    ModuleFileWriter,
    PlainFileWriter,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.none import NoDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.secretsmanager import SecretsManagerDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.ssm import SSMParameterDestination


class DestinationFactory:
    """Makes the destination of each user from the ``secret`` option.

    The connection to a central secrets account (``secret.assume_role_arn``)
    is made once, from the credentials the module started with, and only
    when a destination is first needed.  Files are written through the
    module (``atomic_move``, file attributes) when there is one.
    """

    def __init__(self, options, connection, account_id, kind=ACCESS_KEY, module=None):
        self.options = options
        self.connection = connection
        self.account_id = account_id
        self.kind = kind
        self.module = module
        self._secrets_connection = None

    def _file_writer(self):
        mode = self.options.get("mode")
        mode = DEFAULT_FILE_MODE if mode is None else mode
        if self.module is None:
            return PlainFileWriter(mode)
        return ModuleFileWriter(self.module, self.options.get("owner"), self.options.get("group"), mode)

    def _secrets_account(self):
        if self._secrets_connection is None:
            base = self.connection.base
            role = self.options.get("assume_role_arn")
            if role:
                self._secrets_connection = base.assume_role(role, "rotator-aws-iam-secrets",
                                                            self.options.get("assume_role_external_id"),
                                                            region=self.options.get("region") or self.connection.region)
            elif self.options.get("region"):
                self._secrets_connection = self.connection.in_region(self.options["region"])
            else:
                self._secrets_connection = self.connection
        return self._secrets_connection

    def for_user(self, user_name):
        kind = self.options["type"]
        if kind == "none":
            return NoDestination()
        if kind == "file":
            fmt = self.options.get("format") or "json"
            profile = expand(self.options.get("profile") or "{user_name}", user_name, self.account_id)
            return FileDestination(expand(self.options["path"], user_name, self.account_id), fmt, user_name, profile,
                                   self.kind, writer=self._file_writer())
        name = expand(self.options.get("name") or DEFAULT_NAMES[(self.kind, kind)], user_name, self.account_id)
        cls = SecretsManagerDestination if kind == "secretsmanager" else SSMParameterDestination
        return cls(self._secrets_account(), name, user_name, self.options.get("kms_key_id"), self.kind,
                   account=self.options.get("assume_role_arn"))

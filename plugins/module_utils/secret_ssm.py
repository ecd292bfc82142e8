# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SSM Parameter Store: the secret is a JSON SecureString parameter.

A pending secret is a second parameter, ``<name>-pending``, deleted once
its value has been copied to the main parameter.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils.connection import error_code, error_message
from ansible_collections.rotator.aws_iam.plugins.module_utils.secret_destination import (
    ACCESS_KEY,
    DestinationError,
    SecretDestination,
    parse,
    render,
)

try:
    import botocore.exceptions
    AWS_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
except ImportError:  # pragma: no cover - reported by the module
    AWS_ERRORS = ()

PENDING_SUFFIX = "-pending"


class SSMParameterDestination(SecretDestination):
    type = "ssm"

    def __init__(self, connection, name, user_name, kms_key_id=None, kind=ACCESS_KEY):
        self.client = connection.client("ssm")
        self.region = connection.region
        self.name = name
        self.user_name = user_name
        self.kms_key_id = kms_key_id
        self.kind = kind

    def _name(self, pending):
        return self.name + PENDING_SUFFIX if pending else self.name

    def _put(self, name, value):
        kwargs = dict(Name=name, Value=value, Type="SecureString", Overwrite=True,
                      Description="Secret of IAM user %s, rotated by rotator.aws_iam" % self.user_name)
        if self.kms_key_id:
            kwargs["KeyId"] = self.kms_key_id
        try:
            self.client.put_parameter(**kwargs)
        except AWS_ERRORS as exc:
            raise DestinationError("writing parameter %s failed: %s" % (name, error_message(exc))) from None

    def _get(self, name):
        try:
            return self.client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        except AWS_ERRORS as exc:
            if error_code(exc) == "ParameterNotFound":
                return None
            raise DestinationError("reading parameter %s failed: %s" % (name, error_message(exc))) from None

    def write(self, secret, pending=False):
        self._put(self._name(pending), render(secret, "json"))

    def read(self, pending=False):
        value = self._get(self._name(pending))
        return None if value is None else parse(value, "json", self.user_name, kind=self.kind)

    def promote(self):
        value = self._get(self._name(True))
        if value is None:
            raise DestinationError("parameter %s does not exist; nothing to make current" % self._name(True))
        self._put(self.name, value)
        self.discard_pending()

    def discard_pending(self):
        try:
            self.client.delete_parameter(Name=self._name(True))
        except AWS_ERRORS as exc:
            if error_code(exc) != "ParameterNotFound":
                raise DestinationError("deleting parameter %s failed: %s" % (self._name(True), error_message(exc))) from None

    def describe(self):
        return {"type": self.type, "name": self.name, "region": self.region}

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SSM Parameter Store: the secret is a JSON SecureString parameter."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils.connection import error_code, error_message
from ansible_collections.rotator.aws_iam.plugins.module_utils.secret_destination import (
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


class SSMParameterDestination(SecretDestination):
    type = "ssm"

    def __init__(self, connection, name, user_name, kms_key_id=None):
        self.client = connection.client("ssm")
        self.region = connection.region
        self.name = name
        self.user_name = user_name
        self.kms_key_id = kms_key_id

    def write(self, secret):
        kwargs = dict(Name=self.name, Value=render(secret, "json"), Type="SecureString", Overwrite=True,
                      Description="Access key of IAM user %s, rotated by rotator.aws_iam" % self.user_name)
        if self.kms_key_id:
            kwargs["KeyId"] = self.kms_key_id
        try:
            self.client.put_parameter(**kwargs)
        except AWS_ERRORS as exc:
            raise DestinationError("writing parameter %s failed: %s" % (self.name, error_message(exc))) from None

    def read(self):
        try:
            answer = self.client.get_parameter(Name=self.name, WithDecryption=True)
        except AWS_ERRORS as exc:
            if error_code(exc) == "ParameterNotFound":
                return None
            raise DestinationError("reading parameter %s failed: %s" % (self.name, error_message(exc))) from None
        return parse(answer["Parameter"]["Value"], "json", self.user_name)

    def describe(self):
        return {"type": self.type, "name": self.name, "region": self.region}

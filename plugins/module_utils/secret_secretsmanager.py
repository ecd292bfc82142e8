# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS Secrets Manager: the secret is a JSON value; each rotation is a new AWSCURRENT version."""

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


class SecretsManagerDestination(SecretDestination):
    type = "secretsmanager"

    def __init__(self, connection, name, user_name, kms_key_id=None):
        self.client = connection.client("secretsmanager")
        self.region = connection.region
        self.name = name
        self.user_name = user_name
        self.kms_key_id = kms_key_id

    def write(self, secret):
        value = render(secret, "json")
        try:
            try:
                self.client.put_secret_value(SecretId=self.name, SecretString=value)
            except botocore.exceptions.ClientError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                kwargs = dict(Name=self.name, SecretString=value,
                              Description="Access key of IAM user %s, rotated by rotator.aws_iam" % self.user_name)
                if self.kms_key_id:
                    kwargs["KmsKeyId"] = self.kms_key_id
                self.client.create_secret(**kwargs)
        except AWS_ERRORS as exc:
            raise DestinationError("writing secret %s failed: %s" % (self.name, error_message(exc))) from None

    def read(self):
        try:
            answer = self.client.get_secret_value(SecretId=self.name)
        except AWS_ERRORS as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise DestinationError("reading secret %s failed: %s" % (self.name, error_message(exc))) from None
        if "SecretString" not in answer:
            return None
        return parse(answer["SecretString"], "json", self.user_name)

    def describe(self):
        return {"type": self.type, "name": self.name, "region": self.region}

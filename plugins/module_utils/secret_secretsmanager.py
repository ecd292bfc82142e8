# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS Secrets Manager: the secret is a JSON value; each rotation is a new AWSCURRENT version.

A pending secret is a version labelled AWSPENDING, the label Secrets
Manager's own rotation uses; promoting it moves AWSCURRENT onto it (and
Secrets Manager labels the previous version AWSPREVIOUS).
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

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
WHAT = {ACCESS_KEY: "Access key"}


class SecretsManagerDestination(SecretDestination):
    type = "secretsmanager"

    def __init__(self, connection, name, user_name, kms_key_id=None, kind=ACCESS_KEY):
        self.client = connection.client("secretsmanager")
        self.region = connection.region
        self.name = name
        self.user_name = user_name
        self.kms_key_id = kms_key_id
        self.kind = kind

    def _fail(self, doing, exc):
        raise DestinationError("%s secret %s failed: %s" % (doing, self.name, error_message(exc))) from None

    def _create(self, value=None):
        kwargs = dict(Name=self.name, Description="%s of IAM user %s, rotated by rotator.aws_iam"
                      % (WHAT.get(self.kind, "Console password"), self.user_name))
        if value is not None:
            kwargs["SecretString"] = value
        if self.kms_key_id:
            kwargs["KmsKeyId"] = self.kms_key_id
        self.client.create_secret(**kwargs)

    def write(self, secret, pending=False):
        value = render(secret, "json")
        kwargs = dict(SecretId=self.name, SecretString=value)
        if pending:
            kwargs["VersionStages"] = [PENDING]
        try:
            try:
                self.client.put_secret_value(**kwargs)
            except botocore.exceptions.ClientError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                if not pending:
                    self._create(value)
                    return
                self._create()
                self.client.put_secret_value(**kwargs)
        except AWS_ERRORS as exc:
            self._fail("writing", exc)

    def read(self, pending=False):
        # Always name the stage: some implementations answer a stage-less
        # read from a cached default version instead of the AWSCURRENT label.
        try:
            answer = self.client.get_secret_value(SecretId=self.name, VersionStage=PENDING if pending else CURRENT)
        except AWS_ERRORS as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            self._fail("reading", exc)
        if "SecretString" not in answer:
            return None
        return parse(answer["SecretString"], "json", self.user_name, kind=self.kind)

    def _stages(self):
        try:
            return self.client.describe_secret(SecretId=self.name).get("VersionIdsToStages", {})
        except AWS_ERRORS as exc:
            self._fail("describing", exc)

    def promote(self):
        stages = self._stages()
        pending = next((version for version, labels in stages.items() if PENDING in labels), None)
        if pending is None:
            raise DestinationError("secret %s has no pending version to make current" % self.name)
        current = next((version for version, labels in stages.items() if CURRENT in labels), None)
        try:
            if current != pending:
                kwargs = dict(SecretId=self.name, VersionStage=CURRENT, MoveToVersionId=pending)
                if current:
                    kwargs["RemoveFromVersionId"] = current
                self.client.update_secret_version_stage(**kwargs)
            self.client.update_secret_version_stage(SecretId=self.name, VersionStage=PENDING, RemoveFromVersionId=pending)
        except AWS_ERRORS as exc:
            self._fail("promoting the pending version of", exc)

    def discard_pending(self):
        stages = self._stages()
        try:
            for version, labels in stages.items():
                if PENDING not in labels:
                    continue
                if CURRENT in labels and len(stages) == 1:
                    # The first version of a secret is made current whatever
                    # its labels; a secret that holds only a value never set
                    # in IAM must not stay behind claiming it.
                    self.client.delete_secret(SecretId=self.name, ForceDeleteWithoutRecovery=True)
                    return
                self.client.update_secret_version_stage(SecretId=self.name, VersionStage=PENDING,
                                                        RemoveFromVersionId=version)
        except AWS_ERRORS as exc:
            self._fail("dropping the pending version of", exc)

    def describe(self):
        return {"type": self.type, "name": self.name, "region": self.region}

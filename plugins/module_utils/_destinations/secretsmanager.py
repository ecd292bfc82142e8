# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS Secrets Manager: the secret is a JSON value; each rotation is a new AWSCURRENT version.

A pending secret is a version labelled AWSPENDING, the label Secrets
Manager's own rotation uses; promoting it moves AWSCURRENT onto it (and
Secrets Manager labels the previous version AWSPREVIOUS).

A failed store is undone with the labels, not with values: AWSCURRENT and
AWSPREVIOUS (or AWSPENDING) go back to the versions that had them, which
needs only DescribeSecret and UpdateSecretVersionStage, so a writer that
may not read the value (or decrypt it) can still undo its write.
"""

from __future__ import annotations

import re

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    AWS_ERRORS,
    botocore,
    error_code,
    error_message,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.aws_store import AWSStoreDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    ACCESS_KEY,
    PASSWORD,
    DestinationError,
    parse,
    render,
)

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
PREVIOUS = "AWSPREVIOUS"
WHAT = {ACCESS_KEY: "Access key"}
# The labels a store changes, for the current and for the pending slot.
LABELS = {False: (CURRENT, PREVIOUS), True: (PENDING,)}
# "The secret name can contain ASCII letters, numbers, and the following
# characters: /_+=.@-" and is at most 512 characters
# (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html#API_CreateSecret_RequestSyntax).
# IAM user names may also hold "," and so expand into a name AWS refuses.
NAME_CHARACTER = re.compile(r"[A-Za-z0-9/_+=.@-]")
MAX_NAME_LENGTH = 512


def name_problem(name):
    """Why Secrets Manager would refuse ``name``, or None."""
    refused = sorted({char for char in name if not NAME_CHARACTER.match(char)})
    if refused:
        return ("secret.name %r holds %s, which Secrets Manager names cannot contain (only letters, digits and "
                "/_+=.@-)" % (name, " ".join(repr(char) for char in refused)))
    if len(name) > MAX_NAME_LENGTH:
        return "secret.name %r is longer than %d characters" % (name, MAX_NAME_LENGTH)
    return None


class SecretsManagerDestination(AWSStoreDestination):
    type = "secretsmanager"
    service = "secretsmanager"
    default_names = {
        ACCESS_KEY: "rotator/{account_id}/{user_name}/access-key",
        PASSWORD: "rotator/{account_id}/{user_name}/console-password",
    }

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
                self._move_label(kwargs, pending, CURRENT)
            self._move_label(dict(SecretId=self.name, VersionStage=PENDING, RemoveFromVersionId=pending),
                             None, PENDING)
        except AWS_ERRORS as exc:
            self._fail("promoting the pending version of", exc)

    def _move_label(self, kwargs, holder, label):
        """UpdateSecretVersionStage, done when ``label`` ends on ``holder`` (None: nowhere) after all.

        botocore tries a call again when its answer is lost; if the first try
        was applied, the second is refused (the label is no longer where it
        says to remove it from), yet the move it asked for is done.
        """
        try:
            self.client.update_secret_version_stage(**kwargs)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) != "InvalidParameterException":
                raise
            carriers = [version for version, labels in self._stages().items() if label in labels]
            if carriers != ([holder] if holder else []):
                raise

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

    def slots(self):
        # The pending secret is a version of the same secret.
        return (self.resource(),)

    def problems(self):
        return name_problem(self.name)

    def _labels(self):
        """{label: version id} of the labels a store changes; None when the secret does not exist."""
        try:
            stages = self.client.describe_secret(SecretId=self.name).get("VersionIdsToStages", {})
        except AWS_ERRORS as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise DestinationError("describing secret %s failed: %s" % (self.name, error_message(exc))) from None
        return {label: version for version, labels in stages.items() for label in labels
                if label in LABELS[False] + LABELS[True]}

    def snapshot(self, pending=False):
        try:
            return self._labels()
        except DestinationError as exc:
            raise DestinationError("%s; nothing was written, as it could not be put back" % exc) from None

    def restore(self, snapshot, pending=False):
        if snapshot is None:
            self._delete()
            return
        try:
            for label in LABELS[pending]:
                # Moving AWSCURRENT moves AWSPREVIOUS too, so look again before each label.
                self._move(label, snapshot.get(label), (self._labels() or {}).get(label))
        except AWS_ERRORS as exc:
            self._fail("moving the labels back on", exc)
        now = self._labels() or {}
        if any(now.get(label) != snapshot.get(label) for label in LABELS[pending]):
            raise DestinationError("secret %s still does not carry its previous labels" % self.name)

    def _move(self, label, wanted, holder):
        if wanted == holder:
            return
        kwargs = dict(SecretId=self.name, VersionStage=label)
        if wanted:
            kwargs["MoveToVersionId"] = wanted
        if holder:
            kwargs["RemoveFromVersionId"] = holder
        self.client.update_secret_version_stage(**kwargs)

    def _delete(self):
        """Remove a secret this store created: no consumer may find a value nobody should use."""
        try:
            self.client.delete_secret(SecretId=self.name, ForceDeleteWithoutRecovery=True)
        except AWS_ERRORS as exc:
            if error_code(exc) != "ResourceNotFoundException":
                self._fail("deleting", exc)
        try:
            answer = self.client.describe_secret(SecretId=self.name)
        except AWS_ERRORS as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return
            self._fail("describing", exc)
        # AWS may still describe a force-deleted secret for a moment, marked deleted.
        if not answer.get("DeletedDate"):
            raise DestinationError("secret %s still exists after it was deleted" % self.name)

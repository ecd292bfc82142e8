# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SSM Parameter Store: the secret is a JSON SecureString parameter.

A pending secret is a second parameter, ``<name>-pending``, deleted once
its value has been copied to the main parameter.

A failed store is undone by putting the previous value back (or deleting a
parameter the store created), proven by the parameter's version: the one
the restoring PutParameter answered is the latest, so no other write came
after it.  That proof needs ssm:DescribeParameters, not the right to
decrypt; the previous value itself is read before writing, and a value
this writer cannot read is not overwritten.
"""

from __future__ import annotations

import re

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import AWS_ERRORS, error_code, error_message
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.aws_store import AWSStoreDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    ACCESS_KEY,
    PASSWORD,
    DestinationError,
    parse,
    render,
)

PENDING_SUFFIX = "-pending"
# "Parameter names can consist of symbols and letters only: a-zA-Z0-9_.-",
# plus "/" for hierarchies, and "can't be prefixed with aws or ssm"
# (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html).
# IAM user names may also hold +=,@ and so expand into a name AWS refuses.
NAME_CHARACTER = re.compile(r"[A-Za-z0-9_./-]")
RESERVED_PREFIX = re.compile(r"^/?(aws|ssm)", re.IGNORECASE)


def name_problem(name):
    """Why Parameter Store would refuse ``name``, or None."""
    refused = sorted({char for char in name if not NAME_CHARACTER.match(char)})
    if refused:
        return ("SSM parameter name %r holds %s, which parameter names cannot contain (only letters, digits and "
                "_.-/)" % (name, " ".join(repr(char) for char in refused)))
    if RESERVED_PREFIX.match(name):
        return "SSM parameter name %r starts with aws or ssm, which AWS reserves" % (name,)
    return None


class SSMParameterDestination(AWSStoreDestination):
    type = "ssm"
    service = "ssm"
    default_names = {
        ACCESS_KEY: "/rotator/{account_id}/{user_name}/access-key",
        PASSWORD: "/rotator/{account_id}/{user_name}/console-password",
    }

    def _name(self, pending):
        return self.name + PENDING_SUFFIX if pending else self.name

    def _put(self, name, value):
        kwargs = dict(Name=name, Value=value, Type="SecureString", Overwrite=True,
                      Description="Secret of IAM user %s, rotated by rotator.aws_iam" % self.user_name)
        if self.kms_key_id:
            kwargs["KeyId"] = self.kms_key_id
        try:
            return self.client.put_parameter(**kwargs)["Version"]
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
        self._delete(self._name(True))

    def slots(self):
        return (self.resource(), (self.type, self.account, self.region, self._name(True)))

    def problems(self):
        return name_problem(self.name) or name_problem(self._name(True))

    def snapshot(self, pending=False):
        try:
            return self._get(self._name(pending))
        except DestinationError as exc:
            raise DestinationError("%s; nothing was written, as it could not be put back" % exc) from None

    def restore(self, snapshot, pending=False):
        name = self._name(pending)
        if snapshot is None:
            self._delete(name)
            version = None
        else:
            version = self._put(name, snapshot)
        if self._latest_version(name) != version:
            raise DestinationError("parameter %s changed again while its previous value was put back" % name)

    def _delete(self, name):
        try:
            self.client.delete_parameter(Name=name)
        except AWS_ERRORS as exc:
            if error_code(exc) != "ParameterNotFound":
                raise DestinationError("deleting parameter %s failed: %s" % (name, error_message(exc))) from None

    def _latest_version(self, name):
        """The parameter's latest version, None when it does not exist; needs no right to decrypt."""
        try:
            found = self.client.describe_parameters(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])["Parameters"]
        except AWS_ERRORS as exc:
            raise DestinationError("describing parameter %s failed: %s" % (name, error_message(exc))) from None
        return found[0]["Version"] if found else None

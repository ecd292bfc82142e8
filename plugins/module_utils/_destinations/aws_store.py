# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the AWS stores (Secrets Manager, Parameter Store) share: a named secret in an AWS account.

Their options name the secret and say where it lives (region, a central
secrets account reached by its own role), and they are checked alike.
The connection to that account is made once per run, from the credentials
the module started with, and only when a destination is first needed.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    ACCESS_KEY,
    SecretDestination,
    template_errors,
)

AWS_STORE_OPTIONS = dict(
    name=dict(type="str"),
    kms_key_id=dict(type="str"),
    region=dict(type="str"),
    assume_role_arn=dict(type="str"),
    assume_role_external_id=dict(type="str", no_log=True),
)
SECRETS_SESSION_NAME = "rotator-aws-iam-secrets"


def secrets_account(connection, options):
    """The connection to the account and region that hold the secrets."""
    role = options.get("assume_role_arn")
    if role:
        return connection.base.assume_role(role, SECRETS_SESSION_NAME, options.get("assume_role_external_id"),
                                           region=options.get("region") or connection.region)
    if options.get("region"):
        return connection.in_region(options["region"])
    return connection


class AWSStoreDestination(SecretDestination):
    """A destination kept by an AWS service (``service``), under a name in an account and region."""

    service = ""
    options = AWS_STORE_OPTIONS

    def __init__(self, connection, name, user_name, kms_key_id=None, kind=ACCESS_KEY, account=""):
        self.client = connection.client(self.service)
        self.region = connection.region
        self.name = name
        self.user_name = user_name
        self.kms_key_id = kms_key_id
        self.kind = kind
        # The secrets account (the role assumed for it), "" for the module's own.
        self.account = account or ""

    @classmethod
    def option_errors(cls, options, secret_kind):
        if options.get("name") is None:
            return []
        errors = template_errors(options["name"], "secret.name")
        if not options["name"].strip():
            errors.append("secret.name must not be empty")
        return errors

    @classmethod
    def for_user(cls, factory, user_name):
        options = factory.options
        name = factory.expand(options.get("name") or cls.default_names[factory.kind], user_name)
        connection = factory.once("secrets_account", lambda: secrets_account(factory.connection, options))
        return cls(connection, name, user_name, options.get("kms_key_id"), factory.kind,
                   account=options.get("assume_role_arn"))

    def describe(self):
        return {"type": self.type, "name": self.name, "region": self.region}

    def resource(self):
        return (self.type, self.account, self.region, self.name)

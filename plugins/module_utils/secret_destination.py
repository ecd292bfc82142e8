# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a new secret goes: one small interface, one file per destination.

Every destination can write a secret, read it back and describe where it
is without revealing it.  This is also the one place that renders a secret
into text (JSON, the console's CSV, a credentials file profile) and parses
it back.
"""

from __future__ import annotations

import configparser
import csv
import io
import json
import string
from dataclasses import dataclass

SECRET_TYPES = ("secretsmanager", "ssm", "file", "none")
FILE_FORMATS = ("csv", "credentials", "json")
PLACEHOLDERS = ("user_name", "account_id")
DEFAULT_NAMES = {
    "secretsmanager": "rotator/{account_id}/{user_name}/access-key",
    "ssm": "/rotator/{account_id}/{user_name}/access-key",
}
CSV_HEADER = ("Access key ID", "Secret access key")

SECRET_ARGSPEC = dict(
    type=dict(type="str", choices=list(SECRET_TYPES), default="secretsmanager"),
    name=dict(type="str"),
    kms_key_id=dict(type="str"),
    region=dict(type="str"),
    assume_role_arn=dict(type="str"),
    assume_role_external_id=dict(type="str", no_log=True),
    path=dict(type="path"),
    format=dict(type="str", choices=list(FILE_FORMATS)),
    profile=dict(type="str"),
)


@dataclass(frozen=True)
class AccessKeySecret:
    user_name: str
    access_key_id: str
    secret_access_key: str

    def __repr__(self):
        # Keeps the secret out of tracebacks and debug output.
        return "AccessKeySecret(user_name=%r, access_key_id=%r)" % (self.user_name, self.access_key_id)


class DestinationError(Exception):
    """A destination failed; the message names it and never holds a secret."""


def template_errors(template, option):
    """Placeholders other than {user_name} and {account_id} are a mistake in the play."""
    errors = []
    try:
        fields = [parsed[1] for parsed in string.Formatter().parse(template) if parsed[1] is not None]
    except ValueError as exc:
        return ["%s %r is not a valid template: %s" % (option, template, exc)]
    for name in fields:
        if name not in PLACEHOLDERS:
            errors.append("%s %r uses {%s}; only {user_name} and {account_id} are known" % (option, template, name))
    return errors


def expand(template, user_name, account_id):
    return template.format(user_name=user_name, account_id=account_id)


def secret_errors(options) -> list:
    """Problems with the ``secret`` option, found before anything changes."""
    kind = options["type"]
    errors = []
    allowed = {
        "secretsmanager": {"name", "kms_key_id", "region", "assume_role_arn", "assume_role_external_id"},
        "ssm": {"name", "kms_key_id", "region", "assume_role_arn", "assume_role_external_id"},
        "file": {"path", "format", "profile"},
        "none": set(),
    }[kind]
    for option in sorted(set(SECRET_ARGSPEC) - {"type"} - allowed):
        if options.get(option) is not None:
            errors.append("secret.%s does not apply to secret type %s" % (option, kind))
    if kind == "file":
        if not options.get("path"):
            errors.append("secret.path is required for secret type file")
        else:
            errors.extend(template_errors(options["path"], "secret.path"))
        if options.get("profile") is not None and options.get("format") != "credentials":
            errors.append("secret.profile applies only to secret.format credentials")
        if options.get("profile") is not None:
            errors.extend(template_errors(options["profile"], "secret.profile"))
    if kind in DEFAULT_NAMES and options.get("name") is not None:
        errors.extend(template_errors(options["name"], "secret.name"))
        if not options["name"].strip():
            errors.append("secret.name must not be empty")
    return errors


def render(secret: AccessKeySecret, fmt: str, profile: str = "default") -> str:
    """The text of a secret in one of the supported formats."""
    if fmt == "json":
        return json.dumps({"UserName": secret.user_name, "AccessKeyId": secret.access_key_id,
                           "SecretAccessKey": secret.secret_access_key}, sort_keys=True)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerow((secret.access_key_id, secret.secret_access_key))
        return out.getvalue()
    if fmt == "credentials":
        return "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (
            profile, secret.access_key_id, secret.secret_access_key)
    raise ValueError("unknown format %s" % fmt)


def parse(text: str, fmt: str, user_name: str, profile: str = "default"):
    """Read a secret back from its text; None when the text holds none."""
    try:
        if fmt == "json":
            data = json.loads(text)
            return AccessKeySecret(data.get("UserName", user_name), data["AccessKeyId"], data["SecretAccessKey"])
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(text)))
            if len(rows) < 2 or tuple(rows[0][:2]) != CSV_HEADER:
                return None
            return AccessKeySecret(user_name, rows[1][0], rows[1][1])
        if fmt == "credentials":
            parser = configparser.RawConfigParser()
            parser.read_string(text)
            if not parser.has_section(profile):
                return None
            return AccessKeySecret(user_name, parser.get(profile, "aws_access_key_id"),
                                   parser.get(profile, "aws_secret_access_key"))
    except (ValueError, KeyError, IndexError, TypeError, configparser.Error):
        return None
    raise ValueError("unknown format %s" % fmt)


class SecretDestination:
    """Writes a secret, reads it back, says where it is."""

    type = ""

    def write(self, secret: AccessKeySecret) -> None:
        raise NotImplementedError

    def read(self):
        """The stored secret, or None when there is none."""
        raise NotImplementedError

    def describe(self) -> dict:
        raise NotImplementedError


def store_and_read_back(destination: SecretDestination, secret: AccessKeySecret):
    """Write the secret and prove it is there; raises DestinationError if not."""
    destination.write(secret)
    stored = destination.read()
    if stored is None or (stored.access_key_id, stored.secret_access_key) != (secret.access_key_id, secret.secret_access_key):
        raise DestinationError("the secret read back from %s differs from the one written" % describe_text(destination))


def describe_text(destination: SecretDestination) -> str:
    details = destination.describe()
    where = details.get("name") or details.get("path") or ""
    return ("%s %s" % (details["type"], where)).strip()

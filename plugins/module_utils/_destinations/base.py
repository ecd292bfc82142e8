# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a new secret goes: one small interface, one file per destination.

Every destination can write a secret, read it back and describe where it
is without revealing it.  Each destination class also declares what the
``secret`` option needs to know of it (its name, its options, their checks,
its default names), from which ``registry`` builds that option.  This is
also the one place that renders a secret into text (JSON, the console's
CSV, a credentials file profile) and parses it back.
"""

from __future__ import annotations

import configparser
import contextlib
import csv
import io
import json
import string
from dataclasses import dataclass

FILE_FORMATS = ("csv", "credentials", "json")
PLACEHOLDERS = ("user_name", "account_id")
ACCESS_KEY = "access_key"
PASSWORD = "password"
# The column headers of the CSV files the AWS console offers for download.
CSV_HEADERS = {
    ACCESS_KEY: ("Access key ID", "Secret access key"),
    PASSWORD: ("User name", "Password", "Console sign-in URL"),
}
CSV_HEADER = CSV_HEADERS[ACCESS_KEY]

# Files hold secrets: nobody but their owner reads them unless the play says so.
DEFAULT_FILE_MODE = "0600"


@dataclass(frozen=True)
class AccessKeySecret:
    user_name: str
    access_key_id: str
    secret_access_key: str

    kind = ACCESS_KEY

    def __repr__(self):
        # Keeps the secret out of tracebacks and debug output.
        return "AccessKeySecret(user_name=%r, access_key_id=%r)" % (self.user_name, self.access_key_id)

    @property
    def value(self):
        return self.secret_access_key

    def document(self):
        return {"UserName": self.user_name, "AccessKeyId": self.access_key_id, "SecretAccessKey": self.secret_access_key}

    def csv_row(self):
        return (self.access_key_id, self.secret_access_key)


@dataclass(frozen=True)
class PasswordSecret:
    user_name: str
    password: str
    account_id: str = ""

    kind = PASSWORD

    def __repr__(self):
        return "PasswordSecret(user_name=%r)" % (self.user_name,)

    @property
    def value(self):
        return self.password

    @property
    def sign_in_url(self):
        return "https://%s.signin.aws.amazon.com/console" % self.account_id if self.account_id else ""

    def document(self):
        return {"UserName": self.user_name, "Password": self.password, "AccountId": self.account_id,
                "SignInUrl": self.sign_in_url}

    def csv_row(self):
        return (self.user_name, self.password, self.sign_in_url)


class DestinationError(Exception):
    """A destination failed; the message names it and never holds a secret."""


class DestinationUncertain(DestinationError):
    """A failed store whose destination could not be put back as it was: it may hold the new secret.

    The caller must keep the new credential (the next run adopts it or
    settles it), never delete it.
    """


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


def render(secret, fmt: str, profile: str = "default") -> str:
    """The text of a secret in one of the supported formats."""
    if fmt == "json":
        return json.dumps(secret.document(), sort_keys=True)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADERS[secret.kind])
        writer.writerow(secret.csv_row())
        return out.getvalue()
    if fmt == "credentials" and secret.kind == ACCESS_KEY:
        return "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (
            profile, secret.access_key_id, secret.secret_access_key)
    raise ValueError("unknown format %s" % fmt)


def parse(text: str, fmt: str, user_name: str, profile: str = "default", kind: str = ACCESS_KEY):
    """Read a secret of ``kind`` back from its text; None when the text holds none."""
    try:
        if fmt == "json":
            data = json.loads(text)
            if not isinstance(data, dict):
                return None
            if kind == PASSWORD:
                return PasswordSecret(data.get("UserName", user_name), data["Password"], data.get("AccountId", ""))
            return AccessKeySecret(data.get("UserName", user_name), data["AccessKeyId"], data["SecretAccessKey"])
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(text)))
            header = CSV_HEADERS[kind]
            if len(rows) < 2 or tuple(rows[0][:len(header)]) != header:
                return None
            if kind == PASSWORD:
                return PasswordSecret(rows[1][0], rows[1][1], _account_from_url(rows[1][2]))
            return AccessKeySecret(user_name, rows[1][0], rows[1][1])
        if fmt == "credentials" and kind == ACCESS_KEY:
            parser = configparser.RawConfigParser()
            parser.read_string(text)
            if not parser.has_section(profile):
                return None
            return AccessKeySecret(user_name, parser.get(profile, "aws_access_key_id"),
                                   parser.get(profile, "aws_secret_access_key"))
    except (ValueError, KeyError, IndexError, TypeError, configparser.Error):
        return None
    raise ValueError("unknown format %s" % fmt)


def _account_from_url(url):
    prefix, suffix = "https://", ".signin.aws.amazon.com/console"
    return url[len(prefix):-len(suffix)] if url.startswith(prefix) and url.endswith(suffix) else ""


class SecretDestination:
    """Writes a secret, reads it back, says where it is.

    A secret can also be written as *pending*: kept beside the current one
    until :meth:`promote` makes it current or :meth:`discard_pending` drops
    it.  Passwords use this, so the destination never claims a password
    IAM does not hold yet.
    """

    # Its value of ``secret.type``.
    type = ""
    # Its part of the ``secret`` option's argument spec (``type`` aside).
    options = {}
    # The name of a user's secret when ``secret.name`` is not given, per kind of secret ({} for none).
    default_names = {}

    @classmethod
    def option_errors(cls, options, secret_kind) -> list:
        """Problems with its ``secret`` options when it is the chosen type, found before anything changes."""
        return []

    @classmethod
    def for_user(cls, factory, user_name):
        """The destination of one user, from ``factory.options`` (the ``secret`` option) and what the run shares."""
        raise NotImplementedError

    def write(self, secret, pending=False) -> None:
        raise NotImplementedError

    def read(self, pending=False):
        """The stored (or pending) secret, or None when there is none."""
        raise NotImplementedError

    def promote(self) -> None:
        """Make the pending secret the current one."""
        raise NotImplementedError

    def discard_pending(self) -> None:
        raise NotImplementedError

    def describe(self) -> dict:
        raise NotImplementedError

    def snapshot(self, pending=False):
        """What the (pending) slot holds now, as :meth:`restore` needs it; raises DestinationError if unknowable."""
        raise NotImplementedError

    def restore(self, snapshot, pending=False) -> None:
        """Put back what :meth:`snapshot` saw and prove it is there; raises DestinationError if not."""
        raise NotImplementedError

    def resource(self) -> tuple:
        """What one write rewrites as a whole: writes to one resource must not overlap."""
        raise NotImplementedError

    def slots(self) -> tuple:
        """Everything this destination writes (current and pending), which no other user's destination may share."""
        raise NotImplementedError

    def problems(self):
        """Why this destination cannot be written, found before any key is created; None when it can."""
        return None

    def exclusive(self):
        """Held across a whole store: nothing else writes the resource meanwhile."""
        return contextlib.nullcontext()


def _same(stored, secret):
    return stored is not None and stored.document() == secret.document()


def store_and_read_back(destination: SecretDestination, secret, pending=False):
    """Write the secret and prove it is there.

    On any failure once the destination may have changed (the write raised,
    perhaps after AWS applied it; the read-back raised or differs), what the
    destination held just before the write is put back and proven, then
    DestinationError is raised.  If that cannot be done, DestinationUncertain:
    the destination may hold the new secret.  A snapshot that cannot be taken
    is a DestinationError before anything is written.
    """
    with destination.exclusive():
        before = destination.snapshot(pending)
        try:
            destination.write(secret, pending=pending)
            if not _same(destination.read(pending=pending), secret):
                raise DestinationError("the secret read back from %s differs from the one written"
                                       % describe_text(destination))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            _put_back(destination, before, pending, exc)


def _put_back(destination, before, pending, cause):
    where = describe_text(destination)
    what = "the pending slot of %s" % where if pending else where
    try:
        destination.restore(before, pending)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # The restore may have been applied with only its answer lost: look before calling it uncertain.
        if not _holds(destination, before, pending):
            raise DestinationUncertain("%s; putting back what %s held before failed too (%s), so it may hold the new "
                                       "secret" % (cause, what, exc)) from None
    raise DestinationError("%s; %s holds what it held before again" % (cause, what)) from None


def _holds(destination, before, pending):
    """Whether the destination is back to ``before`` (a snapshot), as far as it can be seen now."""
    try:
        return destination.snapshot(pending) == before
    except Exception:  # pylint: disable=broad-exception-caught
        return False


def promote_and_read_back(destination: SecretDestination, secret):
    """Make the pending secret current and prove the current one is it."""
    with destination.exclusive():
        destination.promote()
        if not _same(destination.read(), secret):
            raise DestinationError("the current secret read back from %s differs from the one promoted"
                                   % describe_text(destination))


def describe_text(destination: SecretDestination) -> str:
    details = destination.describe()
    where = details.get("name") or details.get("path") or ""
    return ("%s %s" % (details["type"], where)).strip()

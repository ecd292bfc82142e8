# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A local file: the console's CSV, one profile of a credentials file, or JSON.

Written with mode 0600 to a temporary file in the same directory and
renamed over the target, so a reader never sees half a secret.  A pending
secret is the file ``<path>.pending``, renamed over the target to promote it.
"""

from __future__ import annotations

import os
import re
import tempfile

from ansible_collections.rotator.aws_iam.plugins.module_utils.secret_destination import (
    ACCESS_KEY,
    DestinationError,
    SecretDestination,
    parse,
    render,
)

# A section header as configparser reads it: the name is kept exactly as
# written, and a comment may follow the closing bracket.
_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*(?:[#;].*)?$")


def replace_profile(text: str, profile: str, section: str) -> str:
    """Put ``section`` in place of profile ``profile`` in a credentials file, keeping everything else."""
    lines = text.splitlines(keepends=True)
    out, replaced, skipping = [], False, False
    for line in lines:
        match = _SECTION.match(line)
        if match:
            skipping = match.group(1) == profile
            if skipping and not replaced:
                out.append(section)
                replaced = True
        if not skipping:
            out.append(line)
    if not replaced:
        if out and not out[-1].endswith("\n"):
            out.append("\n")
        if out and out[-1].strip():
            out.append("\n")
        out.append(section)
    return "".join(out)


def write_atomically(path: str, text: str) -> None:
    directory = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class FileDestination(SecretDestination):
    type = "file"

    def __init__(self, path, fmt, user_name, profile, kind=ACCESS_KEY):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.format = fmt
        self.user_name = user_name
        self.profile = profile
        self.kind = kind

    def _path(self, pending):
        return self.path + ".pending" if pending else self.path

    def problems(self):
        """Why this file cannot be written, found before any key is created."""
        directory = os.path.dirname(self.path)
        if os.path.isdir(self.path):
            return "secret.path %s is a directory" % self.path
        if not os.path.isdir(directory):
            return "directory %s of secret.path does not exist" % directory
        if not os.access(directory, os.W_OK | os.X_OK):
            return "directory %s of secret.path is not writable" % directory
        if os.path.exists(self.path) and not os.access(self.path, os.R_OK):
            return "secret.path %s is not readable" % self.path
        return None

    def _text(self, pending=False):
        path = self._path(pending)
        try:
            with open(path) as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DestinationError("reading %s failed: %s" % (path, exc.strerror)) from None

    def write(self, secret, pending=False):
        text = render(secret, self.format, self.profile)
        if self.format == "credentials":
            text = replace_profile(self._text() or "", self.profile, text)
        try:
            write_atomically(self._path(pending), text)
        except OSError as exc:
            raise DestinationError("writing %s failed: %s" % (self._path(pending), exc.strerror)) from None

    def read(self, pending=False):
        text = self._text(pending)
        return None if text is None else parse(text, self.format, self.user_name, self.profile, self.kind)

    def promote(self):
        try:
            os.replace(self._path(True), self.path)
        except OSError as exc:
            raise DestinationError("renaming %s failed: %s" % (self._path(True), exc.strerror)) from None

    def discard_pending(self):
        try:
            os.unlink(self._path(True))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise DestinationError("deleting %s failed: %s" % (self._path(True), exc.strerror)) from None

    def describe(self):
        details = {"type": self.type, "path": self.path, "format": self.format}
        if self.format == "credentials":
            details["profile"] = self.profile
        return details

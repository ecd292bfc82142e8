# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A local file: the console's CSV, one profile of a credentials file, or JSON.

Written with mode 0600 to a temporary file in the same directory and
renamed over the target, so a reader never sees half a secret.
"""

from __future__ import annotations

import os
import re
import tempfile

from ansible_collections.rotator.aws_iam.plugins.module_utils.secret_destination import (
    DestinationError,
    SecretDestination,
    parse,
    render,
)

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")


def replace_profile(text: str, profile: str, section: str) -> str:
    """Put ``section`` in place of profile ``profile`` in a credentials file, keeping everything else."""
    lines = text.splitlines(keepends=True)
    out, replaced, skipping = [], False, False
    for line in lines:
        match = _SECTION.match(line)
        if match:
            skipping = match.group(1).strip() == profile
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

    def __init__(self, path, fmt, user_name, profile):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.format = fmt
        self.user_name = user_name
        self.profile = profile

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

    def _current_text(self):
        try:
            with open(self.path) as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DestinationError("reading %s failed: %s" % (self.path, exc.strerror)) from None

    def write(self, secret):
        text = render(secret, self.format, self.profile)
        if self.format == "credentials":
            text = replace_profile(self._current_text() or "", self.profile, text)
        try:
            write_atomically(self.path, text)
        except OSError as exc:
            raise DestinationError("writing %s failed: %s" % (self.path, exc.strerror)) from None

    def read(self):
        text = self._current_text()
        return None if text is None else parse(text, self.format, self.user_name, self.profile)

    def describe(self):
        details = {"type": self.type, "path": self.path, "format": self.format}
        if self.format == "credentials":
            details["profile"] = self.profile
        return details

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A local file: the console's CSV, one profile of a credentials file, or JSON.

Written to a temporary file in the same directory and renamed over the
target, so a reader never sees half a secret.  A pending secret is the file
``<path>.pending``, renamed over the target to promote it.

The modules write through :class:`ModuleFileWriter`, the Ansible way
(``atomic_move`` keeps the existing file's owner, group and SELinux
context; ``set_fs_attributes_if_different`` applies ``owner``, ``group``
and ``mode``, 0600 unless the play says otherwise).  :class:`PlainFileWriter`
does the same without a module, with the mode alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import os
import pwd
import re
import tempfile

from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    ACCESS_KEY,
    DEFAULT_FILE_MODE,
    FILE_FORMATS,
    PASSWORD,
    DestinationError,
    SecretDestination,
    parse,
    render,
    template_errors,
)

FILE_OPTIONS = dict(
    path=dict(type="path"),
    format=dict(type="str", choices=list(FILE_FORMATS)),
    profile=dict(type="str"),
    owner=dict(type="str"),
    group=dict(type="str"),
    mode=dict(type="raw"),
)
DEFAULT_FORMAT = "json"
DEFAULT_PROFILE = "{user_name}"

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


def _temporary_copy(path: str, text: str, mode: int = 0o600) -> str:
    """A new file of ``mode`` beside ``path`` holding ``text``, flushed to disk; its name."""
    directory = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary


def write_atomically(path: str, text: str, mode: int = 0o600) -> None:
    temporary = _temporary_copy(path, text, mode)
    try:
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def mode_bits(mode) -> int:
    """The permission bits of an octal ``mode`` as the play gives it (``"0640"``, ``"640"`` or YAML's 0640)."""
    if isinstance(mode, int):
        return mode
    return int(str(mode), 8)


def mode_problem(mode):
    try:
        bits = mode_bits(mode)
    except ValueError:
        return "secret.mode %r is not an octal mode such as '0600'" % (mode,)
    if not 0 <= bits <= 0o7777:
        return "secret.mode %r is not an octal mode such as '0600'" % (mode,)
    return None


class PlainFileWriter:
    """Writes files without an Ansible module (tests, scripts): the mode alone, owner and group as they come."""

    def __init__(self, mode=DEFAULT_FILE_MODE):
        self.mode = mode_bits(mode)

    def write(self, path, text):
        write_atomically(path, text, self.mode)

    def move(self, source, target):
        os.replace(source, target)


class ModuleFileWriter:
    """Writes files the Ansible way, as community.crypto's ``_io.write_file`` does.

    A temporary file beside the target, ``module.atomic_move()`` over it
    (which keeps the target's owner, group and SELinux context), then
    ``module.set_fs_attributes_if_different()`` with the play's owner, group
    and mode.  The target is given those attributes *before* the move: an
    existing one, so its attributes copied onto the new text are already
    right; a missing one is first made empty with mode 0600, because
    ``atomic_move`` would otherwise give a new file the umask's mode (0644)
    for a moment, with the secret in it.
    """

    def __init__(self, module, owner=None, group=None, mode=DEFAULT_FILE_MODE):
        self.module = module
        self.settings = dict(owner=owner, group=group, mode=mode)

    def _file_args(self, path):
        return self.module.load_file_common_arguments(self.settings, path=path)

    def _ready(self, path):
        file_args = self._file_args(path)
        if not os.path.exists(path):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self.module.set_fs_attributes_if_different(file_args, False)
        return file_args

    def write(self, path, text):
        file_args = self._ready(path)
        temporary = _temporary_copy(path, text)
        try:
            self.module.atomic_move(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        self.module.set_fs_attributes_if_different(file_args, False)

    def move(self, source, target):
        file_args = self._ready(target)
        self.module.atomic_move(source, target)
        self.module.set_fs_attributes_if_different(file_args, False)


def file_writer(options, module=None):
    """How files are written: through the module when there is one, with the play's owner, group and mode."""
    mode = options.get("mode")
    mode = DEFAULT_FILE_MODE if mode is None else mode
    if module is None:
        return PlainFileWriter(mode)
    return ModuleFileWriter(module, options.get("owner"), options.get("group"), mode)


def _reason(exc):
    return getattr(exc, "strerror", None) or str(exc)


def _owner_problem(owner, group):
    """An owner or group that does not exist, or that this user may not give a file, is found before any change."""
    for what, value, lookup, ident in (("owner", owner, pwd.getpwnam, os.geteuid),
                                       ("group", group, grp.getgrnam, os.getegid)):
        if value is None:
            continue
        try:
            number = int(value) if str(value).isdigit() else lookup(value)[2]
        except KeyError:
            return "secret.%s %s does not exist" % (what, value)
        if os.geteuid() != 0 and number != ident() and (what == "owner" or number not in os.getgroups()):
            return "secret.%s %s: only root may give a file to another %s" % (what, value, what)
    return None


class FileDestination(SecretDestination):
    type = "file"
    options = FILE_OPTIONS

    @classmethod
    def option_errors(cls, options, secret_kind):
        errors = []
        if secret_kind == PASSWORD and options.get("format") == "credentials":
            errors.append("secret.format credentials holds access keys, not passwords; use json or csv")
        if not options.get("path"):
            errors.append("secret.path is required for secret type file")
        else:
            errors.extend(template_errors(options["path"], "secret.path"))
        if options.get("profile") is not None and options.get("format") != "credentials":
            errors.append("secret.profile applies only to secret.format credentials")
        if options.get("profile") is not None:
            errors.extend(template_errors(options["profile"], "secret.profile"))
        return errors

    @classmethod
    def for_user(cls, factory, user_name):
        options = factory.options
        profile = factory.expand(options.get("profile") or DEFAULT_PROFILE, user_name)
        return cls(factory.expand(options["path"], user_name), options.get("format") or DEFAULT_FORMAT, user_name,
                   profile, factory.kind, writer=file_writer(options, factory.module))

    def __init__(self, path, fmt, user_name, profile, kind=ACCESS_KEY, writer=None):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.format = fmt
        self.user_name = user_name
        self.profile = profile
        self.kind = kind
        self.writer = writer or PlainFileWriter()

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
        settings = getattr(self.writer, "settings", {})
        if settings.get("mode") is not None and mode_problem(settings["mode"]):
            return mode_problem(settings["mode"])
        return _owner_problem(settings.get("owner"), settings.get("group"))

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
        self._write_text(self._path(pending), text)

    def _write_text(self, path, text):
        try:
            self.writer.write(path, text)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # atomic_move raises plain Exceptions; the message names paths only.
            raise DestinationError("writing %s failed: %s" % (path, _reason(exc))) from None

    def read(self, pending=False):
        text = self._text(pending)
        return None if text is None else parse(text, self.format, self.user_name, self.profile, self.kind)

    def promote(self):
        if not os.path.exists(self._path(True)):
            raise DestinationError("renaming %s failed: it does not exist" % self._path(True))
        try:
            self.writer.move(self._path(True), self.path)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise DestinationError("renaming %s failed: %s" % (self._path(True), _reason(exc))) from None

    def discard_pending(self):
        self._remove(self._path(True))

    def _remove(self, path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise DestinationError("deleting %s failed: %s" % (path, exc.strerror)) from None

    def resource(self):
        # A credentials file is rewritten whole, whichever profile changes.
        return (self.type, self.path)

    @contextlib.contextmanager
    def exclusive(self):
        """Keep other processes (other forks, other plays) from rewriting the file during a whole store.

        An advisory ``flock`` on the file's directory: every writer of this
        collection takes it, whichever file of the directory it writes.  A
        directory that cannot be opened for reading gets no lock across
        processes (threads of one module are serialised anyway).
        """
        try:
            handle = os.open(os.path.dirname(self.path) or ".", os.O_RDONLY)
        except OSError:
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # releases the lock

    def slots(self):
        if self.format == "credentials":
            return ((self.type, self.path, self.profile),)
        return ((self.type, self.path), (self.type, self._path(True)))

    def snapshot(self, pending=False):
        # The whole text: for a credentials file that is what was there, all profiles included.
        return self._text(pending)

    def restore(self, snapshot, pending=False):
        path = self._path(pending)
        if snapshot is None:
            self._remove(path)
        else:
            self._write_text(path, snapshot)
        if self._text(pending) != snapshot:
            raise DestinationError("%s does not hold its previous text" % path)

    def describe(self):
        details = {"type": self.type, "path": self.path, "format": self.format}
        if self.format == "credentials":
            details["profile"] = self.profile
        return details

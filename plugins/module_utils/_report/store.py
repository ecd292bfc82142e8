# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where the audit report is kept: a directory, or an S3 bucket with server-side encryption.

For the collection's own use (the ``rotation_report_store`` module): it may change in any release.

Both stores take files by a name relative to the destination (``report.json``,
``4711/slices/4712/report.json``) and read back the slices' reports of a run
(``<run>/slices/<slice>/report.json``) for the merge.  A directory is
written the Ansible way (a temporary file, ``atomic_move``, the file common
arguments); it is refused inside an ansible-runner job's directories
(``runner_dirs.py``).  An S3 object is written with server-side encryption
(SSE-S3 ``AES256``, or ``aws:kms`` with a key), and ``HeadObject`` reads
back that S3 applied it: a bucket policy or a proxy that dropped the header
fails the write instead of leaving a report unencrypted.
"""

from __future__ import annotations

import os
import posixpath
import re

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import AWS_ERRORS, error_message
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.file import ModuleFileWriter
from ansible_collections.rotator.aws_iam.plugins.module_utils._report.runner_dirs import refusal

REPORT_FILE = "report.json"
SLICES = "slices"
SSE_S3 = "AES256"
SSE_KMS = "aws:kms"
ENCRYPTIONS = (SSE_S3, SSE_KMS)
CONTENT_TYPES = {".json": "application/json", ".csv": "text/csv; charset=utf-8", ".html": "text/html; charset=utf-8"}
# A slice's name is one path segment: AWX's job id, or any name without a separator.
SLICE_NAME = re.compile(r"^[^/\\]+$")


class ReportStoreError(Exception):
    """The report cannot be written or read there; the message names the place, never a credential."""


def name_problem(name):
    """Why ``name`` is not a relative name inside the destination (no absolute path, no ``..``), or None."""
    parts = name.split("/")
    if not name or name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in parts):
        return "%r is not a relative name inside the destination (parts separated by /, no '..')" % name
    return None


def slice_report_problem(name):
    """Why ``name``, under ``slices/``, is not where ``read_slices`` finds a slice's report, or None."""
    parts = name.split("/")
    if parts[0] != SLICES or (len(parts) == 3 and SLICE_NAME.match(parts[1]) and parts[2] == REPORT_FILE):
        return None
    return ("%r is not where the merge reads a slice's report (%s/<slice>/%s, the slice's name one path segment)"
            % (name, SLICES, REPORT_FILE))


def joined(*parts):
    """Key or path parts joined by ``/``, empty ones left out."""
    return "/".join(part.strip("/") for part in parts if part and part.strip("/"))


def directory_mode(mode):
    """The mode of a directory the store creates: the file's, with search where there is read (0640 -> 0750)."""
    return mode | ((mode & 0o444) >> 2)


class ReportFileWriter(ModuleFileWriter):
    """ModuleFileWriter with every file common argument of the module (owner, group, mode and SELinux)."""

    def _file_args(self, path):
        return self.module.load_file_common_arguments(self.module.params, path=path)

    def set_attributes(self, path):
        """Give an existing file the play's attributes; True when one changed."""
        return self.module.set_fs_attributes_if_different(self._file_args(path), False)

    def set_directory_owner(self, path):
        """Give a directory made for the files their owner and group, so that whoever may read them can reach them."""
        params = self.module.params
        self.module.set_owner_if_different(path, params.get("owner"), False)
        self.module.set_group_if_different(path, params.get("group"), False)


class DirectoryStore:
    """The report's files in a directory of the controller."""

    def __init__(self, path, writer, environ, dir_mode=0o750, directory_owner=None):
        self.root = os.path.abspath(os.path.expanduser(path))
        self.writer = writer
        self.environ = environ
        self.dir_mode = dir_mode
        # Called with each directory the store makes (ReportFileWriter.set_directory_owner), or None.
        self.directory_owner = directory_owner

    def location(self, name=""):
        return os.path.join(self.root, *name.split("/")) if name else self.root

    def _refusal(self, names):
        """The first of the root and the files ``names`` that lies in a job's directory, or None.

        Each file is looked at too: a directory or a file inside the destination may be a symbolic link into
        the job's directories, and writing follows it.
        """
        for path in [self.root] + [self.location(name) for name in names]:
            refused = refusal(path, self.environ)
            if refused:
                return refused
        return None

    def problems(self, names=()):
        """Why nothing may be written here (into the root, or as the files ``names``), found before anything is."""
        refused = self._refusal(names)
        if refused:
            return ("refusing to write the report: %s; AWX deletes that directory when the job ends, and the job's "
                    "credential is kept there (ansible-runner's command and env files): give a persistent directory "
                    "outside it, or an S3 bucket" % refused)
        existing = self.root
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing):
            return "%s is not a directory" % existing
        if not os.access(existing, os.W_OK | os.X_OK):
            return "directory %s is not writable" % existing
        return None

    def _text(self, path):
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def _make_directories(self, directory):
        """Create ``directory`` and the missing ones above it, each of ``dir_mode`` whatever the umask."""
        missing = []
        while not os.path.isdir(directory):
            missing.append(directory)
            directory = os.path.dirname(directory)
        for created in reversed(missing):
            try:
                os.mkdir(created, self.dir_mode)
            except FileExistsError:
                # Another slice job of the run, writing into the same directory, made it meanwhile.
                if os.path.isdir(created):
                    continue
                raise
            os.chmod(created, self.dir_mode)
            if self.directory_owner is not None:
                self.directory_owner(created)

    def would_change(self, name, text):
        """Whether ``write`` would change the file (its text, or in check mode its attributes); writes nothing."""
        path = self.location(name)
        try:
            if not os.path.isfile(path) or self._text(path) != text:
                return True
            # In check mode set_fs_attributes_if_different only answers whether an attribute differs.
            return self.writer.set_attributes(path)
        except OSError as exc:
            raise ReportStoreError("reading %s failed: %s" % (path, exc.strerror or exc)) from None

    def write(self, name, text):
        """Write one file atomically; True when its text changed."""
        path = self.location(name)
        try:
            self._make_directories(os.path.dirname(path))
            changed = self._text(path) != text
            if changed:
                self.writer.write(path, text)
            else:
                # The same text: only the attributes the play asks for may differ.
                changed = self.writer.set_attributes(path)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # atomic_move raises plain Exceptions; their messages name paths only.
            raise ReportStoreError("writing %s failed: %s" % (path, getattr(exc, "strerror", None) or exc)) from None
        return changed

    def read_slices(self, run):
        """Slice name -> text of ``<run>/slices/<slice>/report.json``, for every slice there."""
        directory = self.location(joined(run, "slices"))
        if not os.path.isdir(directory):
            return {}
        found = {}
        for entry in sorted(os.listdir(directory)):
            path = os.path.join(directory, entry, REPORT_FILE)
            if os.path.isfile(path):
                found[entry] = self._text(path)
        return found


def _s3(description, func, **request):
    """``func(**request)``; an AWS error becomes a ReportStoreError naming the call and AWS's code and request id."""
    try:
        return func(**request)
    except AWS_ERRORS as exc:
        raise ReportStoreError("%s failed: %s" % (description, error_message(exc))) from None


class S3Store:
    """The report's files as objects of an S3 bucket, under a key prefix, encrypted by S3."""

    def __init__(self, client, bucket, prefix="", encryption=SSE_S3, kms_key_id=None, kms=None):
        self.client = client
        self.bucket = bucket
        self.prefix = (prefix or "").strip("/")
        self.encryption = encryption
        self.kms_key_id = kms_key_id
        # The KMS client that resolves an alias to the key S3 names in HeadObject.
        self.kms = kms
        self._alias_key = None

    def key(self, name=""):
        return joined(self.prefix, name)

    def location(self, name=""):
        return "s3://%s/%s" % (self.bucket, self.key(name))

    def problems(self, names=()):  # pylint: disable=unused-argument
        """Whether the bucket can be listed under the prefix, before anything is written.

        A listing of the prefix, not HeadBucket: both need s3:ListBucket, but HeadBucket names no prefix, so a
        policy that grants s3:ListBucket on the prefix only (``s3:prefix`` condition, docs/awx.md) denies it.
        """
        try:
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.key() + "/" if self.prefix else "", MaxKeys=1)
        except AWS_ERRORS as exc:
            return "S3 bucket %s cannot be used for the report: %s" % (self.bucket, error_message(exc))
        return None

    def _encryption(self):
        settings = {"ServerSideEncryption": self.encryption}
        if self.encryption == SSE_KMS and self.kms_key_id:
            settings["SSEKMSKeyId"] = self.kms_key_id
        return settings

    def _is_alias(self):
        return self.kms_key_id.startswith("alias/") or ":alias/" in self.kms_key_id

    def _key_of_alias(self):
        """The ARN of the key the alias names (KMS DescribeKey, once)."""
        if self._alias_key is None:
            if self.kms is None:
                raise ReportStoreError("the KMS key alias %s cannot be resolved to compare it with the key S3 used: "
                                       "no KMS client" % self.kms_key_id)
            answer = _s3("KMS DescribeKey %s" % self.kms_key_id, self.kms.describe_key, KeyId=self.kms_key_id)
            self._alias_key = answer["KeyMetadata"]["Arn"]
        return self._alias_key

    def _wanted_key(self):
        """The key asked for, as compared with HeadObject's answer: an alias as the ARN of its key."""
        return "%s (%s)" % (self.kms_key_id, self._key_of_alias()) if self._is_alias() else self.kms_key_id

    def _kms_key_matches(self, applied):
        """Whether S3 used the key asked for; it answers with the key's ARN, so a key id matches its ARN's end.

        An alias (``alias/...``) is resolved by KMS (DescribeKey) to its key's ARN, which S3 names.
        """
        wanted = self.kms_key_id
        if not wanted or applied == wanted:
            return True
        if self._is_alias():
            return applied == self._key_of_alias()
        return (applied or "").endswith("/" + wanted)

    def would_change(self, name, text):  # pylint: disable=unused-argument
        """Whether ``write`` would change the object: it puts it every time."""
        return True

    def write(self, name, text):
        """Put one object with server-side encryption, then read back that S3 encrypted it; always a change."""
        key, body = self.key(name), text.encode("utf-8")
        content_type = CONTENT_TYPES.get(posixpath.splitext(name)[1], "application/octet-stream")
        _s3("PutObject %s" % self.location(name), self.client.put_object, Bucket=self.bucket, Key=key, Body=body,
            ContentType=content_type, **self._encryption())
        head = _s3("HeadObject %s" % self.location(name), self.client.head_object, Bucket=self.bucket, Key=key)
        applied = head.get("ServerSideEncryption")
        if applied != self.encryption:
            raise ReportStoreError("%s is stored with server-side encryption %s, not %s" % (
                self.location(name), applied or "none", self.encryption))
        if self.encryption == SSE_KMS and not self._kms_key_matches(head.get("SSEKMSKeyId")):
            raise ReportStoreError("%s is encrypted with KMS key %s, not %s" % (
                self.location(name), head.get("SSEKMSKeyId"), self._wanted_key()))
        if head.get("ContentLength") != len(body):
            raise ReportStoreError("%s holds %s bytes, not the %d written" % (
                self.location(name), head.get("ContentLength"), len(body)))
        return True

    def read_slices(self, run):
        """Slice name -> text of every ``<prefix>/<run>/slices/<slice>/report.json`` object."""
        slices_key = self.key(joined(run, "slices")) + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        pages = _s3("ListObjectsV2 %s" % self.location(joined(run, "slices")),
                    lambda **request: list(paginator.paginate(**request)), Bucket=self.bucket, Prefix=slices_key)
        found = {}
        for page in pages:
            for item in page.get("Contents", []):
                slice_name, _sep, rest = item["Key"][len(slices_key):].partition("/")
                if rest == REPORT_FILE and SLICE_NAME.match(slice_name):
                    answer = _s3("GetObject s3://%s/%s" % (self.bucket, item["Key"]), self.client.get_object,
                                 Bucket=self.bucket, Key=item["Key"])
                    found[slice_name] = answer["Body"].read().decode("utf-8")
        return dict(sorted(found.items()))

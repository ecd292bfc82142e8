# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The directories of an ansible-runner (AWX) job that hold its credential: no report is written there.

For the collection's own use: it may change in any release.

ansible-runner runs every AWX job in a private data directory: ``env/``
holds what AWX gives the job (``envvars`` with the credential's
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SECURITY_TOKEN,
``extravars``, ``passwords``, ``ssh_key``), and ``artifacts/<job id>/``
holds the job's ``command`` file (the command line and the whole
environment, credential included), its events and its output.  AWX deletes
the whole directory when the job ends, so a report written there is lost, and
anyone who may read the report would be reading beside the credential.

A play finds these directories from what ansible-runner and AWX put in its
environment: ``AWX_ISOLATED_DATA_DIR`` (the artifacts directory, set by
ansible-runner: ``<private data dir>/artifacts/<ident>``, or
``/runner/artifacts/<ident>`` in an execution environment), and
``AWX_PRIVATE_DATA_DIR`` (set by AWX).  Without them (a runner that does not
set them, a path given through a symbolic link), the files ansible-runner
leaves there give the directories away: a ``command`` file, or an ``env/``
directory holding one of ansible-runner's input files.
"""

from __future__ import annotations

import os

ARTIFACTS_VARIABLE = "AWX_ISOLATED_DATA_DIR"
PRIVATE_DATA_VARIABLE = "AWX_PRIVATE_DATA_DIR"
# ansible-runner's input files under <private data dir>/env/ (ansible-runner's documentation, "Input directory
# hierarchy"); any one of them marks the directory as a private data directory, a bare env/ (a virtualenv) does not.
RUNNER_ENV_FILES = ("envvars", "extravars", "passwords", "cmdline", "settings", "ssh_key")
# The file ansible-runner writes into the artifacts directory with the command line and the whole environment.
COMMAND_FILE = "command"


def under_awx(environ):
    """Whether the play runs as an AWX (ansible-runner) job: the artifacts directory is set."""
    return bool(environ.get(ARTIFACTS_VARIABLE))


def job_directories(environ):
    """(directory, what it is) of the job's directories the environment names."""
    found = []
    artifacts = environ.get(ARTIFACTS_VARIABLE)
    if artifacts:
        found.append((artifacts, "the job's artifacts directory (%s)" % ARTIFACTS_VARIABLE))
        parent = os.path.dirname(os.path.normpath(artifacts))
        # <private data dir>/artifacts/<ident>: the private data directory is two levels up.
        if os.path.basename(parent) == "artifacts":
            found.append((os.path.dirname(parent), "ansible-runner's private data directory (the one holding %s)"
                          % ARTIFACTS_VARIABLE))
    private = environ.get(PRIVATE_DATA_VARIABLE)
    if private:
        found.append((private, "the job's private data directory (%s)" % PRIVATE_DATA_VARIABLE))
    return found


def runner_files_in(directory):
    """What in ``directory`` shows that ansible-runner keeps a job's credential there; None when nothing does."""
    if os.path.isfile(os.path.join(directory, COMMAND_FILE)):
        return "it holds ansible-runner's %s file" % COMMAND_FILE
    env = os.path.join(directory, "env")
    held = [name for name in RUNNER_ENV_FILES if os.path.exists(os.path.join(env, name))]
    if held:
        return "it holds ansible-runner's env/%s" % held[0]
    return None


def _inside(path, directory):
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _ancestors(path):
    """``path`` and every directory above it, up to the root."""
    while True:
        yield path
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


def refusal(path, environ):
    """Why a report may not be written at ``path`` (beside a job's credential), or None.

    Paths are compared once symbolic links are resolved, so a link into the
    private data directory is refused like the directory itself.
    """
    target = os.path.realpath(path)
    for directory, what in job_directories(environ):
        if _inside(target, os.path.realpath(directory)):
            return "%s is inside %s, %s" % (path, what, os.path.realpath(directory))
    for directory in _ancestors(target):
        reason = runner_files_in(directory)
        if reason:
            return "%s is inside %s, ansible-runner's directory of a job: %s" % (path, directory, reason)
    return None

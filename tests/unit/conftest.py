"""Make ``ansible_collections.rotator.aws_iam`` importable in a plain ``pytest`` run.

Under ``ansible-test units`` the collection already sits in an
``ansible_collections/rotator/aws_iam`` tree and this does nothing.  From a
checkout, a temporary directory gets that tree as a symlink to the
repository root and its parent goes on ``sys.path``.  ``ansible_collections``
and ``ansible_collections.rotator`` stay namespace packages, so other
collections on the path keep working.
"""

from __future__ import annotations

import atexit
import importlib
import os
import shutil
import sys
import tempfile

PROBE = "ansible_collections.rotator.aws_iam.plugins.module_utils"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _importable():
    try:
        importlib.import_module(PROBE)
    except ImportError:
        return False
    return True


def _link_collection():
    parent = tempfile.mkdtemp(prefix="rotator-aws-iam-")
    atexit.register(shutil.rmtree, parent, True)
    namespace = os.path.join(parent, "ansible_collections", "rotator")
    os.makedirs(namespace)
    os.symlink(REPO_ROOT, os.path.join(namespace, "aws_iam"))
    sys.path.insert(0, parent)
    # A failed probe may have left empty namespace packages or negative
    # finder caches behind; forget them so the new path entry is seen.
    for name in [name for name in sys.modules if name == "ansible_collections" or name.startswith("ansible_collections.rotator")]:
        del sys.modules[name]
    importlib.invalidate_caches()


if not _importable():
    _link_collection()
    importlib.import_module(PROBE)

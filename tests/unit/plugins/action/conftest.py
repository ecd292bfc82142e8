"""Real plays against the stub: ``ansible-playbook`` with this collection, and amazon.aws when it can be had.

amazon.aws comes from the ``ansible`` package on PyPI (which bundles it): the
benchmarks' peer venv when it was set up, else a cached copy, else it is
downloaded once with ``pip download`` into the cache.  When none of that
works (no PyPI), a stand-in named amazon.aws whose group ``aws`` lists no
module takes its place, so ``group/amazon.aws.aws`` still resolves and our
side is still proven; tests that run amazon.aws's own modules are skipped.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import ansible_collections.rotator.aws_iam.plugins as collection_plugins

REPO_ROOT = Path(__file__).resolve().parents[4]
# The ansible release whose amazon.aws the benchmarks compare with (benchmarks/requirements.txt).
ANSIBLE_PACKAGE = "ansible==11.13.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rotator-aws-iam" / "amazon.aws-ansible-11.13.0"
MEMBERS = "ansible_collections/amazon/aws/"


def collections_root():
    """The directory holding this collection's ``ansible_collections/rotator/aws_iam`` (the tests' tree)."""
    return Path(list(collection_plugins.__path__)[0]).parents[3]


def _peer_copy():
    found = glob.glob(str(REPO_ROOT / "benchmarks" / ".venv-peer" / "lib" / "python*" / "site-packages"))
    return next((Path(path) for path in found if (Path(path) / MEMBERS).is_dir()), None)


def _downloaded_copy():
    if (CACHE / MEMBERS).is_dir():
        return CACHE
    wheels = CACHE / "wheel"
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                           "--dest", str(wheels), ANSIBLE_PACKAGE], capture_output=True, text=True, timeout=600,
                          check=False)
    if done.returncode != 0:
        return None
    wheel = next(wheels.glob("ansible-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(CACHE, [name for name in archive.namelist() if name.startswith(MEMBERS)])
    wheel.unlink()
    return CACHE


def _stand_in(directory):
    root = directory / "ansible_collections" / "amazon" / "aws"
    (root / "meta").mkdir(parents=True)
    (root / "meta" / "runtime.yml").write_text("requires_ansible: '>=2.15.0'\naction_groups:\n  aws: []\n")
    manifest = {"collection_info": {"namespace": "amazon", "name": "aws", "version": "0.0.0"}}
    (root / "MANIFEST.json").write_text(json.dumps(manifest))
    return directory


@pytest.fixture(scope="session")
def amazon_aws(tmp_path_factory):
    """(directory holding ansible_collections/amazon/aws, whether it is the real collection)."""
    for copy in (_peer_copy, _downloaded_copy):
        found = copy()
        if found is not None:
            return found, True
    return _stand_in(tmp_path_factory.mktemp("amazon_aws_stand_in")), False


class Play:
    """``ansible-playbook`` on localhost with a local connection, in an environment that has no AWS settings.

    AWS_ENDPOINT_URL points at a closed port and there are no credentials, no
    config files and no instance metadata: a task reaches the stub only with
    what the play gives it.
    """

    def __init__(self, directory, collection_paths, closed_url):
        self.directory = directory
        self.collection_paths = collection_paths
        self.closed_url = closed_url

    def environment(self):
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("AWS_", "EC2_", "ANSIBLE_"))}
        env.update(
            ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(str(path) for path in self.collection_paths),
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
            ANSIBLE_LOCAL_TEMP=str(self.directory / "tmp"),
            ANSIBLE_NOCOLOR="1",
            AWS_ENDPOINT_URL=self.closed_url,
            AWS_MAX_ATTEMPTS="1",
            AWS_SHARED_CREDENTIALS_FILE=str(self.directory / "no-credentials"),
            AWS_CONFIG_FILE=str(self.directory / "no-config"),
            AWS_EC2_METADATA_DISABLED="true",
        )
        return env

    def run(self, playbook_text, extra_vars):
        """Run the playbook; (process, the JSON the play saved as ``results.json``)."""
        playbook = self.directory / "play.yml"
        playbook.write_text(playbook_text)
        results = self.directory / "results.json"
        if results.exists():
            results.unlink()
        variables = dict(extra_vars, results_file=str(results), ansible_python_interpreter=sys.executable)
        done = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
                               "-e", json.dumps(variables), str(playbook)],
                              env=self.environment(), cwd=str(self.directory), capture_output=True, text=True,
                              timeout=300, check=False)
        saved = json.loads(results.read_text()) if results.exists() else None
        return done, saved


def closed_port_url():
    """A loopback URL nothing listens on: a port the kernel gave out and took back."""
    import socket  # pylint: disable=import-outside-toplevel
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return "http://127.0.0.1:%d" % port


@pytest.fixture
def play(tmp_path, amazon_aws):
    """A Play whose collections are this one and amazon.aws (or its stand-in)."""
    return Play(tmp_path, [collections_root(), amazon_aws[0]], closed_port_url())


@pytest.fixture
def play_without_amazon_aws(tmp_path):
    """A Play whose only collection is this one."""
    return Play(tmp_path, [collections_root()], closed_port_url())

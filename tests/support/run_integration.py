"""Run ``ansible-test integration`` against the AWS stub, then search its output for secrets.

The stub (moto behind a recording proxy, see ``aws_stub.py``) runs on
loopback for the whole run and is stopped by its PID.  Every access key
secret and password the stub saw being created is searched for in the
``-vvvv`` output and in ansible-test's result files: the run fails on any hit.

Usage: python tests/support/run_integration.py [ansible-test integration arguments: TARGET ..., --exclude TARGET]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stubctl  # noqa: E402  pylint: disable=wrong-import-position
from collection_tree import REPO, collection_tree  # noqa: E402  pylint: disable=wrong-import-position

TEST_ACCESS_KEY = "AKIAROTATORTESTING01"
TEST_SECRET_KEY = "rotator-integration-admin-secret"


def write_config(root: Path, stub: dict, state_file: Path) -> None:
    config = {
        "aws_endpoint_url": stub["endpoint_url"],
        "aws_access_key": TEST_ACCESS_KEY,
        "aws_secret_key": TEST_SECRET_KEY,
        "aws_region": "us-east-1",
        "stub_state_file": str(state_file),
        "stubctl": str(root / "tests" / "support" / "stubctl.py"),
    }
    (root / "tests" / "integration" / "integration_config.yml").write_text(json.dumps(config, indent=2))


def find_leaks(secrets, paths):
    """(secret index, file) for every secret found in any of the files."""
    leaks = []
    for path in paths:
        text = path.read_text(errors="replace")
        for index, secret in enumerate(secrets):
            if secret and secret in text:
                leaks.append((index, path))
    return leaks


def result_files(root: Path, log: Path):
    files = [log]
    output = root / "tests" / "output"
    if output.is_dir():
        files.extend(path for path in output.rglob("*")
                     if path.is_file() and ".tmp" not in path.relative_to(output).parts)
    return files


def main(argv) -> int:
    targets = argv[1:]
    workdir = Path(tempfile.mkdtemp(prefix="rotator-it-"))
    state_file = workdir / "stub.json"
    # One log per run, so runs side by side never write over each other's.
    log = REPO / "tests" / "output" / ("integration-%d.log" % os.getpid())
    log.parent.mkdir(parents=True, exist_ok=True)
    root = collection_tree(workdir)
    stub = stubctl.start(state_file)
    try:
        write_config(root, stub, state_file)
        env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", PY_COLORS="0")
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        command = ["ansible-test", "integration", "--local", "--python",
                   "%d.%d" % sys.version_info[:2], "--color", "no", "-vvvv"] + targets
        with log.open("w") as handle:
            process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True)
            for line in process.stdout:
                handle.write(line)
                if not line.startswith(("<", "EXEC", "PUT", "Using module", "Pipelining", "ESTABLISH")):
                    sys.stdout.write(line)
            code = process.wait()
        secrets = stubctl.control(state_file, "GET", "/_stub/secrets")["secrets"]
    finally:
        stubctl.stop(state_file)
    leaks = find_leaks(secrets, result_files(root, log))
    print("secret scan: %d secrets created by the integration run, searched in %s and %s; %d found"
          % (len(secrets), log, root / "tests" / "output", len(leaks)))
    for index, path in leaks:
        print("LEAK: secret #%d appears in %s" % (index, path))
    # A run of everything (or of the `faults` group, or everything but it) must have rotated something.
    whole_groups = {target for target in targets if not target.startswith("-")} <= {"faults/"}
    if code == 0 and whole_groups and len(secrets) == 0:
        print("secret scan: no secret was created, so the scan proved nothing")
        code = 1
    shutil.rmtree(workdir, ignore_errors=True)
    return code or (1 if leaks else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

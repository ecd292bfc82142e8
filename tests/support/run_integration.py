"""Run ``ansible-test integration`` against the AWS stub, then search its output for secrets.

The selected targets are shared out among shards that run side by side.
Each shard has a collection tree of its own, a stub of its own (moto behind
a recording proxy, see ``aws_stub.py``, on loopback, stopped by its PID) and
a log of its own, and takes the next target from one queue, longest first,
running it as ``ansible-test integration TARGET`` at ``-vvvv``; ansible-test
brings in what the target needs (``needs/target/...``) as it does for any
run.  Every access key secret and password any shard's stub saw being created
is then searched for in every shard's ``-vvvv`` output and ansible-test
result files: the run fails on any hit.

Usage: python tests/support/run_integration.py [--jobs N] [--timings FILE] [TARGET ... | --exclude TARGET ...]

TARGET and ``--exclude`` select as ansible-test does (``faults/`` is the
alias group).  ``--jobs`` (default ``$ROTATOR_IT_JOBS``, else 2) is the number
of shards; ``--jobs 1`` runs everything in one ``ansible-test`` process.
``--timings FILE`` appends each shard's targets and seconds to FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stubctl  # noqa: E402  pylint: disable=wrong-import-position
from collection_tree import REPO, collection_tree  # noqa: E402  pylint: disable=wrong-import-position

TEST_ACCESS_KEY = "AKIAROTATORTESTING01"
TEST_SECRET_KEY = "rotator-integration-admin-secret"
DEFAULT_JOBS = 2
# ansible-test's -vvvv lines that say how a module was shipped and started:
# kept in the logs (and scanned), left out of the console.
NOISE_PREFIXES = ("<", "EXEC", "PUT", "Using module", "Pipelining", "ESTABLISH")
# Wall seconds of each target, measured with 2 shards on a busy 2-core machine
# (bash tests/run.sh integration faults), only to start the longest first so
# the shards finish close together; a target missing here counts as the
# longest, since nothing says it is short.
TARGET_SECONDS = {
    "iam_access_key_rotate_crash": 360,
    "iam_access_key_rotate": 227,
    "iam_password_rotate": 182,
    "playbook_rotate": 120,
    "playbook_report": 57,
    "iam_access_key_rotate_staged": 56,
    "inventory_aws_accounts": 49,
    "iam_access_key_rotate_scale": 16,
    "iam_rotation_info": 12,
    "awx_job_slicing": 40,
    "owner_digests": 30,
    "consumers": 46,
    "restore_old_key": 39,
    "faults_lost_answers": 234,
    "fault_kill": 217,
    "faults_throttle": 93,
    "least_privilege": 77,
    "concurrent_runs": 46,
}


def longest_first(targets, seconds=None):
    """The targets in the order to start them: unknown ones, then by known length, longest first."""
    seconds = TARGET_SECONDS if seconds is None else seconds
    longest = max(seconds.values(), default=0) + 1
    return sorted(targets, key=lambda target: -seconds.get(target, longest))


def is_noise(line):
    return line.startswith(NOISE_PREFIXES)


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


def selects_whole_groups(selection):
    """True when the selection is everything, the `faults` group, or everything but it.

    Such a run must have rotated something; a run of one named target need not.
    """
    return {argument for argument in selection if not argument.startswith("-")} <= {"faults/"}


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


def ansible_test_env():
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", PY_COLORS="0")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def ansible_test_integration(arguments):
    return (["ansible-test", "integration", "--local", "--python", "%d.%d" % sys.version_info[:2], "--color", "no"]
            + list(arguments))


class Shard:
    """One collection tree, one stub, one log: runs targets one after the other."""

    def __init__(self, number: int, run_id: int):
        self.number = number
        self.workdir = None
        self.state_file = None
        # One log per shard and run, so runs side by side never write over each other's.
        self.log = REPO / "tests" / "output" / ("integration-%d-shard%d.log" % (run_id, number))
        self.root = None
        self.secrets = []

    def start(self):
        self.workdir = Path(tempfile.mkdtemp(prefix="rotator-it-%d-" % self.number))
        self.state_file = self.workdir / "stub.json"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.write_text("")
        self.root = collection_tree(self.workdir)
        write_config(self.root, stubctl.start(self.state_file), self.state_file)

    def run(self, arguments, echo):
        """Run ansible-test with these arguments; its output goes to the log and, less the noise, to echo."""
        with self.log.open("a") as handle:
            process = subprocess.Popen(ansible_test_integration(list(arguments) + ["-vvvv"]), cwd=self.root,
                                       env=ansible_test_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True)
            for line in process.stdout:
                handle.write(line)
                if not is_noise(line):
                    echo(line)
            return process.wait()

    def stop(self):
        """Stop the stub, keeping the secrets it saw for the scan."""
        if self.state_file is not None and self.state_file.exists():
            try:
                self.secrets = stubctl.control(self.state_file, "GET", "/_stub/secrets")["secrets"]
            finally:
                stubctl.stop(self.state_file)

    def scanned_files(self):
        return result_files(self.root, self.log) if self.root else [self.log]

    def remove(self):
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


class Console:
    """Whole blocks to stdout, so shards side by side do not interleave their lines."""

    def __init__(self):
        self._lock = threading.Lock()

    def write(self, text):
        with self._lock:
            sys.stdout.write(text)
            sys.stdout.flush()


def list_targets(shard: Shard, selection) -> list:
    """The targets ansible-test would run for this selection (hidden ones, run only as needs, left out)."""
    out = subprocess.run(ansible_test_integration(["--list-targets"] + list(selection)), cwd=shard.root,
                         env=ansible_test_env(), check=True, capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip() and not line.startswith("WARNING")]


def work_through(shard, targets: queue.Queue, console: Console, results: list, after=None, set_up=None):
    """Take targets off the queue until it is empty; one (target, shard, rc, seconds) per target.

    The first ansible-test of a shard starts only once the previous shard's
    first one is past its set-up (event ``after``), and this shard's says so
    (``set_up``) when it names its first target: on a fresh machine
    ansible-test creates the user's SSH key pair in its set-up, and two
    creating it at the same moment make one of them fail.
    """
    set_up = set_up or threading.Event()
    if after is not None:
        after.wait()
    try:
        while True:
            try:
                target = targets.get_nowait()
            except queue.Empty:
                return
            console.write("\n--- shard %d: %s\n" % (shard.number, target))
            lines = []

            def keep(line, lines=lines):  # pylint: disable=dangerous-default-value
                # Bound now: each target's lines are its own.
                lines.append(line)
                if line.startswith("Running "):
                    set_up.set()

            started = time.monotonic()
            code = shard.run([target], keep)
            seconds = time.monotonic() - started
            set_up.set()
            results.append((target, shard.number, code, seconds))
            outcome = "passed" if code == 0 else "FAILED"
            lines.append("--- shard %d: %s %s in %d s\n" % (shard.number, target, outcome, seconds))
            console.write("".join(lines))
    finally:
        set_up.set()


def run_sharded(shards, targets, console: Console):
    """Each shard in a thread of its own, on one queue of targets; the results in finishing order."""
    pending = queue.Queue()
    for target in longest_first(targets):
        pending.put(target)
    results = []
    set_up = [threading.Event() for _shard in shards]
    threads = [threading.Thread(target=work_through, args=(shard, pending, console, results),
                                kwargs={"after": set_up[index - 1] if index else None, "set_up": set_up[index]})
               for index, shard in enumerate(shards)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def shard_lines(results, numbers):
    """One line per shard: its targets and the seconds it worked, as run.sh lists them under the stage."""
    lines = []
    for number in numbers:
        mine = [result for result in results if result[1] == number]
        lines.append("shard %d   %2d targets %5d s  (%s)" % (
            number, len(mine), sum(result[3] for result in mine), " ".join(result[0] for result in mine)))
    return lines


def print_summary(results, shards, started, timings):
    print("\nintegration targets (longest first):")
    for target, number, code, seconds in sorted(results, key=lambda result: -result[3]):
        print("  %-32s shard %d  %-6s %5d s" % (target, number, "passed" if code == 0 else "FAILED", seconds))
    lines = shard_lines(results, [shard.number for shard in shards])
    print("".join("  %s\n" % line for line in lines), end="")
    print("  %d targets on %d shards in %d s" % (len(results), len(shards), time.monotonic() - started))
    if timings:
        with open(timings, "a") as handle:
            handle.write("".join("%s\n" % line for line in lines))


def secret_scan(shards, results_code, selection):
    """Search every shard's output for every shard's secrets; the exit code of the whole run."""
    secrets = [secret for shard in shards for secret in shard.secrets]
    files = [path for shard in shards for path in shard.scanned_files()]
    leaks = find_leaks(secrets, files)
    print("secret scan: %d secrets created by the integration run, searched in %d files (%s); %d found"
          % (len(secrets), len(files), ", ".join(str(shard.log) for shard in shards), len(leaks)))
    for index, path in leaks:
        print("LEAK: secret #%d appears in %s" % (index, path))
    code = results_code
    if code == 0 and selects_whole_groups(selection) and not secrets:
        print("secret scan: no secret was created, so the scan proved nothing")
        code = 1
    return code or (1 if leaks else 0)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("ROTATOR_IT_JOBS", DEFAULT_JOBS)),
                        help="shards side by side (default: $ROTATOR_IT_JOBS, else %(default)s)")
    parser.add_argument("--timings", metavar="FILE", help="append one line per shard to FILE")
    options, selection = parser.parse_known_args(argv)
    if options.jobs < 1:
        parser.error("--jobs must be 1 or more")
    return options, selection


def main(argv) -> int:
    options, selection = parse_args(argv[1:])
    jobs = options.jobs
    started = time.monotonic()
    console = Console()
    shards = [Shard(number, os.getpid()) for number in range(1, jobs + 1)]
    try:
        shards[0].start()
        if jobs == 1:
            code = shards[0].run(selection, console.write)
        else:
            targets = list_targets(shards[0], selection)
            shards = shards[:max(1, min(jobs, len(targets)))]
            for shard in shards[1:]:
                shard.start()
            results = run_sharded(shards, targets, console)
            print_summary(results, shards, started, options.timings)
            code = 0 if len(results) == len(targets) and all(result[2] == 0 for result in results) else 1
    finally:
        for shard in shards:
            shard.stop()
    code = secret_scan(shards, code, selection)
    for shard in shards:
        shard.remove()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The version matrix: units, sanity and a smoke integration on every supported ansible-core.

Usage: python tests/support/matrix/run.py [--lanes N] [--only VERSION ...] [--parts PART,...]

Each ansible-core of ``MATRIX`` gets a virtualenv of its own on the
controller Python of its row, ``<repo>/.venv-matrix/<version>-py<X.Y>``,
made from ``requirements.txt`` beside this file plus the ansible-core pin,
and reused while those are unchanged (a stamp holds their hash).  The row of
the ansible-core the project's own ``.venv`` holds (CI's main run: units,
sanity and integration) uses that venv for its smoke run only.  In it:

units
    ``pytest tests/unit -n 2`` on the controller Python.
sanity
    ``ansible-test sanity --local`` in a collection tree of its own
    (``tests/support/collection_tree.py``), after
    ``tests/support/sanity-bootstrap.sh`` wrote the offline get-pip stand-in
    this ansible-test wants.  ``HOME`` is the row's own directory
    (``.venv-matrix/sanity-home/<row>``), so the sanity venvs ansible-test
    makes are cached per row and two rows never build one at the same time.
sanity-target
    ``--test compile --test import`` on the modules' oldest target Python
    (``TARGET_PYTHON``): module-side code must compile and import there.
smoke
    The demo flow (``demo/run.sh``: the stub, ``demo/seed.py``, a real run of
    ``playbooks/rotate.yml --diff`` that must change both accounts, then
    ``demo/show.py`` (the consumer's key works, the owners' digests), and a
    second run that must change nothing), then one lost-answer case with
    its repair (``smoke_fault.py``); no secret may appear in any output.
    Rows with ``target`` run the modules out of process on a Python
    ``TARGET_PYTHON`` venv with boto3 (``rotator_in_process=false``), the
    others in the worker; either way the run's ``-vvv`` output must show it.

Every row's venv is built at once; then at most ``--lanes`` parts (default
3, of any row; within a row its longest part first) run side by side.  One
line is printed as each part ends (ansible-core, Python, part,
passed/failed, seconds), with the steps inside it and their times, then a
table of all parts; the exit code is 1 if any part failed.  Each
step's output is in ``tests/output/matrix/<row>/<step>.log``; a failed
step's last lines are printed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
VENVS = REPO / ".venv-matrix"
LOGS = REPO / "tests" / "output" / "matrix"
PROJECT_VENV = REPO / ".venv"
TARGET_PYTHON = "3.9"
ALL_PARTS = ("units", "sanity", "sanity-target", "smoke")
STEP_TIMEOUT = 900
TAIL_LINES = 40


@dataclass(frozen=True)
class Row:
    """One ansible-core on one controller Python, the parts it runs, and where its modules run in the smoke run."""

    core: str
    python: str
    parts: tuple = ALL_PARTS
    target: str | None = None

    @property
    def name(self):
        return "%s-py%s" % (self.core, self.python)

    @property
    def series(self):
        return ".".join(self.core.split(".")[:2])


# Oldest and newest ansible-core, and the one CI's main run uses, run their modules on Python 3.9.
MATRIX = (
    Row("2.17.14", "3.12", target=TARGET_PYTHON),
    Row("2.18.19", "3.11"),
    Row("2.19.14", "3.11", parts=("smoke",), target=TARGET_PYTHON),
    Row("2.20.10", "3.12"),
    Row("2.21.5", "3.13", target=TARGET_PYTHON),
)


@dataclass
class Result:
    row: Row
    part: str
    python: str
    passed: bool
    seconds: float
    steps: list = field(default_factory=list)


_print_lock = threading.Lock()
_target_lock = threading.Lock()
# How many parts (of any row) run at once (--lanes).
_lanes = threading.Semaphore(3)
# Within a row, the longest parts first: a short one then fills the end of the run.
PART_ORDER = ("sanity", "units", "smoke", "sanity-target")


def say(message):
    with _print_lock:
        print(message, flush=True)


# -- interpreters and venvs ---------------------------------------------------------------------------


def find_python(version):
    """The pyenv (``PYENV_ROOT``, default ~/.pyenv) or PATH interpreter of a Python X.Y."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = sorted(glob.glob(os.path.join(root, "versions", version + ".*", "bin", "python" + version)),
                   key=lambda path: [int(part) for part in re.findall(r"\d+", path.split("versions")[-1])])
    if found:
        return found[-1]
    on_path = shutil.which("python" + version)
    if on_path:
        return on_path
    raise RuntimeError("no Python %s: install it with pyenv or put python%s on PATH" % (version, version))


def requirement_lines(path, core=None):
    lines = [line.strip() for line in path.read_text().splitlines()]
    wanted = [line for line in lines if line and not line.startswith("#")]
    return (["ansible-core==%s" % core] if core else []) + wanted


def ensure_venv(directory, python_version, requirements, log):
    """A venv at ``directory`` holding exactly ``requirements``; rebuilt when they (or its Python) change."""
    python = find_python(python_version)
    stamp = directory / ".requirements.sha256"
    want = hashlib.sha256("\n".join([python] + requirements).encode()).hexdigest()
    venv_python = directory / "bin" / "python"
    if venv_python.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return venv_python, True
    if directory.exists():
        shutil.rmtree(directory)
    run([python, "-m", "venv", str(directory)], log)
    requirements_file = directory / "requirements.txt"
    requirements_file.write_text("\n".join(requirements) + "\n")
    run([str(venv_python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(requirements_file)],
        log)
    stamp.write_text(want + "\n")
    return venv_python, False


def row_venv(row, log):
    """The row's venv: the project's .venv for the ansible-core it pins, else one in .venv-matrix."""
    if "units" not in row.parts and "sanity" not in row.parts and project_venv_has(row):
        return PROJECT_VENV / "bin" / "python", True
    return ensure_venv(VENVS / row.name, row.python, requirement_lines(HERE / "requirements.txt", row.core), log)


def project_venv_has(row):
    python = PROJECT_VENV / "bin" / "python"
    if not python.exists():
        return False
    probe = subprocess.run([str(python), "-c", "import sys, ansible.release as r; "
                            "print(r.__version__, '%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True, check=False)
    return probe.stdout.split() == [row.core, row.python]


def target_venv(log):
    """The venv the modules run on out of process: Python TARGET_PYTHON with boto3 (built once per matrix run)."""
    with _target_lock:
        return ensure_venv(VENVS / ("target-py" + TARGET_PYTHON), TARGET_PYTHON,
                           requirement_lines(HERE / "requirements-target.txt"), log)


# -- steps ------------------------------------------------------------------------------------------------


class StepFailed(Exception):
    pass


def run(command, log, env=None, cwd=REPO, timeout=STEP_TIMEOUT):
    """Run a command with its output appended to the log; StepFailed unless it exits 0."""
    with open(log, "a") as handle:
        handle.write("$ %s\n" % " ".join(str(part) for part in command))
        handle.flush()
        try:
            done = subprocess.run([str(part) for part in command], stdout=handle, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env, cwd=cwd, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise StepFailed("%s did not finish within %d s" % (Path(str(command[0])).name, timeout)) from None
    if done.returncode != 0:
        raise StepFailed("%s exited with %d" % (" ".join(str(part) for part in command[:4]), done.returncode))


ERROR_LINE = re.compile(r"^(ERROR|FATAL|FAILED|E   )|Error|failed")


def tail(log, lines=TAIL_LINES):
    """What a failed step said: its error lines (pip's and ansible-test's chatter left out), else its last lines."""
    try:
        text = Path(log).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    errors = [line for line in text if ERROR_LINE.search(line)]
    return "\n".join((errors or text)[-lines:])


class Part:
    """The steps of one part of a row, each timed, its output in a log of its own."""

    def __init__(self, row, name, python):
        self.row, self.name, self.python = row, name, python
        self.steps = []
        self.started = time.monotonic()
        self.directory = LOGS / row.name
        self.directory.mkdir(parents=True, exist_ok=True)

    def log(self, step):
        path = self.directory / ("%s.%s.log" % (self.name, step))
        path.write_text("")
        return path

    @contextlib.contextmanager
    def step(self, name):
        started = time.monotonic()
        log = self.log(name)
        try:
            yield log
        except StepFailed as exc:
            self.steps.append((name, False, time.monotonic() - started))
            raise StepFailed("%s: %s (log: %s)\n%s" % (name, exc, log.relative_to(REPO), tail(log))) from None
        self.steps.append((name, True, time.monotonic() - started))

    def result(self, passed):
        return Result(self.row, self.name, self.python, passed, time.monotonic() - self.started, self.steps)


def tool_env(venv_python, home=None, extra_path=()):
    """The environment of a step: the venv's tools first on PATH; its own HOME when given (pip's cache kept)."""
    env = dict(os.environ)
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    env["PATH"] = os.pathsep.join([str(Path(venv_python).parent), *extra_path, env.get("PATH", "")])
    env.update(ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", PY_COLORS="0")
    if home is not None:
        env.setdefault("PIP_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "pip"))
        env["HOME"] = str(home)
    return env


def run_units(part, venv_python):
    with part.step("pytest") as log:
        run([venv_python, "-m", "pytest", "tests/unit", "-q", "-p", "no:cacheprovider", "-n", "2"], log,
            env=tool_env(venv_python))


def sanity_home(row):
    """The row's HOME for ansible-test: its sanity venvs are kept there, apart from the row's venv (rebuilt alone)."""
    home = VENVS / "sanity-home" / row.name
    home.mkdir(parents=True, exist_ok=True)
    return home


def run_sanity(part, venv_python, python, tests=()):
    """ansible-test sanity --local on one Python, in a collection tree of its own."""
    home = sanity_home(part.row)
    extra_path = [str(Path(find_python(python)).parent)] if python != part.row.python else []
    env = tool_env(venv_python, home=home, extra_path=extra_path)
    with part.step("bootstrap") as log:
        run(["bash", REPO / "tests" / "support" / "sanity-bootstrap.sh"], log,
            env=dict(env, ANSIBLE_TEST_PYTHON=str(venv_python)))
    work = Path(tempfile.mkdtemp(prefix="rotator-matrix-sanity-"))
    try:
        with part.step("tree") as log:
            run([venv_python, REPO / "tests" / "support" / "collection_tree.py", work], log, env=env)
        root = work / "ansible_collections" / "rotator" / "aws_iam"
        selected = [argument for test in tests for argument in ("--test", test)]
        with part.step("ansible-test") as log:
            run([Path(venv_python).parent / "ansible-test", "sanity", "--local", "--python", python, "--color", "no",
                 *selected], log, env=env, cwd=root)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- smoke ----------------------------------------------------------------------------------------------

RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
DEMO_HOSTS = ("demo-dev", "demo-prod")


def recap(log):
    """{host: (changed, unreachable + failed)} from the PLAY RECAP of a playbook's output."""
    return {host: (int(changed), int(unreachable) + int(failed))
            for host, _ok, changed, unreachable, failed in RECAP.findall(Path(log).read_text(errors="replace"))}


def check_recap(log, want_changed):
    found = recap(log)
    if sorted(found) != sorted(DEMO_HOSTS):
        raise StepFailed("the recap names %s, expected %s" % (sorted(found), list(DEMO_HOSTS)))
    bad = {host: counts for host, counts in found.items()
           if counts[1] or (counts[0] > 0) != want_changed}
    if bad:
        raise StepFailed("%s: expected every account %s and none failed; recap (changed, failed): %s"
                         % (Path(log).name, "changed" if want_changed else "unchanged", bad))


def check_where_modules_ran(log, out_of_process, target_python):
    """-vvv shows an AnsiballZ payload exactly when a module ran out of process, and on which interpreter."""
    text = Path(log).read_text(errors="replace")
    payloads = re.findall(r"(\S*python\S*) \S*AnsiballZ_(iam_\w+_rotate)\.py", text)
    if out_of_process:
        interpreters = {interpreter.strip("'\"") for interpreter, _module in payloads}
        if not payloads or interpreters != {str(target_python)}:
            raise StepFailed("%s: expected the modules run by %s, found payloads run by %s"
                             % (Path(log).name, target_python, sorted(interpreters) or "none"))
    elif payloads:
        raise StepFailed("%s: a module ran out of process (%s), expected it in the worker"
                         % (Path(log).name, sorted({module for _i, module in payloads})))


def check_no_secret(state, venv_python, logs, env):
    """Every secret the stub saw created, searched for in the runs' output."""
    secrets = json.loads(subprocess.run([str(venv_python), REPO / "tests" / "support" / "stubctl.py",
                                         "--state-file", str(state), "secrets"], capture_output=True, text=True,
                                        env=env, check=True).stdout)["secrets"]
    if not secrets:
        raise StepFailed("the stub saw no secret created: nothing was rotated")
    for log in logs:
        text = Path(log).read_text(errors="replace")
        if any(secret and secret in text for secret in secrets):
            raise StepFailed("a secret appears in %s" % Path(log).name)


def run_smoke(part, venv_python):
    row = part.row
    playbook_args = ["-vvv"]
    if row.target:
        with part.step("target-venv") as log:
            target_python, _reused = target_venv(log)
        playbook_args += ["-e", "rotator_in_process=false", "-e", "ansible_python_interpreter=%s" % target_python]
    else:
        target_python = None
    work = Path(tempfile.mkdtemp(prefix="rotator-matrix-smoke-"))
    state = work / "stub.json"
    env = tool_env(venv_python)
    try:
        collections = work / "collections" / "ansible_collections" / "rotator"
        collections.mkdir(parents=True)
        (collections / "aws_iam").symlink_to(REPO)
        with part.step("stub") as log:
            run([venv_python, REPO / "tests" / "support" / "stubctl.py", "--state-file", state, "start"], log, env=env)
            run([venv_python, REPO / "demo" / "seed.py", state], log, env=env)
        endpoint = json.loads(state.read_text())["endpoint_url"]
        env.update(ANSIBLE_COLLECTIONS_PATH=str(work / "collections"), ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="demo",
                   AWS_SECRET_ACCESS_KEY="demo-secret", AWS_REGION="us-east-1", ROTATOR_DEMO_DIR=str(work))
        demo = [Path(venv_python).parent / "ansible-playbook", "-i", REPO / "demo" / "inventory.yml",
                REPO / "playbooks" / "rotate.yml", *playbook_args]
        logs = []
        for name, extra, want_changed in (("demo-rotate", ["--diff"], True), ("demo-again", [], False)):
            with part.step(name) as log:
                logs.append(log)
                run(demo + extra, log, env=env)
                check_recap(log, want_changed)
                if want_changed:  # what the consumer received and the owners were told, as demo/run.sh shows it
                    run([venv_python, REPO / "demo" / "show.py", state, work / "billing-app"], log, env=env)
                check_where_modules_ran(log, row.target is not None, target_python)
        with part.step("demo-secrets") as log:
            check_no_secret(state, venv_python, logs, env)
        with part.step("fault-lost-answer") as log:
            run([venv_python, HERE / "smoke_fault.py", state, work / "fault", *playbook_args], log, env=env)
            for run_log in sorted((work / "fault").glob("*.log")):
                check_where_modules_ran(run_log, row.target is not None, target_python)
    finally:
        subprocess.run([str(venv_python), REPO / "tests" / "support" / "stubctl.py", "--state-file", str(state), "stop"],
                       env=env, capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)


# -- rows and lanes -------------------------------------------------------------------------------------


def part_python(row, part):
    if part == "sanity-target":
        return TARGET_PYTHON
    if part == "smoke":
        return "%s, modules on %s" % (row.python, TARGET_PYTHON if row.target else "the controller (in process)")
    return row.python


def report(result):
    steps = ", ".join("%s %s%.0f s" % (name, "" if ok else "FAILED ", seconds) for name, ok, seconds in result.steps)
    say("matrix: ansible-core %-8s python %-4s %-13s %-6s %4.0f s   (%s)" % (
        result.row.core, result.row.python if result.part != "sanity-target" else TARGET_PYTHON, result.part,
        "passed" if result.passed else "FAILED", result.seconds, steps))


def run_part(row, name, venv_python):
    with _lanes:
        return run_part_now(row, name, venv_python)


def run_part_now(row, name, venv_python):
    part = Part(row, name, part_python(row, name))
    try:
        if name == "units":
            run_units(part, venv_python)
        elif name == "sanity":
            run_sanity(part, venv_python, row.python)
        elif name == "sanity-target":
            run_sanity(part, venv_python, TARGET_PYTHON, tests=("compile", "import"))
        else:
            run_smoke(part, venv_python)
    except StepFailed as exc:
        result = part.result(False)
        report(result)
        say("matrix: %s %s failed at %s" % (row.name, name, exc))
        return result
    result = part.result(True)
    report(result)
    return result


def run_row(row, parts):
    wanted = [part for part in PART_ORDER if part in row.parts and part in parts]
    # Every row's venv at once, outside the lanes: a venv build waits mostly on downloads.
    setup = Part(row, "setup", row.python)
    try:
        with setup.step("venv") as log:
            venv_python, reused = row_venv(row, log)
    except StepFailed as exc:
        result = setup.result(False)
        report(result)
        say("matrix: %s setup failed at %s" % (row.name, exc))
        return [result]
    setup.steps[-1] = ("venv reused" if reused else "venv built", True, setup.steps[-1][2])
    results = [setup.result(True)]
    report(results[0])
    for name in wanted:
        results.append(run_part(row, name, venv_python))
    return sorted(results, key=lambda result: (("setup",) + ALL_PARTS).index(result.part))


def table(results, wall):
    lines = ["", "version matrix (%d parts, %d failed, %.0f s wall):" % (
        len(results), sum(not result.passed for result in results), wall),
        "  %-12s %-44s %-13s %-7s %7s" % ("ansible-core", "Python", "part", "result", "seconds")]
    for result in results:
        lines.append("  %-12s %-44s %-13s %-7s %7.0f" % (result.row.core, result.python, result.part,
                                                         "passed" if result.passed else "FAILED", result.seconds))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--lanes", type=int, default=int(os.environ.get("ROTATOR_MATRIX_LANES", "3")),
                        help="parts (of any row) run at once, once the venvs are built (default 3, or "
                             "ROTATOR_MATRIX_LANES)")
    parser.add_argument("--only", nargs="+", metavar="VERSION",
                        help="only these ansible-core versions (2.17 or 2.17.14)")
    parser.add_argument("--parts", default=",".join(ALL_PARTS),
                        help="comma-separated parts to run (default: %(default)s)")
    args = parser.parse_args(argv)
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(ALL_PARTS))
    if unknown:
        parser.error("unknown parts %s (known: %s)" % (unknown, ", ".join(ALL_PARTS)))
    rows = [row for row in MATRIX if not args.only or row.core in args.only or row.series in args.only]
    if not rows:
        parser.error("no row of the matrix is ansible-core %s" % " ".join(args.only))
    VENVS.mkdir(exist_ok=True)
    started = time.monotonic()
    global _lanes  # pylint: disable=global-statement
    _lanes = threading.Semaphore(max(1, args.lanes))
    # Every row in a thread of its own; the lanes bound how many of their parts run at once.
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(rows)) as pool:
        by_row = list(pool.map(lambda row: run_row(row, parts), rows))
    results = [result for row_results in by_row for result in row_results]
    say(table(results, time.monotonic() - started))
    passed = sum(result.passed for result in results)
    say("\nmatrix: %d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

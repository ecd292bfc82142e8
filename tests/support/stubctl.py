"""Start, stop and steer the fake AWS stub (``aws_stub.py``).

Stdlib only, so it works from any interpreter, shell script or fixture::

    python tests/support/stubctl.py --state-file PATH start     # prints endpoint
    python tests/support/stubctl.py --state-file PATH clock -100
    python tests/support/stubctl.py --state-file PATH faults 5 --mode drop|error|hang|hang-response
    python tests/support/stubctl.py --state-file PATH faults off --throttle-rate 0.3 --seed 7
    python tests/support/stubctl.py --state-file PATH faults off --consistency-seconds 5
    python tests/support/stubctl.py --state-file PATH faults off          # clear
    python tests/support/stubctl.py --state-file PATH faults-status | leaks
    python tests/support/stubctl.py --state-file PATH calls | calls-reset
    python tests/support/stubctl.py --state-file PATH aws-rules             # print the AWS rules in force
    python tests/support/stubctl.py --state-file PATH aws-rules --names off --report-delay-seconds 0
                                     # set them (every option omitted takes its default)
    python tests/support/stubctl.py --state-file PATH secrets | reset
    python tests/support/stubctl.py --state-file PATH endpoint | stop

As a library: ``start(state_file) -> dict``, ``stop(state_file)`` and
``control(state_file, method, path, body=None) -> dict``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

STUB_SCRIPT = Path(__file__).with_name("aws_stub.py")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
CONTROL_TIMEOUT = 30.0
POLL_INTERVAL = 0.1

# Popen objects of stubs started by this process, kept so stop() can reap
# them; an unreaped child stays a zombie and still looks alive to kill(pid, 0).
_children: dict[int, subprocess.Popen[bytes]] = {}


def read_state(state_file: str | os.PathLike[str]) -> dict[str, Any]:
    """Load the stub's published pid and URLs."""
    return json.loads(Path(state_file).read_text())


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists (zombies of our own children excluded)."""
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not is_zombie(pid)


def is_zombie(pid: int) -> bool:
    """True for an exited process nobody has reaped yet (Linux /proc only).

    A stub started by an earlier ``stubctl start`` is orphaned; in containers
    its new parent may never reap it, and kill(pid, 0) alone would wait forever.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def log_path(state_file: str | os.PathLike[str]) -> Path:
    """The stub's stderr goes here, so a failed start can be diagnosed."""
    return Path(f"{state_file}.log")


def running_state(state_file: str | os.PathLike[str]) -> dict[str, Any] | None:
    """State of an already running stub for this file, clearing a stale file."""
    path = Path(state_file)
    if not path.exists():
        return None
    state = read_state(path)
    if pid_alive(state["pid"]):
        return state
    path.unlink(missing_ok=True)
    return None


def start(state_file: str | os.PathLike[str], verbose: bool = False) -> dict[str, Any]:
    """Spawn the stub in the background and wait until it publishes its state.

    Reuses a stub already running for this state file.  The child gets its
    own session so a Ctrl-C aimed at the caller does not take it down, and its
    stdout is detached so ``$(stubctl start)`` returns immediately.
    """
    existing = running_state(state_file)
    if existing is not None:
        return existing
    command = [sys.executable, str(STUB_SCRIPT), "--state-file", str(state_file)]
    if verbose:
        command.append("--verbose")
    with open(log_path(state_file), "wb") as log:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    _children[child.pid] = child
    return wait_for_state(state_file, child)


def wait_for_state(
    state_file: str | os.PathLike[str], child: subprocess.Popen[bytes]
) -> dict[str, Any]:
    """Poll for the state file; fail fast with the stub's stderr if it dies."""
    deadline = time.monotonic() + START_TIMEOUT
    path = Path(state_file)
    while time.monotonic() < deadline:
        if path.exists():
            state = read_state(path)
            if state.get("pid") == child.pid:
                return state
        if child.poll() is not None:
            raise RuntimeError(
                f"aws_stub exited with {child.returncode}: {startup_log(state_file)}"
            )
        time.sleep(POLL_INTERVAL)
    terminate(child.pid)
    raise TimeoutError(f"aws_stub not ready after {START_TIMEOUT}s: {startup_log(state_file)}")


def startup_log(state_file: str | os.PathLike[str]) -> str:
    """Tail of the stub's stderr for error messages."""
    try:
        return log_path(state_file).read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"


def terminate(pid: int) -> None:
    """SIGTERM the stub, escalating to SIGKILL if it does not exit in time."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            break
        if wait_for_exit(pid, STOP_TIMEOUT):
            break
    child = _children.pop(pid, None)
    if child is not None:
        child.wait(timeout=STOP_TIMEOUT)


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait until pid is gone; True if it exited within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(POLL_INTERVAL)
    return not pid_alive(pid)


def stop(state_file: str | os.PathLike[str]) -> None:
    """Stop the stub named by the state file and remove the file (no-op if absent)."""
    path = Path(state_file)
    if not path.exists():
        return
    terminate(read_state(path)["pid"])
    path.unlink(missing_ok=True)


def control(
    state_file: str | os.PathLike[str],
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Call the stub's control API; ``path`` may be ``/_stub/x`` or just ``x``."""
    if not path.startswith("/"):
        path = f"/_stub/{path}"
    url = read_state(state_file)["endpoint_url"] + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise RuntimeError(f"{method} {path} failed: HTTP {exc.code} {detail}") from exc


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-file", required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    start_cmd = commands.add_parser("start", help="spawn the stub, print its endpoint")
    start_cmd.add_argument("--verbose", action="store_true", help="stub logs to <state>.log")
    commands.add_parser("stop", help="stop the stub and remove the state file")
    commands.add_parser("endpoint", help="print endpoint_url")
    clock = commands.add_parser("clock", help="shift moto's clock by N days (0 = real time)")
    clock.add_argument("offset_days", type=float)
    faults = commands.add_parser("faults", help="set the faults (every option omitted is off)")
    faults.add_argument("fail_after", help="number of calls that still succeed, or 'off'")
    faults.add_argument("--mode", choices=("drop", "error", "hang", "hang-response"), default="drop")
    for rate in ("throttle", "error", "drop"):
        faults.add_argument(f"--{rate}-rate", type=float, default=0.0, help=f"share of calls answered with {rate}")
    faults.add_argument("--drop-phase", choices=("request", "response"), default="request")
    faults.add_argument("--latency-ms", type=int, default=0)
    faults.add_argument("--consistency-seconds", type=float, default=0.0,
                        help="a new key is refused (InvalidClientTokenId) for this long")
    faults.add_argument("--actions", help="comma-separated actions the rates apply to (default: all)")
    faults.add_argument("--max-faults", type=int, help="inject at most this many rate faults")
    faults.add_argument("--seed", type=int, default=0)
    commands.add_parser("faults-status", help="print the fault settings, counters and held request")
    rules = commands.add_parser("aws-rules", help="print the AWS rules the stub models, or set them "
                                                  "(every option omitted takes its default)")
    for flag in ("names", "tags", "assume-role-requires-role"):
        rules.add_argument(f"--{flag}", choices=("on", "off"))
    for seconds in ("report-delay-seconds", "report-reuse-seconds", "last-used-lag-seconds"):
        rules.add_argument(f"--{seconds}", type=float)
    commands.add_parser("leaks", help="print requests that carried a recorded secret outside the secret sinks")
    commands.add_parser("calls", help="print the call log")
    commands.add_parser("calls-reset", help="empty the call log")
    commands.add_parser("secrets", help="print recorded secrets and passwords")
    commands.add_parser("reset", help="reset moto, faults, clock and call log")
    return parser


def faults_body(args: argparse.Namespace) -> dict[str, Any]:
    """The POST /_stub/faults document of the ``faults`` command."""
    body: dict[str, Any] = {
        "fail_after": None if args.fail_after == "off" else int(args.fail_after),
        "mode": args.mode,
        "throttle_rate": args.throttle_rate,
        "error_rate": args.error_rate,
        "drop_rate": args.drop_rate,
        "drop_phase": args.drop_phase,
        "latency_ms": args.latency_ms,
        "consistency_seconds": args.consistency_seconds,
        "seed": args.seed,
        "max_faults": args.max_faults,
    }
    if args.actions:
        body["actions"] = [action.strip() for action in args.actions.split(",") if action.strip()]
    return body


def aws_rules_body(args: argparse.Namespace) -> dict[str, Any]:
    """The POST /_stub/aws-rules document of the ``aws-rules`` command (empty: only print them)."""
    body: dict[str, Any] = {}
    for name in ("names", "tags", "assume_role_requires_role"):
        if getattr(args, name) is not None:
            body[name] = getattr(args, name) == "on"
    for name in ("report_delay_seconds", "report_reuse_seconds", "last_used_lag_seconds"):
        if getattr(args, name) is not None:
            body[name] = getattr(args, name)
    return body


def run_command(args: argparse.Namespace) -> Any:
    """Execute one CLI command; the return value is printed."""
    state_file = args.state_file
    match args.command:
        case "start":
            return start(state_file, verbose=args.verbose)["endpoint_url"]
        case "stop":
            stop(state_file)
            return None
        case "endpoint":
            return read_state(state_file)["endpoint_url"]
        case "clock":
            return control(state_file, "POST", "clock", {"offset_days": args.offset_days})
        case "faults":
            return control(state_file, "POST", "faults", faults_body(args))
        case "faults-status":
            return control(state_file, "GET", "faults")
        case "aws-rules":
            body = aws_rules_body(args)
            return control(state_file, "POST", "aws-rules", body) if body else control(state_file, "GET", "aws-rules")
        case "leaks":
            return control(state_file, "GET", "leaks")
        case "calls":
            return control(state_file, "GET", "calls")
        case "calls-reset":
            return control(state_file, "POST", "calls/reset")
        case "secrets":
            return control(state_file, "GET", "secrets")
        case "reset":
            return control(state_file, "POST", "reset")
    raise ValueError(f"unknown command {args.command}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: print strings as-is and documents as JSON."""
    result = run_command(build_parser().parse_args(argv))
    if isinstance(result, str):
        print(result)
    elif result is not None:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

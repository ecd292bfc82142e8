"""Benchmark the access key rotation against the AWS stub, side by side with plain boto3 and amazon.aws.

    python benchmarks/run.py [--accounts 10 --users 100] [--latency-ms 50] [--peer-users 20] [--concurrency 8]
                             [--fleet 10,100,1000 [--fleet-users 3] [--forks N]] [--steps full,noop|none]

One command: starts the stub (moto behind the recording proxy of
tests/support/aws_stub.py) and, in front of its moto, a proxy that counts the
calls and optionally delays each (benchmarks/latency_proxy.py), seeds ``--users`` users in each of
``--accounts`` accounts with 120-day-old keys (moto's clock moved back while
seeding), and measures, for the full step (list, create, store, read back,
verify, record) and for a run with nothing due:

  a. ours: ``ansible-playbook playbooks/rotate.yml`` over a generated inventory
     of one host per account (assumed role arn:aws:iam::<acct>:role/rotator);
  b. bare boto3: benchmarks/boto3_serial.py, the same calls serially in one process;
  c. the peer: amazon.aws modules in a loop, from benchmarks/.venv-peer
     (``--setup-peer`` makes it from benchmarks/requirements.txt; skipped when absent).

It prints milliseconds per user, ratios, AWS calls per user (counted by the
proxy), the peak RSS of the module processes and the CPU time per user spent
by the contestant's processes, by the stub (moto) and by the proxy (where the
time goes on a machine with few cores), and writes the numbers as
JSON to benchmarks/results/ (or ``--json``).  With ``--latency-ms`` above 0 it
also compares ours with the concurrency bound: the AWS calls per user times
the latency, divided by the calls that can be under way at once
(``--concurrency`` threads per account times the accounts run at once).

``--fleet 10,100,1000`` adds the fleet mode: ``--fleet-users`` users per
account with nothing due (10-day-old keys), ``playbooks/rotate.yml`` over 10,
then 100, then 1,000 accounts (each size its own fresh accounts), ``--forks``
at a time (default 5, Ansible's own), at ``--fleet-latency-ms`` (default 0).
Per size: wall seconds, the CPU seconds of the whole ansible-playbook process
tree and per account, the AWS calls per account by action, and the task
results per account (from the play recap); then whether the CPU cost is
linear in the accounts.  A last run of the smallest size with every module
process timed (``--no-breakdown`` skips it) splits the CPU per account into
the controller process, the task workers it forks, and the module processes.
The fleet mode reads nothing of the roles but the play recap, so it measures
whatever ``playbooks/rotate.yml`` runs.

Nothing is asserted: with ``--ci`` (2 accounts x 10 users, a fleet of 3
accounts) it only proves the benchmark still runs.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import botocore.config

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "support"))
import stubctl  # noqa: E402  pylint: disable=wrong-import-position,import-error

PEER_VENV = HERE / ".venv-peer"
PEER_PYTHON = PEER_VENV / "bin" / "python"
ADMIN = {"AWS_ACCESS_KEY_ID": "AKIAROTATORBENCHMARK", "AWS_SECRET_ACCESS_KEY": "rotator-benchmark-admin-secret",
         "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 10}, max_pool_connections=16)
AGE_DAYS = 120
IDLE_AGE_DAYS = 10
STEP_ACCOUNTS = 210000000000
FLEET_ACCOUNTS = 220000000000
ANSIBLE_DEFAULT_FORKS = 5
CONTROLLER_POLL_SECONDS = 0.2


def account_ids(count, first=STEP_ACCOUNTS):
    return ["%012d" % (first + index) for index in range(count)]


def names(prefix, count):
    return ["%s%04d" % (prefix, index) for index in range(count)]


# --- the stub and its AWS ------------------------------------------------------


SEEDING = threading.local()


def name_the_account(request, **_kwargs):
    request.headers["x-moto-account-id"] = SEEDING.account


def seeding_client(moto_url):
    """One IAM client, straight to moto, that acts in the account its calling thread names (SEEDING.account).

    moto takes the account from the ``x-moto-account-id`` header before the
    access key (``BaseResponse.get_current_account``), so one thread-safe
    client seeds any number of accounts: an AssumeRole and a boto3 session per
    account would cost minutes for a fleet of 1,000.
    """
    session = boto3.session.Session(aws_access_key_id=ADMIN["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=ADMIN["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    client = session.client("iam", endpoint_url=moto_url, config=CONFIG)
    client.meta.events.register("before-sign.iam.*", name_the_account)
    return client


def seed(state_file, moto_url, groups):
    """Create the users of every (accounts, prefix, count, keys_age_days) group, each user with one key.

    Users of one age are made together, moto's clock moved back meanwhile; 8
    threads keep the stub's moto (one process) busy without queueing on it.
    """
    started = time.perf_counter()
    iam = seeding_client(moto_url)

    def make(account_and_user):
        SEEDING.account, user = account_and_user
        iam.create_user(UserName=user)
        iam.create_access_key(UserName=user)

    for age in sorted({group[3] for group in groups}, reverse=True):
        work = [(account, user) for accounts, prefix, count, group_age in groups if group_age == age
                for account in accounts for user in names(prefix, count)]
        stubctl.control(state_file, "POST", "clock", {"offset_days": -age})
        try:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(make, work))
        finally:
            stubctl.control(state_file, "POST", "clock", {"offset_days": 0})
    return time.perf_counter() - started


def cpu_seconds(pid):
    """User + system CPU time of a live process (Linux /proc), or None."""
    try:
        fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def calls_of(proxy_url):
    """The calls relayed by the proxy since the last look, by action (the look empties the count)."""
    with urllib.request.urlopen(proxy_url + "/_bench/calls", timeout=30) as answer:
        return collections.Counter(json.loads(answer.read()))


def set_latency(proxy_url, milliseconds):
    request = urllib.request.Request(proxy_url + "/_bench/delay", data=json.dumps({"ms": milliseconds}).encode(),
                                     method="POST")
    with urllib.request.urlopen(request, timeout=30):
        pass


# --- the three contestants -----------------------------------------------------


def interpreter_wrapper(work, python, rss_log):
    """An executable that runs ``python`` under rss_wrapper.py, for ansible_python_interpreter."""
    path = work / ("python-rss-%s" % Path(python).parent.parent.name)
    path.write_text("#!/bin/sh\nexec %s %s %s %s \"$@\"\n" % (sys.executable, HERE / "rss_wrapper.py", rss_log, python))
    path.chmod(0o755)
    return path


def module_processes(rss_log):
    """What the wrapped interpreter logged: peak RSS, module runs, their CPU and the wrapper's own CPU."""
    lines = [line.split() for line in rss_log.read_text().splitlines() if line.strip()] if rss_log.exists() else []
    if rss_log.exists():
        rss_log.unlink()
    return {
        "peak_rss_mib": round(max(int(line[0]) for line in lines) / 1024.0, 1) if lines else None,
        "module_runs": len(lines),
        "module_cpu_seconds": round(sum(float(line[1]) for line in lines), 2),
        "wrapper_cpu_seconds": round(sum(float(line[2]) for line in lines), 2),
    }


def write_inventory(path, accounts, users, extra=None):
    hosts = {}
    for index, account in enumerate(accounts):
        host = dict(account_id=account, rotator_assume_role_arn="arn:aws:iam::%s:role/rotator" % account,
                    rotator_access_key_users=users)
        host.update(extra or {})
        hosts["acct%04d" % index] = host
    path.write_text(json.dumps({"all": {"hosts": hosts}}, indent=1))


def playbook_env(work, endpoint, forks):
    env = dict(os.environ, **ADMIN)
    env.update(AWS_ENDPOINT_URL=endpoint, ANSIBLE_COLLECTIONS_PATH=str(work / "collections"),
               ANSIBLE_FORKS=str(forks), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_NOCOLOR="1")
    return env


def rotate_command(work, inventory, interpreter=None):
    """ansible-playbook playbooks/rotate.yml of the collection measured (--collection, linked under work)."""
    collection = work / "collections" / "ansible_collections" / "rotator" / "aws_iam"
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
               str(collection / "playbooks" / "rotate.yml")]
    return command + (["-e", "ansible_python_interpreter=%s" % interpreter] if interpreter else [])


def step_forks(args, accounts):
    """Forks of the step runs: every account at once unless --forks says otherwise."""
    return args.forks or max(len(accounts), ANSIBLE_DEFAULT_FORKS)


def run_ours(work, endpoint, accounts, users, args, label):
    inventory = work / ("inventory-%s.json" % label)
    write_inventory(inventory, accounts, users, {
        "rotator_concurrency": args.concurrency,
        "rotator_use_credential_report": not args.no_report,
    })
    rss_log = work / "rss-ours.log"
    wrapper = interpreter_wrapper(work, sys.executable, rss_log)
    env = playbook_env(work, endpoint, step_forks(args, accounts))
    return timed(rotate_command(work, inventory, wrapper), env, work / ("ours-%s.log" % label), rss_log)


def run_fleet(work, endpoint, accounts, users, args, label, timed_modules=False):
    """``playbooks/rotate.yml`` over one host per account, nothing due; with timed_modules, every module run logged."""
    inventory = work / ("inventory-fleet-%s.json" % label)
    write_inventory(inventory, accounts, users, {"rotator_concurrency": args.concurrency})
    rss_log = work / ("rss-fleet-%s.log" % label)
    # Without the wrapper the module processes run as in production (the play's own interpreter).
    wrapper = interpreter_wrapper(work, sys.executable, rss_log) if timed_modules else None
    env = playbook_env(work, endpoint, args.forks or ANSIBLE_DEFAULT_FORKS)
    return timed(rotate_command(work, inventory, wrapper), env, work / ("fleet-%s.log" % label), rss_log)


def run_boto3(work, endpoint, accounts, prefix, count, mode):
    rss_log = work / "rss-boto3.log"
    env = dict(os.environ, **ADMIN)
    command = [sys.executable, str(HERE / "rss_wrapper.py"), str(rss_log), sys.executable, str(HERE / "boto3_serial.py"),
               "--endpoint", endpoint, "--accounts", ",".join(accounts), "--users", prefix, "--count", str(count),
               "--mode", mode]
    return timed(command, env, work / ("boto3-%s.log" % mode), rss_log)


PEER_PLAY = """---
- name: The peer, amazon.aws one module run per call and user
  hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: Assume the account's role
      amazon.aws.sts_assume_role:
        role_arn: "arn:aws:iam::{{ account_id }}:role/rotator"
        role_session_name: peer
        endpoint_url: "{{ lookup('env', 'AWS_ENDPOINT_URL') }}"
      register: assumed

    - name: Per user
      module_defaults:
        group/aws:
          access_key: "{{ assumed.sts_creds.access_key }}"
          secret_key: "{{ assumed.sts_creds.secret_key }}"
          session_token: "{{ assumed.sts_creds.session_token }}"
          endpoint_url: "{{ lookup('env', 'AWS_ENDPOINT_URL') }}"
          region: us-east-1
      block:
        - name: List the user's keys
          amazon.aws.iam_access_key_info:
            user_name: "{{ item }}"
          loop: "{{ rotator_access_key_users }}"
          register: listed

        - name: Create a new key
          amazon.aws.iam_access_key:
            user_name: "{{ item }}"
            state: present
          loop: "{{ rotator_access_key_users }}"
          no_log: true
          when: peer_mode == 'full'

        - name: Deactivate the old key
          amazon.aws.iam_access_key:
            user_name: "{{ item.item }}"
            id: "{{ item.access_keys[0].access_key_id }}"
            active: false
          loop: "{{ listed.results }}"
          loop_control:
            label: "{{ item.item }}"
          when: peer_mode == 'full'
"""


def run_peer(work, endpoint, accounts, users, mode):
    playbook = work / "peer.yml"
    playbook.write_text(PEER_PLAY)
    inventory = work / ("inventory-peer-%s.json" % mode)
    write_inventory(inventory, accounts, users)
    rss_log = work / "rss-peer.log"
    wrapper = interpreter_wrapper(work, str(PEER_PYTHON), rss_log)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ADMIN, AWS_ENDPOINT_URL=endpoint, ANSIBLE_FORKS=str(max(len(accounts), ANSIBLE_DEFAULT_FORKS)),
               ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="False", PATH=os.pathsep.join([str(PEER_VENV / "bin"), env.get("PATH", "")]))
    command = [str(PEER_VENV / "bin" / "ansible-playbook"), "-i", str(inventory), str(playbook),
               "-e", "peer_mode=%s" % mode, "-e", "ansible_python_interpreter=%s" % wrapper]
    return timed(command, env, work / ("peer-%s.log" % mode), rss_log)


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


RECAP_LINE = re.compile(r"^\S+\s+:\s+((?:\w+=\d+\s*)+)$")


def play_recap(log):
    """Task results summed over the hosts of an ansible-playbook log's PLAY RECAP (ok includes changed), or {}."""
    text = log.read_text()
    totals, hosts = collections.Counter(), 0
    for line in text[text.rfind("PLAY RECAP"):].splitlines()[1:] if "PLAY RECAP" in text else []:
        match = RECAP_LINE.match(line.strip())
        if match:
            hosts += 1
            totals.update({name: int(value) for name, value in (pair.split("=") for pair in match.group(1).split())})
    return dict(totals, hosts=hosts) if hosts else {}


def run_polled(command, env, handle):
    """Run a command to its end; its exit code and the last look at its own CPU time (not its children's).

    The look is taken every CONTROLLER_POLL_SECONDS, so it misses at most
    that much of the process's last moments (Ansible's recap).
    """
    process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
    own = 0.0
    while True:
        try:
            code = process.wait(timeout=CONTROLLER_POLL_SECONDS)
            return code, own
        except subprocess.TimeoutExpired:
            own = cpu_seconds(process.pid) or own


def timed(command, env, log, rss_log):
    """Run a contestant; its wall time, the CPU time of its whole process tree and what its modules logged.

    The tree's CPU comes from RUSAGE_CHILDREN, which counts every descendant
    once it is waited for: ansible-playbook, the workers it forks per task,
    the module processes. The interpreter wrapper's own CPU is left out.
    """
    started, cpu_before = time.perf_counter(), children_cpu()
    with open(log, "w") as handle:
        code, controller_cpu = run_polled(command, env, handle)
    seconds = time.perf_counter() - started
    cpu = children_cpu() - cpu_before
    if code != 0:
        tail = log.read_text()[-3000:]
        raise SystemExit("%s failed (exit %d); see %s:\n%s" % (Path(command[0]).name, code, log, tail))
    modules = module_processes(rss_log)
    result = {"seconds": round(seconds, 3), "cpu_seconds": round(cpu - modules["wrapper_cpu_seconds"], 2),
              "controller_cpu_seconds": round(controller_cpu, 2), "task_results": play_recap(log)}
    result.update(modules)
    return result


# --- reporting -----------------------------------------------------------------


def per_user(result, calls, users):
    result = dict(result)
    result["users"] = users
    result["ms_per_user"] = round(result["seconds"] * 1000.0 / users, 2)
    result["calls"] = sum(calls.values())
    result["calls_per_user"] = round(sum(calls.values()) / users, 3)
    result["calls_by_action"] = dict(sorted(calls.items()))
    for name in ("cpu_seconds", "stub_cpu_seconds", "proxy_cpu_seconds"):
        if result.get(name) is not None:
            result[name.replace("_seconds", "_ms_per_user")] = round(result[name] * 1000.0 / users, 2)
    return result


def per_account(result, calls, accounts, users_per_account):
    """A fleet run's figures per account: CPU, AWS calls by action, task results."""
    result = dict(result)
    count = len(accounts)
    result.update(accounts=count, users_per_account=users_per_account,
                  seconds_per_account=round(result["seconds"] / count, 4),
                  cpu_seconds_per_account=round(result["cpu_seconds"] / count, 4),
                  calls=sum(calls.values()), calls_per_account=round(sum(calls.values()) / count, 2),
                  calls_per_account_by_action={action: round(number / count, 2)
                                               for action, number in sorted(calls.items())})
    for name in ("controller_cpu_seconds", "stub_cpu_seconds", "proxy_cpu_seconds"):
        if result.get(name) is not None:
            result[name.replace("_seconds", "_seconds_per_account")] = round(result[name] / count, 4)
    recap = result.get("task_results") or {}
    result["task_results_per_account"] = {name: round(value / count, 2) for name, value in recap.items() if name != "hosts"}
    return result


def cpu_breakdown(timed_run):
    """CPU per account of a run whose module processes were timed: controller, task workers, module processes."""
    count = timed_run["accounts"]
    controller, modules = timed_run["controller_cpu_seconds"], timed_run["module_cpu_seconds"]
    return {
        "accounts": count,
        "total": round(timed_run["cpu_seconds"] / count, 4),
        "controller (ansible-playbook itself)": round(controller / count, 4),
        "task workers (forked per task and host)": round((timed_run["cpu_seconds"] - controller - modules) / count, 4),
        "module processes": round(modules / count, 4),
        "module processes per account": round(timed_run["module_runs"] / count, 2),
        "task results per account": timed_run["task_results_per_account"],
    }


def linearity(sizes):
    """Does the CPU grow linearly with the accounts? Per-account CPU at the largest size over the smallest,
    and the slope (CPU per added account) and fixed cost (start-up) between them."""
    small, large = sizes[0], sizes[-1]
    if large["accounts"] == small["accounts"]:
        return {}
    ratio = large["cpu_seconds_per_account"] / small["cpu_seconds_per_account"]
    added = large["accounts"] - small["accounts"]
    slope = (large["cpu_seconds"] - small["cpu_seconds"]) / added
    wall_slope = (large["seconds"] - small["seconds"]) / added
    return {
        "per_account_cpu_largest_over_smallest": round(ratio, 3),
        "linear_or_better": ratio <= 1.25,
        "cpu_seconds_per_added_account": round(slope, 4),
        "fixed_cpu_seconds": round(small["cpu_seconds"] - slope * small["accounts"], 2),
        "wall_seconds_per_added_account": round(wall_slope, 4),
        "wall_minutes_for_1000_accounts_at_this_slope": round(
            (large["seconds"] + wall_slope * (1000 - large["accounts"])) / 60.0, 1),
    }


def print_fleet(fleet):
    print()
    print("fleet, nothing due, %s users per account, forks %s, latency %s ms:" % (
        fleet["users_per_account"], fleet["forks"], fleet["latency_ms"]))
    print("%9s %10s %10s %12s %14s %14s %10s   %s" % ("accounts", "wall s", "CPU s", "CPU s/acct", "ctrl CPU s/acct",
                                                      "stub+proxy/acct", "calls/acct", "tasks/acct ok, skipped"))
    for item in fleet["sizes"]:
        tasks = item["task_results_per_account"]
        print("%9d %10.2f %10.2f %12.3f %14.3f %14.3f %10.2f   %s, %s" % (
            item["accounts"], item["seconds"], item["cpu_seconds"], item["cpu_seconds_per_account"],
            item["controller_cpu_seconds_per_account"],
            (item.get("stub_cpu_seconds_per_account") or 0) + (item.get("proxy_cpu_seconds_per_account") or 0),
            item["calls_per_account"], tasks.get("ok"), tasks.get("skipped")))
    for item in fleet["sizes"]:
        print("%d accounts, calls per account: %s" % (item["accounts"], ", ".join(
            "%s=%g" % pair for pair in item["calls_per_account_by_action"].items())))
        if item["task_results"].get("changed"):
            print("  NOTE: %d task results changed in a run with nothing due" % item["task_results"]["changed"])
    line = fleet["linearity"]
    if "cpu_seconds_per_added_account" not in line:
        print("linear: not measured (one size)")
    else:
        print("linear: %s (CPU per account at %d accounts / at %d = %.2f)" % (
            "yes" if line["linear_or_better"] else "NO", fleet["sizes"][-1]["accounts"], fleet["sizes"][0]["accounts"],
            line["per_account_cpu_largest_over_smallest"]))
        print("  per added account: %.3f CPU s, %.3f wall s; fixed: %.2f CPU s; 1,000 accounts at this slope: %.1f min"
              % (line["cpu_seconds_per_added_account"], line["wall_seconds_per_added_account"],
                 line["fixed_cpu_seconds"], line["wall_minutes_for_1000_accounts_at_this_slope"]))
    if fleet.get("breakdown"):
        print("CPU s per account by process (%d accounts, module processes timed through a wrapper):" %
              fleet["breakdown"]["accounts"])
        for name, value in fleet["breakdown"].items():
            if name != "accounts":
                print("  %-42s %s" % (name, value))


def comparisons(results, settings):
    """Ours against boto3 and the peer, and, with added latency, against the concurrency bound."""
    ratios = {}
    for step in ("full", "noop"):
        items, found = results.get(step, {}), {}
        if "ours" in items and "boto3" in items:
            found["ours_over_boto3"] = round(items["ours"]["ms_per_user"] / items["boto3"]["ms_per_user"], 3)
        if "ours" in items and "peer" in items:
            found["peer_over_ours"] = round(items["peer"]["ms_per_user"] / items["ours"]["ms_per_user"], 2)
        if "ours" in items and settings["latency_ms"] > 0:
            ours = items["ours"]
            at_once = settings["concurrency"] * min(settings["forks"], settings["accounts"])
            bound = ours["calls_per_user"] * settings["latency_ms"] / at_once
            found["concurrency_bound"] = {
                "calls_per_user": ours["calls_per_user"], "latency_ms": settings["latency_ms"],
                "calls_at_once": at_once, "ms_per_user": round(bound, 2),
                "ours_over_bound": round(ours["ms_per_user"] / bound, 2) if bound else None}
        if found:
            ratios[step] = found
    return ratios


def print_table(results):
    print()
    header = ("step", "who", "users", "seconds", "ms/user", "calls/user", "RSS MiB", "CPU ms/user: contestant, stub, proxy")
    print("%-6s %-8s %7s %10s %12s %12s %10s   %s" % header)
    for step in ("full", "noop"):
        for who in ("ours", "boto3", "peer"):
            item = results.get(step, {}).get(who)
            if item:
                print("%-6s %-8s %7d %10.2f %12.2f %12.2f %10s   %s, %s, %s" % (
                    step, who, item["users"], item["seconds"], item["ms_per_user"], item["calls_per_user"],
                    item["peak_rss_mib"], item.get("cpu_ms_per_user"), item.get("stub_cpu_ms_per_user"),
                    item.get("proxy_cpu_ms_per_user")))
    for step, found in results.get("ratios", {}).items():
        if "ours_over_boto3" in found:
            print("%s: ours / boto3 = %.2f" % (step, found["ours_over_boto3"]))
        if "peer_over_ours" in found:
            print("%s: peer / ours = %.1f" % (step, found["peer_over_ours"]))
        bound = found.get("concurrency_bound")
        if bound:
            print("%s: concurrency bound = %.2f calls/user x %g ms / %d calls at once = %.2f ms/user; ours / bound = %s"
                  % (step, bound["calls_per_user"], bound["latency_ms"], bound["calls_at_once"], bound["ms_per_user"],
                     bound["ours_over_bound"]))
    for step in ("full", "noop"):
        for who, item in results.get(step, {}).items():
            print("%s %s calls: %s" % (step, who, ", ".join("%s=%d" % pair for pair in item["calls_by_action"].items())))


def setup_peer():
    subprocess.check_call([sys.executable, "-m", "venv", str(PEER_VENV)])
    subprocess.check_call([str(PEER_PYTHON), "-m", "pip", "install", "-q", "-r", str(HERE / "requirements.txt")])


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--users", type=int, default=100, help="users per account")
    parser.add_argument("--noop-users", type=int, help="users per account for the run with nothing due (default --users)")
    parser.add_argument("--peer-users", type=int, default=20, help="users per account for amazon.aws; 0 skips it")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every AWS call of the steps")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--forks", type=int, help="Ansible forks (default: every account at once for the steps, "
                                                  "%d for the fleet)" % ANSIBLE_DEFAULT_FORKS)
    parser.add_argument("--no-report", action="store_true", help="run ours with use_credential_report: false")
    parser.add_argument("--steps", default="full,noop", help="full,noop, one of them, or none (the fleet alone)")
    parser.add_argument("--only-ours", action="store_true", help="skip bare boto3 and the peer (memory, 10,000 users)")
    parser.add_argument("--fleet", help="accounts of each fleet run, nothing due, e.g. 10,100,1000")
    parser.add_argument("--fleet-users", type=int, default=3, help="users per account of the fleet")
    parser.add_argument("--fleet-latency-ms", type=float, default=0.0, help="delay added to every AWS call of the fleet")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the fleet run that times every module process")
    parser.add_argument("--collection", default=str(REPO), help="the collection tree to measure (default this checkout)")
    parser.add_argument("--ci", action="store_true", help="2 accounts x 10 users, peer 3 users if its venv exists, "
                                                          "a fleet of 3 accounts")
    parser.add_argument("--setup-peer", action="store_true", help="create benchmarks/.venv-peer first")
    parser.add_argument("--json", help="where to write the results (default benchmarks/results/<time>.json)")
    args = parser.parse_args(argv)
    if args.ci:
        args.accounts, args.users, args.peer_users = 2, 10, 3
        args.fleet = args.fleet or "3"
    if args.setup_peer and not PEER_PYTHON.exists():
        setup_peer()
    if not PEER_PYTHON.exists():
        print("benchmarks/.venv-peer is absent: the amazon.aws peer is skipped (--setup-peer makes it)")
        args.peer_users = 0
    if args.only_ours:
        args.peer_users = 0
    args.noop_users = args.noop_users or args.users
    args.steps = [step for step in args.steps.split(",") if step in ("full", "noop")]
    args.fleet = sorted(int(size) for size in args.fleet.split(",")) if args.fleet else []
    return args


class Fleet:
    """The fleet's runs and accounts: each run gets fresh accounts of its own, so none meets a credential
    report or a state another run left.

    The module processes are timed in a run of the smallest size of its own
    (``breakdown``), or, with ``timed_in_place`` (CI: one playbook run fewer),
    in the smallest size's run itself.
    """

    def __init__(self, sizes, breakdown, timed_in_place=False):
        self.sizes = sizes
        self.runs = [(str(size), size, breakdown and timed_in_place and index == 0, True)
                     for index, size in enumerate(sizes)]
        if sizes and breakdown and not timed_in_place:
            self.runs.append(("timed-modules", sizes[0], True, False))
        self.accounts, first = {}, FLEET_ACCOUNTS
        for label, size, _timed, _counted in self.runs:
            self.accounts[label] = account_ids(size, first)
            first += size

    def every_account(self):
        return [account for label in self.accounts for account in self.accounts[label]]


def seed_groups(args, accounts, fleet):
    """(accounts, user prefix, users per account, key age in days) of everything the runs need."""
    groups = []
    if "full" in args.steps:
        groups += [(accounts, "ours-", args.users, AGE_DAYS)]
        groups += [] if args.only_ours else [(accounts, "raw-", args.users, AGE_DAYS)]
        groups += [(accounts, "peer-", args.peer_users, AGE_DAYS)] if args.peer_users else []
    if "noop" in args.steps:
        groups += [(accounts, "idle-", args.noop_users, IDLE_AGE_DAYS)]
        groups += [(accounts, "peeridle-", args.peer_users, IDLE_AGE_DAYS)] if args.peer_users else []
    if fleet.sizes:
        groups += [(fleet.every_account(), "fleet-", args.fleet_users, IDLE_AGE_DAYS)]
    return groups


def run_steps(args, work, endpoint, accounts, contest):
    """The full step and the run with nothing due: ours, bare boto3, the peer."""
    results = {}

    def per_user_of(run, users):
        return per_user(*contest(run), users)

    if "full" in args.steps:
        step = results.setdefault("full", {})
        total = args.accounts * args.users
        print("full step: ours (playbook) ...", flush=True)
        step["ours"] = per_user_of(
            lambda: run_ours(work, endpoint, accounts, names("ours-", args.users), args, "full"), total)
        if not args.only_ours:
            print("full step: bare boto3 ...", flush=True)
            step["boto3"] = per_user_of(lambda: run_boto3(work, endpoint, accounts, "raw-", args.users, "full"), total)
        if args.peer_users:
            print("full step: amazon.aws loop ...", flush=True)
            step["peer"] = per_user_of(
                lambda: run_peer(work, endpoint, accounts, names("peer-", args.peer_users), "full"),
                args.accounts * args.peer_users)
    if "noop" in args.steps:
        step = results.setdefault("noop", {})
        total = args.accounts * args.noop_users
        print("nothing due: ours (playbook) ...", flush=True)
        step["ours"] = per_user_of(
            lambda: run_ours(work, endpoint, accounts, names("idle-", args.noop_users), args, "noop"), total)
        if not args.only_ours:
            print("nothing due: bare boto3 (live look at every user) ...", flush=True)
            step["boto3"] = per_user_of(
                lambda: run_boto3(work, endpoint, accounts, "idle-", args.noop_users, "noop"), total)
        if args.peer_users:
            print("nothing due: amazon.aws loop ...", flush=True)
            step["peer"] = per_user_of(
                lambda: run_peer(work, endpoint, accounts, names("peeridle-", args.peer_users), "noop"),
                args.accounts * args.peer_users)
    return results


def run_fleet_sizes(args, work, endpoint, fleet, contest):
    """The fleet mode: every size one after the other, then the smallest again with its module processes timed."""
    users = names("fleet-", args.fleet_users)
    sizes, timed_run = [], None
    for label, size, timed_modules, counted in fleet.runs:
        print("fleet, nothing due: %d accounts%s ..." % (size, " (module processes timed)" if timed_modules else ""),
              flush=True)
        accounts = fleet.accounts[label]
        run, calls = contest(functools.partial(run_fleet, work, endpoint, accounts, users, args, label, timed_modules))
        item = per_account(run, calls, accounts, args.fleet_users)
        if timed_modules:
            timed_run = item
        if counted:
            sizes.append(item)
    return {"users_per_account": args.fleet_users, "forks": args.forks or ANSIBLE_DEFAULT_FORKS,
            "concurrency": args.concurrency, "latency_ms": args.fleet_latency_ms, "sizes": sizes,
            "linearity": linearity(sizes), "breakdown": cpu_breakdown(timed_run) if timed_run else None}


def main(argv=None):
    args = parse_args(argv)
    accounts = account_ids(args.accounts)
    fleet = Fleet(args.fleet, breakdown=not args.no_breakdown, timed_in_place=args.ci)
    work = Path(tempfile.mkdtemp(prefix="rotator-bench-"))
    (work / "collections" / "ansible_collections" / "rotator").mkdir(parents=True)
    (work / "collections" / "ansible_collections" / "rotator" / "aws_iam").symlink_to(Path(args.collection).resolve())
    state_file = work / "stub.json"
    stub = stubctl.start(state_file)
    # AWS takes a moment to generate a credential report (the stub models it); the benchmark measures the rotator.
    stubctl.control(state_file, "POST", "aws-rules", {"report_delay_seconds": 0})
    proxy = None
    results = {"machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
               "settings": {"accounts": args.accounts, "users": args.users, "noop_users": args.noop_users,
                            "peer_users": args.peer_users, "latency_ms": args.latency_ms,
                            "concurrency": args.concurrency, "forks": step_forks(args, accounts),
                            "credential_report": not args.no_report, "collection": str(Path(args.collection).resolve()),
                            "steps": args.steps, "fleet": args.fleet}}
    try:
        # The contestants talk to moto through our own proxy, which counts their calls and adds the latency;
        # the seeding goes to moto straight, and the stub's control API moves moto's clock.
        proxy = subprocess.Popen([sys.executable, str(HERE / "latency_proxy.py"), "--upstream", stub["moto_url"],
                                  "--delay-ms", str(args.latency_ms)], stdout=subprocess.PIPE, text=True)
        client_endpoint = proxy.stdout.readline().strip()
        groups = seed_groups(args, accounts, fleet)
        print("seeding: %s" % ", ".join("%d accounts x %d %s*" % (len(group_accounts), count, prefix)
                                        for group_accounts, prefix, count, _age in groups))
        print("seeded in %.1f s" % seed(state_file, stub["moto_url"], groups))
        calls_of(client_endpoint)
        servers = {"stub": stub["pid"], "proxy": proxy.pid}

        def contest(run):
            """Run one contestant; its figures, the CPU time the stub (moto) and the proxy spent on it, its calls."""
            before = {name: cpu_seconds(pid) for name, pid in servers.items()}
            result = run()
            for name, pid in servers.items():
                after = cpu_seconds(pid)
                if after is not None and before[name] is not None:
                    result["%s_cpu_seconds" % name] = round(after - before[name], 2)
            return result, calls_of(client_endpoint)

        results.update(run_steps(args, work, client_endpoint, accounts, contest))
        results["ratios"] = comparisons(results, results["settings"])
        if fleet.sizes:
            set_latency(client_endpoint, args.fleet_latency_ms)
            results["fleet"] = run_fleet_sizes(args, work, client_endpoint, fleet, contest)
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=10)
        stubctl.stop(state_file)
    if args.steps:
        print_table(results)
    if fleet.sizes:
        print_fleet(results["fleet"])
    out = Path(args.json) if args.json else HERE / "results" / time.strftime("%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print("results: %s (logs in %s)" % (out, work))
    if not os.environ.get("ROTATOR_BENCH_KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

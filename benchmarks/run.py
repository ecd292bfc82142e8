"""Benchmark the access key rotation against the AWS stub, side by side with plain boto3 and amazon.aws.

    python benchmarks/run.py [--accounts 10 --users 100] [--latency-ms 50] [--peer-users 20] [--concurrency 8]

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
JSON to benchmarks/results/ (or ``--json``).  Nothing is asserted: with
``--ci`` (2 accounts x 10 users) it only proves the benchmark still runs.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
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


def account_ids(count):
    return ["%012d" % (210000000000 + index) for index in range(count)]


def names(prefix, count):
    return ["%s%04d" % (prefix, index) for index in range(count)]


# --- the stub and its AWS ------------------------------------------------------


def iam_in(endpoint, account):
    base = boto3.session.Session(aws_access_key_id=ADMIN["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=ADMIN["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    creds = base.client("sts", endpoint_url=endpoint, config=CONFIG).assume_role(
        RoleArn="arn:aws:iam::%s:role/rotator" % account, RoleSessionName="seed")["Credentials"]
    session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"], region_name="us-east-1")
    return session.client("iam", endpoint_url=endpoint, config=CONFIG)


def seed(state_file, endpoint, accounts, groups):
    """Create the users of every (prefix, count, keys_age_days) group in every account, each with one key."""
    started = time.perf_counter()
    for age in sorted({age for _prefix, _count, age in groups}, reverse=True):
        stubctl.control(state_file, "POST", "clock", {"offset_days": -age})
        try:
            for account in accounts:
                iam = iam_in(endpoint, account)
                users = [user for prefix, count, group_age in groups if group_age == age for user in names(prefix, count)]

                def make(user, iam=iam):
                    iam.create_user(UserName=user)
                    iam.create_access_key(UserName=user)

                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(make, users))
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


# --- the three contestants -----------------------------------------------------


def interpreter_wrapper(work, python, rss_log):
    """An executable that runs ``python`` under rss_wrapper.py, for ansible_python_interpreter."""
    path = work / ("python-rss-%s" % Path(python).parent.parent.name)
    path.write_text("#!/bin/sh\nexec %s %s %s %s \"$@\"\n" % (sys.executable, HERE / "rss_wrapper.py", rss_log, python))
    path.chmod(0o755)
    return path


def peak_rss_mib(rss_log):
    if not rss_log.exists():
        return None
    values = [int(line.split()[0]) for line in rss_log.read_text().splitlines() if line.strip()]
    rss_log.unlink()
    return round(max(values) / 1024.0, 1) if values else None


def write_inventory(path, accounts, users, extra=None):
    hosts = {}
    for index, account in enumerate(accounts):
        host = dict(account_id=account, rotator_assume_role_arn="arn:aws:iam::%s:role/rotator" % account,
                    rotator_access_key_users=users)
        host.update(extra or {})
        hosts["acct%02d" % index] = host
    path.write_text(json.dumps({"all": {"hosts": hosts}}, indent=1))


def run_ours(work, endpoint, accounts, users, args, label):
    inventory = work / ("inventory-%s.json" % label)
    write_inventory(inventory, accounts, users, {
        "rotator_concurrency": args.concurrency,
        "rotator_use_credential_report": not args.no_report,
    })
    rss_log = work / "rss-ours.log"
    wrapper = interpreter_wrapper(work, sys.executable, rss_log)
    env = dict(os.environ, **ADMIN)
    env.update(AWS_ENDPOINT_URL=endpoint, ANSIBLE_COLLECTIONS_PATH=str(work / "collections"),
               ANSIBLE_FORKS=str(max(len(accounts), 5)), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_NOCOLOR="1")
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
               str(REPO / "playbooks" / "rotate.yml"), "-e", "ansible_python_interpreter=%s" % wrapper]
    return timed(command, env, work / ("ours-%s.log" % label), rss_log)


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
    env.update(ADMIN, AWS_ENDPOINT_URL=endpoint, ANSIBLE_FORKS=str(max(len(accounts), 5)), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="False", PATH=os.pathsep.join([str(PEER_VENV / "bin"), env.get("PATH", "")]))
    command = [str(PEER_VENV / "bin" / "ansible-playbook"), "-i", str(inventory), str(playbook),
               "-e", "peer_mode=%s" % mode, "-e", "ansible_python_interpreter=%s" % wrapper]
    return timed(command, env, work / ("peer-%s.log" % mode), rss_log)


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command, env, log, rss_log):
    """Run a contestant; its wall time, the CPU time of its whole process tree and the peak RSS of a module."""
    started, cpu_before = time.perf_counter(), children_cpu()
    with open(log, "w") as handle:
        code = subprocess.call(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    cpu = children_cpu() - cpu_before
    if code != 0:
        tail = log.read_text()[-3000:]
        raise SystemExit("%s failed (exit %d); see %s:\n%s" % (Path(command[0]).name, code, log, tail))
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 2), "peak_rss_mib": peak_rss_mib(rss_log)}


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
    for step in ("full", "noop"):
        items = results.get(step, {})
        if "ours" in items and "boto3" in items:
            print("%s: ours / boto3 = %.2f" % (step, items["ours"]["ms_per_user"] / items["boto3"]["ms_per_user"]))
        if "ours" in items and "peer" in items:
            print("%s: peer / ours = %.1f" % (step, items["peer"]["ms_per_user"] / items["ours"]["ms_per_user"]))
    for step in ("full", "noop"):
        for who, item in results.get(step, {}).items():
            print("%s %s calls: %s" % (step, who, ", ".join("%s=%d" % pair for pair in item["calls_by_action"].items())))


def setup_peer():
    subprocess.check_call([sys.executable, "-m", "venv", str(PEER_VENV)])
    subprocess.check_call([str(PEER_PYTHON), "-m", "pip", "install", "-q", "-r", str(HERE / "requirements.txt")])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--users", type=int, default=100, help="users per account")
    parser.add_argument("--noop-users", type=int, help="users per account for the run with nothing due (default --users)")
    parser.add_argument("--peer-users", type=int, default=20, help="users per account for amazon.aws; 0 skips it")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every AWS call")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-report", action="store_true", help="run ours with use_credential_report: false")
    parser.add_argument("--steps", default="full,noop")
    parser.add_argument("--only-ours", action="store_true", help="skip bare boto3 and the peer (memory, 10,000 users)")
    parser.add_argument("--ci", action="store_true", help="2 accounts x 10 users, peer 3 users if its venv exists")
    parser.add_argument("--setup-peer", action="store_true", help="create benchmarks/.venv-peer first")
    parser.add_argument("--json", help="where to write the results (default benchmarks/results/<time>.json)")
    args = parser.parse_args(argv)
    if args.ci:
        args.accounts, args.users, args.peer_users = 2, 10, 3
    if args.setup_peer and not PEER_PYTHON.exists():
        setup_peer()
    if not PEER_PYTHON.exists():
        print("benchmarks/.venv-peer is absent: the amazon.aws peer is skipped (--setup-peer makes it)")
        args.peer_users = 0
    if args.only_ours:
        args.peer_users = 0
    noop_users = args.noop_users or args.users
    steps = args.steps.split(",")
    accounts = account_ids(args.accounts)
    work = Path(tempfile.mkdtemp(prefix="rotator-bench-"))
    (work / "collections" / "ansible_collections" / "rotator").mkdir(parents=True)
    (work / "collections" / "ansible_collections" / "rotator" / "aws_iam").symlink_to(REPO)
    state_file = work / "stub.json"
    stub = stubctl.start(state_file)
    # AWS takes a moment to generate a credential report (the stub models it); the benchmark measures the rotator.
    stubctl.control(state_file, "POST", "aws-rules", {"report_delay_seconds": 0})
    proxy = None
    results = {"machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
               "settings": {"accounts": args.accounts, "users": args.users, "noop_users": noop_users,
                            "peer_users": args.peer_users, "latency_ms": args.latency_ms,
                            "concurrency": args.concurrency, "credential_report": not args.no_report}}
    try:
        endpoint = stub["endpoint_url"]
        # The contestants talk to moto through our own proxy, which counts their calls and adds the latency;
        # the stub's own proxy (endpoint) is only used for seeding and its clock.
        proxy = subprocess.Popen([sys.executable, str(HERE / "latency_proxy.py"), "--upstream", stub["moto_url"],
                                  "--delay-ms", str(args.latency_ms)], stdout=subprocess.PIPE, text=True)
        client_endpoint = proxy.stdout.readline().strip()
        groups = []
        if "full" in steps:
            groups += [("ours-", args.users, AGE_DAYS)] + ([] if args.only_ours else [("raw-", args.users, AGE_DAYS)])
            if args.peer_users:
                groups.append(("peer-", args.peer_users, AGE_DAYS))
        if "noop" in steps:
            groups += [("idle-", noop_users, 10)]
            if args.peer_users:
                groups.append(("peeridle-", args.peer_users, 10))
        print("seeding %d accounts: %s" % (len(accounts), ", ".join("%d %s*" % (count, prefix) for prefix, count, _age in groups)))
        print("seeded in %.1f s" % seed(state_file, endpoint, accounts, groups))
        total = args.accounts * args.users
        calls_of(client_endpoint)
        servers = {"stub": stub["pid"], "proxy": proxy.pid}

        def contest(run, users):
            """Run one contestant; add the CPU time the stub (moto) and the proxy spent on it."""
            before = {name: cpu_seconds(pid) for name, pid in servers.items()}
            result = run()
            for name, pid in servers.items():
                after = cpu_seconds(pid)
                if after is not None and before[name] is not None:
                    result["%s_cpu_seconds" % name] = round(after - before[name], 2)
            return per_user(result, calls_of(client_endpoint), users)

        if "full" in steps:
            step = results.setdefault("full", {})
            print("full step: ours (playbook) ...", flush=True)
            step["ours"] = contest(lambda: run_ours(work, client_endpoint, accounts, names("ours-", args.users), args,
                                                    "full"), total)
            if not args.only_ours:
                print("full step: bare boto3 ...", flush=True)
                step["boto3"] = contest(lambda: run_boto3(work, client_endpoint, accounts, "raw-", args.users, "full"),
                                        total)
            if args.peer_users:
                print("full step: amazon.aws loop ...", flush=True)
                step["peer"] = contest(lambda: run_peer(work, client_endpoint, accounts, names("peer-", args.peer_users),
                                                        "full"), args.accounts * args.peer_users)
        if "noop" in steps:
            step = results.setdefault("noop", {})
            total = args.accounts * noop_users
            print("nothing due: ours (playbook) ...", flush=True)
            step["ours"] = contest(lambda: run_ours(work, client_endpoint, accounts, names("idle-", noop_users), args,
                                                    "noop"), total)
            if not args.only_ours:
                print("nothing due: bare boto3 (live look at every user) ...", flush=True)
                step["boto3"] = contest(lambda: run_boto3(work, client_endpoint, accounts, "idle-", noop_users, "noop"),
                                        total)
            if args.peer_users:
                print("nothing due: amazon.aws loop ...", flush=True)
                step["peer"] = contest(lambda: run_peer(work, client_endpoint, accounts,
                                                        names("peeridle-", args.peer_users), "noop"),
                                       args.accounts * args.peer_users)
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=10)
        stubctl.stop(state_file)
    print_table(results)
    out = Path(args.json) if args.json else HERE / "results" / time.strftime("%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print("results: %s (logs in %s)" % (out, work))
    if not os.environ.get("ROTATOR_BENCH_KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

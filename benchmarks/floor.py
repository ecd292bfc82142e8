"""The benchmark's floor: what one AWS call costs against the stub, with growing numbers of users.

    python benchmarks/floor.py [--accounts 10] [--users 0,100,340] [--calls 40]

Starts the stub (tests/support/stubctl.py), benchmarks/latency_proxy.py in
front of its moto (with 0 ms, as benchmarks/run.py does) and a plain
``moto_server`` on a free loopback port, seeds ``--users`` users per account
(each with one key) in ``--accounts`` accounts in steps, and at each step times
four calls one after the other from one boto3 process: ``ListAccessKeys``,
``GetAccessKeyLastUsed``, STS ``GetCallerIdentity`` signed with a user's key
and ``ListUserTags``, ``--calls`` times each, against

  proxy+stub:  latency_proxy -> the stub's moto (what the contestants of run.py use)
  stub:        the stub's own recording proxy (what the tests use)
  stub moto:   the stub's moto directly
  plain moto:  a plain ``moto_server``

It prints one JSON line per target and step: the median milliseconds per call
of each action, and the CPU milliseconds per call spent by the server
processes (the stub's process holds its proxy and moto; the latency proxy is
counted with proxy+stub).  Everything it starts is stopped by its PID.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import botocore.config

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))
import stubctl  # noqa: E402  pylint: disable=wrong-import-position,import-error

CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 10}, max_pool_connections=16)
ADMIN = {"aws_access_key_id": "AKIAROTATORBENCHMARK", "aws_secret_access_key": "rotator-benchmark-admin-secret"}


def cpu_seconds(pid):
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def iam_in(endpoint, account):
    sts = boto3.session.Session(region_name="us-east-1", **ADMIN).client("sts", endpoint_url=endpoint, config=CONFIG)
    creds = sts.assume_role(RoleArn="arn:aws:iam::%s:role/rotator" % account, RoleSessionName="floor")["Credentials"]
    session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"], region_name="us-east-1")
    return session.client("iam", endpoint_url=endpoint, config=CONFIG)


def seed(endpoint, accounts, first, count):
    for account in accounts:
        iam = iam_in(endpoint, account)

        def make(index, iam=iam):
            iam.create_user(UserName="floor%05d" % index)
            iam.create_access_key(UserName="floor%05d" % index)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(make, range(first, first + count)))


def median_ms(call, count):
    call()
    times = []
    for _attempt in range(count):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000.0)
    return round(statistics.median(times), 2)


def probe(endpoint, account, pids, count):
    """Median ms per call of four calls, and the servers' CPU ms per call meanwhile."""
    iam = iam_in(endpoint, account)
    user = "probe%d" % int(time.time() * 1000)
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint, config=CONFIG,
                       aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    before = sum(cpu_seconds(pid) for pid in pids)
    result = {
        "ListAccessKeys": median_ms(lambda: iam.list_access_keys(UserName=user), count),
        "GetAccessKeyLastUsed": median_ms(lambda: iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]), count),
        "GetCallerIdentity(user key)": median_ms(sts.get_caller_identity, count),
        "ListUserTags": median_ms(lambda: iam.list_user_tags(UserName=user), count),
    }
    result["server_cpu_ms_per_call"] = round((sum(cpu_seconds(pid) for pid in pids) - before) * 1000.0 / (4 * (count + 1)), 2)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--users", default="0,100,340", help="users per account at each step, growing")
    parser.add_argument("--calls", type=int, default=40, help="timed calls of each action per step")
    args = parser.parse_args(argv)
    accounts = ["%012d" % (210000000000 + index) for index in range(args.accounts)]
    work = Path(tempfile.mkdtemp(prefix="rotator-floor-"))
    state_file = work / "stub.json"
    stub = stubctl.start(state_file)
    proxy = moto = None
    try:
        proxy = subprocess.Popen([sys.executable, str(HERE / "latency_proxy.py"), "--upstream", stub["moto_url"],
                                  "--delay-ms", "0"], stdout=subprocess.PIPE, text=True)
        proxy_url = proxy.stdout.readline().strip()
        port = free_port()
        moto = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        moto_url = "http://127.0.0.1:%d" % port
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        targets = [("proxy+stub", proxy_url, [stub["pid"], proxy.pid]), ("stub", stub["endpoint_url"], [stub["pid"]]),
                   ("stub moto", stub["moto_url"], [stub["pid"]]), ("plain moto", moto_url, [moto.pid])]
        seeded = 0
        for users in [int(value) for value in args.users.split(",")]:
            if users > seeded:
                seed(stub["endpoint_url"], accounts, seeded, users - seeded)
                seed(moto_url, accounts, seeded, users - seeded)
                seeded = users
            for name, endpoint, pids in targets:
                print(json.dumps({"target": name, "users": users * args.accounts,
                                  **probe(endpoint, accounts[0], pids, args.calls)}), flush=True)
    finally:
        for child in (proxy, moto):
            if child is not None:
                child.terminate()
                child.wait(timeout=10)
        stubctl.stop(state_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the fault, load and privilege drivers share: the stub, AWS clients, playbook runs, secret scans.

The drivers (``fault_kill``, ``faults_throttle``, ``concurrent_runs``,
``least_privilege``) run ``ansible-playbook`` on ``run.yml`` next to this
file, with the AWS connection in the environment (never on a command line)
and the module arguments in a JSON file.  Every run's output, at the
verbosity ansible-test gave the target (-vvvv), is kept in a log file; at the
end every secret the stub saw created, and every secret read back from a
destination, is searched for in those logs, in the results files and in the
users' tags.  Nothing here prints a secret.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import yaml

HERE = Path(__file__).resolve().parent
PLAYBOOK = HERE / "run.yml"
ACCOUNT = "123456789012"
ACCESS_KEY_TAG = "rotator:access-key-rotation"
PASSWORD_TAG = "rotator:password-rotation"
RUN_TIMEOUT = 300
# The calls that change something in AWS.
MUTATING = frozenset({"TagUser", "UntagUser", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "CreateSecret",
                      "PutSecretValue", "UpdateSecretVersionStage", "DeleteSecret", "PutParameter", "DeleteParameter",
                      "UpdateLoginProfile", "CreateLoginProfile"})

_running: list[subprocess.Popen] = []


@atexit.register
def _kill_leftovers():
    for process in _running:
        if process.poll() is None:
            for pid in descendants(process.pid) + [process.pid]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def say(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def _stat(pid):
    """(state, ppid) of a process, or None when it is gone."""
    try:
        fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def alive(pid):
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def descendants(root):
    """Every live descendant of a process, from the ppid links in /proc.

    ansible-playbook's workers call setsid(), so the worker and the module it
    starts are not in ansible-playbook's process group: killing that group
    would leave the module running.  The tree is what must die.
    """
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] != "Z":
                children.setdefault(stat[1], []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def argv(pid):
    """The argument vector of a process, or [] when it is gone."""
    try:
        raw = Path("/proc/%d/cmdline" % pid).read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def module_processes(root, module, port):
    """The pids among root's descendants that run the module and hold a connection to the stub's port.

    The collection's action plugins run its modules inside ansible-playbook's
    worker process (a child of ansible-playbook); run the usual way, the
    module is a python running its AnsiballZ payload.  Either way the
    module's process is the one connected to the stub, not the shells ansible
    wraps a payload in (``/bin/sh -c 'python .../AnsiballZ_x.py && sleep 0'``).
    """
    everyone = descendants(root)
    payloads = [pid for pid in everyone if runs_payload(pid, module)]
    return pids_connected_to(payloads or everyone, port)


def runs_payload(pid, module):
    """Whether the process is a python running the module's AnsiballZ payload (the module run the usual way)."""
    args = argv(pid)
    return len(args) >= 2 and Path(args[0]).name.startswith("python") and Path(args[1]).name == "AnsiballZ_%s.py" % module


def socket_inodes_to_port(port):
    """Inodes of the TCP sockets connected to a loopback port (from /proc/net/tcp)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def pids_connected_to(pids, port):
    """Which of the pids hold a socket connected to the port: who made the held call."""
    inodes = socket_inodes_to_port(port)
    found = []
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path("/proc/%d/fd" % pid).iterdir()]
        except OSError:
            continue
        if any(link.startswith("socket:[") and link[8:-1] in inodes for link in links):
            found.append(pid)
    return found


class Rig:
    """One driver's view of the stub and of the runs it made."""

    def __init__(self, config_path, work_dir, verbosity=()):
        with open(config_path) as handle:
            self.config = yaml.safe_load(handle)
        sys.path.insert(0, str(Path(self.config["stubctl"]).parent))
        import stubctl  # pylint: disable=import-outside-toplevel,import-error

        self.stubctl = stubctl
        self.state_file = self.config["stub_state_file"]
        self.endpoint = self.config["aws_endpoint_url"]
        self.region = self.config["aws_region"]
        self.admin = (self.config["aws_access_key"], self.config["aws_secret_key"])
        self.work = Path(work_dir)
        self.work.mkdir(parents=True, exist_ok=True)
        self.verbosity = list(verbosity)
        self.logs: list[Path] = []
        self.read_back: set[str] = set()
        self.failures: list[str] = []
        self.started = time.monotonic()
        self.stats = Counter()
        self.runs = 0
        self.leaks_at_start = len(self.leaks())

    # -- the stub ------------------------------------------------------

    def control(self, method, path, body=None):
        return self.stubctl.control(self.state_file, method, path, body)

    def faults(self, **settings):
        return self.control("POST", "faults", settings)

    def fault_status(self):
        return self.control("GET", "faults")

    def reset(self):
        self.control("POST", "reset", {})

    def calls(self):
        return self.control("GET", "calls")["calls"]

    def calls_reset(self):
        self.control("POST", "calls/reset", {})

    def secrets(self):
        return self.control("GET", "secrets")["secrets"]

    def leaks(self):
        return self.control("GET", "leaks")["leaks"]

    def moto_url(self):
        return self.stubctl.read_state(self.state_file)["moto_url"]

    # -- AWS -----------------------------------------------------------

    def client(self, service, key=None, secret=None, token=None, region=None, attempts=5):
        key, secret = (key, secret) if key else self.admin
        return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                                     region_name=region or self.region).client(
            service, endpoint_url=self.endpoint,
            config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": attempts}))

    def moto_client(self, service):
        """A client that talks to moto itself, past the stub: another actor, while the stub holds every call."""
        return boto3.session.Session(aws_access_key_id=self.admin[0], aws_secret_access_key=self.admin[1],
                                     region_name=self.region).client(
            service, endpoint_url=self.moto_url(),
            config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 3}))

    def foreign_key(self, user, iam=None):
        """A key another actor (a person, a pipeline) creates; its secret is remembered for the scan only."""
        key = (iam or self.client("iam")).create_access_key(UserName=user)["AccessKey"]
        self.read_back.add(key["SecretAccessKey"])
        return key["AccessKeyId"]

    def seed_user(self, user, keys=1, password=None, iam=None):
        """A user with keys (their secrets are returned, for the test's own use) and a console password."""
        iam = iam or self.client("iam")
        iam.create_user(UserName=user)
        made = [iam.create_access_key(UserName=user)["AccessKey"] for _number in range(keys)]
        if password:
            iam.create_login_profile(UserName=user, Password=password)
        return made

    def keys(self, user, iam=None):
        iam = iam or self.client("iam")
        return [{"id": key["AccessKeyId"], "status": key["Status"]}
                for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]]

    def tags(self, user, iam=None):
        iam = iam or self.client("iam")
        return {tag["Key"]: tag["Value"] for tag in iam.list_user_tags(UserName=user)["Tags"]}

    def read_secret(self, name, stage="AWSCURRENT", sm=None):
        """The JSON document a Secrets Manager secret holds at a stage, or None (remembered for the scan)."""
        sm = sm or self.client("secretsmanager")
        try:
            value = sm.get_secret_value(SecretId=name, VersionStage=stage)["SecretString"]
        except botocore.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("ResourceNotFoundException",):
                return None
            raise
        document = json.loads(value)
        for field in ("SecretAccessKey", "Password"):
            if document.get(field):
                self.read_back.add(document[field])
        return document

    def caller_arn(self, key, secret):
        """Who a key authenticates as, or 'error: Code'."""
        try:
            return self.client("sts", key, secret, attempts=1).get_caller_identity()["Arn"]
        except botocore.exceptions.ClientError as exc:
            return "error: %s" % exc.response["Error"]["Code"]

    def login_matches(self, user, password, account=ACCOUNT):
        return self.control("POST", "login-profile", {"account": account, "user": user, "password": password})["matches"]

    def has_password(self, user, account=ACCOUNT):
        return self.control("POST", "login-profile", {"account": account, "user": user, "password": ""})["has_password"]

    # -- runs ------------------------------------------------------------

    def env(self, key=None, secret=None, extra=None):
        key, secret = (key, secret) if key else self.admin
        env = dict(os.environ)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE"):
            env.pop(name, None)
        env.update(AWS_ENDPOINT_URL=self.endpoint, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                   AWS_REGION=self.region, AWS_DEFAULT_REGION=self.region, ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                   # The module runs as `python AnsiballZ_<module>.py`, so the kill drivers can find it by name.
                   ANSIBLE_PIPELINING="0")
        env.update(extra or {})
        return env

    def start(self, name, run_vars, key=None, secret=None, extra_args=(), env=None):
        """Start ansible-playbook in its own process group; returns (process, results file)."""
        self.runs += 1
        stem = "%03d-%s" % (self.runs, name)
        results = self.work / (stem + ".results.json")
        run_vars = dict(run_vars, results_file=str(results))
        vars_file = self.work / (stem + ".vars.json")
        vars_file.write_text(json.dumps(run_vars))
        log = self.work / (stem + ".log")
        self.logs.append(log)
        command = ["ansible-playbook", "-i", "localhost,", str(PLAYBOOK), "-e", "@%s" % vars_file,
                   *self.verbosity, *extra_args]
        with log.open("w") as handle:
            process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=env or self.env(key, secret), start_new_session=True)
        _running.append(process)
        process.log = log
        process.results = results
        return process

    def finish(self, process, timeout=RUN_TIMEOUT):
        """Wait for a run; returns (rc, results or None)."""
        try:
            rc = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail("%s did not finish within %ss" % (process.log.name, timeout))
            self.kill(process)
            rc = -9
        results = json.loads(process.results.read_text()) if process.results.exists() else None
        return rc, results

    def run(self, name, run_vars, key=None, secret=None, extra_args=(), env=None):
        return self.finish(self.start(name, run_vars, key, secret, extra_args, env))

    def wait_held(self, process, timeout=120):
        """Wait until the stub holds a request of this run; None if the run ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            held = self.fault_status()["held"]
            if held is not None:
                return held
            if process.poll() is not None:
                return None
            time.sleep(0.02)
        raise TimeoutError("no request was held within %ss" % timeout)

    def kill(self, process):
        """SIGKILL ansible-playbook and every process it started; returns the pids that made the held call.

        Those are the module's python process (the one holding a connection
        to the stub), found among the descendants of ansible-playbook.
        """
        tree = descendants(process.pid)
        port = int(self.endpoint.rsplit(":", 1)[1].split("/")[0])
        callers = pids_connected_to(tree, port)
        for pid in callers + [p for p in reversed(tree) if p not in callers] + [process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = [pid for pid in tree if alive(pid)]
        if survivors:
            self.fail("processes %s of the killed run survived SIGKILL" % survivors)
        return callers

    def kill_module(self, process, module, timeout=30):
        """SIGKILL the module's own python process (not the playbook's group) and prove it died.

        ansible-playbook's workers call setsid(), so signalling the playbook's
        process group would leave the module running to completion.  The
        module is the one descendant of ansible-playbook holding a connection
        to the stub: the worker running it in process, or the python running
        its AnsiballZ payload.  Returns the pid killed, or None (and a failure) when no
        such process was found or it did not die.
        """
        port = int(self.endpoint.rsplit(":", 1)[1].split("/")[0])
        deadline = time.monotonic() + timeout
        modules = []
        while not modules and time.monotonic() < deadline:
            modules = module_processes(process.pid, module, port)
            if not modules:
                time.sleep(0.02)
        if len(modules) != 1:
            self.fail("expected one %s module process under ansible-playbook %d, found %s"
                      % (module, process.pid, modules))
            return None
        pid = modules[0]
        if pids_connected_to([pid], port) != [pid]:
            self.fail("module process %d holds no connection to the stub: it is not the caller held" % pid)
        os.kill(pid, signal.SIGKILL)
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if alive(pid):
            self.fail("module process %d survived SIGKILL" % pid)
            return None
        return pid

    # -- checks ----------------------------------------------------------

    def fail(self, message):
        self.failures.append(message)
        say("FAIL: " + message)

    def check(self, condition, message):
        if not condition:
            self.fail(message)
        return bool(condition)

    def check_tags(self, users_by_account):
        """No secret in any tag of the given users ({iam client: [users]})."""
        secrets = [s for s in set(self.secrets()) | self.read_back if s]
        for iam, users in users_by_account:
            for user in users:
                for key, value in self.tags(user, iam).items():
                    self.stats["tags_scanned"] += 1
                    if any(secret in value or secret in key for secret in secrets):
                        self.fail("a secret is in tag %s of user %s" % (key, user))

    def scan(self, extra_files=()):
        """Every secret the stub saw, and every secret read back, searched in all logs and results."""
        secrets = [s for s in set(self.secrets()) | self.read_back if s]
        files = [path for path in self.logs if path.exists()]
        files += [path.with_name(path.name.replace(".log", ".results.json")) for path in self.logs]
        files = [path for path in files + list(extra_files) if Path(path).exists()]
        hits = 0
        for path in files:
            text = Path(path).read_text(errors="replace")
            for secret in secrets:
                if secret in text:
                    hits += 1
                    self.fail("a secret appears in %s" % path)
        new_leaks = self.leaks()[self.leaks_at_start:]
        self.check(not new_leaks, "secrets were sent outside the secret sinks: %s" % new_leaks)
        for path in files:
            mode = os.stat(path).st_mode & 0o777
            if str(path).endswith(".results.json"):
                self.check(mode == 0o600, "%s has mode %o, not 600" % (path, mode))
        self.stats.update(secrets_searched=len(secrets), files_scanned=len(files), secret_hits=hits,
                          stub_leaks=len(new_leaks))
        return hits

    def conclude(self, tallies, summary):
        """The end of every driver: the secret scan, one line per fault class, the summary."""
        self.scan()
        for tally in tallies:
            tally.report(self)
        self.done(summary)

    def done(self, summary):
        """Print the summary and exit 1 if anything failed."""
        summary = dict(summary, seconds=round(time.monotonic() - self.started), failures=len(self.failures),
                       stats=dict(self.stats), runs=self.runs)
        print(json.dumps(summary, indent=1, default=str), flush=True)
        if self.failures:
            print("FAILURES:\n" + "\n".join(self.failures), flush=True)
            sys.exit(1)


def peak_keys(calls, user, start=1):
    """The most keys a user had at once, from the successful creates and deletes in a call log."""
    now = peak = start
    for call in calls:
        if call.get("user") != user or call["status"] != 200:
            continue
        if call["action"] == "CreateAccessKey":
            now += 1
        elif call["action"] == "DeleteAccessKey":
            now -= 1
        peak = max(peak, now)
    return peak


def creates_reaching_aws(calls, user=None):
    """CreateAccessKey calls that AWS performed (answered, or answer withheld by the stub)."""
    return [call for call in calls if call["action"] == "CreateAccessKey" and (user is None or call.get("user") == user)
            and call["status"] == 200]


class Destination:
    """A secret destination as a consumer reads it: Secrets Manager, SSM (JSON SecureString) or a JSON file.

    ``read`` returns the JSON document (or None when there is none) and
    remembers its secret for the scan; nothing here prints a secret.
    """

    def __init__(self, rig, kind, name):
        self.rig, self.kind, self.name = rig, kind, name

    def module_arg(self):
        if self.kind == "file":
            return {"type": "file", "path": self.name, "format": "json"}
        return {"type": self.kind, "name": self.name}

    def seed(self, document):
        text = json.dumps(document)
        if self.kind == "secretsmanager":
            self.rig.client("secretsmanager").create_secret(Name=self.name, SecretString=text)
        elif self.kind == "ssm":
            self.rig.client("ssm").put_parameter(Name=self.name, Value=text, Type="SecureString")
        else:
            Path(self.name).write_text(text)
            os.chmod(self.name, 0o600)

    def read(self, pending=False):
        if self.kind == "secretsmanager":
            return self.rig.read_secret(self.name, "AWSPENDING" if pending else "AWSCURRENT")
        if self.kind == "ssm":
            try:
                value = self.rig.client("ssm").get_parameter(
                    Name=self.name + ("-pending" if pending else ""), WithDecryption=True)["Parameter"]["Value"]
            except botocore.exceptions.ClientError as exc:
                if exc.response["Error"]["Code"] == "ParameterNotFound":
                    return None
                raise
        else:
            path = Path(self.name + (".pending" if pending else ""))
            if not path.exists():
                return None
            value = path.read_text()
        document = json.loads(value)
        for field in ("SecretAccessKey", "Password"):
            if document.get(field):
                self.rig.read_back.add(document[field])
        return document


class FaultTally:
    """What a fault class did to consumers, counted from the observed state (never from expectations).

    * secret lost: a destination naming a key that is not an Active key of
      its user (or that does not authenticate as the user), IAM holding a
      console password that neither the destination's current nor its
      pending value holds (nor the test, where it seeded no destination), or (at the end of a case) an Active key whose
      secret nobody holds: neither the destination's key nor one the test
      holds (the user's old key, a foreign key);
    * foreign key deleted: a key the test created outside the collection
      (another actor's) that is gone;
    * green run with a leaked key active: a run with ``force`` reported ok for
      the user while the key that was current when it started is still Active.
    """

    def __init__(self, name):
        self.name = name
        self.cases = 0
        self.lost = 0
        self.foreign_deleted = 0
        self.green_leaked = 0
        self.notes = []

    def case(self):
        self.cases += 1

    def _count(self, attribute, what):
        setattr(self, attribute, getattr(self, attribute) + 1)
        self.notes.append(what)

    def access_keys(self, rig, label, user, destination, held=(), foreign=(), end_of_case=False):
        """Observe a user's keys and destination; returns (keys as {id: status}, destination key id)."""
        keys = {key["id"]: key["status"] for key in rig.keys(user)}
        document = destination.read() or {}
        stored = document.get("AccessKeyId")
        if stored is not None:
            arn = rig.caller_arn(stored, document.get("SecretAccessKey", ""))
            if keys.get(stored) != "Active" or not arn.endswith(":user/" + user):
                self._count("lost", "%s: the destination names %s (%s), not an Active key of %s authenticating as it"
                            % (label, stored, keys.get(stored, "no such key"), user))
        for key_id in foreign:
            if key_id not in keys:
                self._count("foreign_deleted", "%s: foreign key %s of %s was deleted" % (label, key_id, user))
        if end_of_case:
            unheld = sorted(k for k, status in keys.items()
                            if status == "Active" and k != stored and k not in held and k not in foreign)
            for key_id in unheld:
                self._count("lost", "%s: key %s of %s is Active and nobody holds its secret" % (label, key_id, user))
        return keys, stored

    def password(self, rig, label, user, destination, held=()):
        """Observe IAM's password against the destination; returns (current matches IAM, pending matches IAM).

        ``held``: passwords the test holds (one seeded where no destination was).
        """
        current = (destination.read() or {}).get("Password")
        pending = (destination.read(pending=True) or {}).get("Password")
        current_ok = bool(current) and rig.login_matches(user, current)
        pending_ok = bool(pending) and rig.login_matches(user, pending)
        held_ok = any(rig.login_matches(user, password) for password in held if password)
        if rig.has_password(user) and not current_ok and not pending_ok and not held_ok:
            self._count("lost", "%s: IAM holds a password of %s that the destination holds neither as current "
                                "nor as pending" % (label, user))
        return current_ok, pending_ok

    def forced_run(self, rig, label, user, result, replaced_key):
        """A forced run's result for the user against the key it was asked to replace."""
        outcome = next((u for u in (result or {}).get("users", []) if u.get("user_name") == user), None)
        green = bool(result) and not result.get("failed") and outcome is not None and outcome.get("status") != "failed"
        still_active = {"id": replaced_key, "status": "Active"} in rig.keys(user)
        if green and still_active:
            self._count("green_leaked", "%s: the run reported %s green while %s is still Active"
                        % (label, user, replaced_key))

    def line(self):
        return ("fault class %s: cases %d, secrets lost %d, foreign keys deleted %d, green runs with a leaked key "
                "active %d" % (self.name, self.cases, self.lost, self.foreign_deleted, self.green_leaked))

    def report(self, rig):
        """Print the summary line (quoted in the release notes); every count must be 0."""
        for note in self.notes:
            say("%s: %s" % (self.name, note))
        print(self.line(), flush=True)
        rig.check(self.lost == 0 and self.foreign_deleted == 0 and self.green_leaked == 0, self.line())

"""Make ``ansible_collections.rotator.aws_iam`` importable in a plain ``pytest`` run; give tests AWS on loopback.

Under ``ansible-test units`` the collection already sits in an
``ansible_collections/rotator/aws_iam`` tree and this does nothing.  From a
checkout, a temporary directory gets that tree as a symlink to the
repository root and its parent goes on ``sys.path``.  ``ansible_collections``
and ``ansible_collections.rotator`` stay namespace packages, so other
collections on the path keep working.

The fixture ``aws`` runs the real classes against moto on loopback, behind the
recording and fault-injecting stub (``tests/support/aws_stub.py``).  The stub
starts when the first test asks for it, once per test session (so once per
xdist worker), on a free 127.0.0.1 port, and is stopped by its PID; every test
starts from empty AWS, no faults, the real clock and an empty call log.
``aws`` gives clients and an ``AWSConnection`` as the modules build them, so a
test drives exactly the code a playbook runs.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import ansible.template
import boto3
import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.parameters import PASS_VARS
from ansible.plugins import AnsiblePlugin
from botocore.awsrequest import AWSResponse
from botocore.config import Config

PROBE = "ansible_collections.rotator.aws_iam.plugins.module_utils"


def _names_of_ansible_core_2_19():
    """Names the tests use, given on ansible-core 2.17 and 2.18 the meaning they have from 2.19 on.

    ``basic._ANSIBLE_PROFILE``: tests that build an ``AnsibleModule`` set it
    with ``monkeypatch.setattr``, which needs the name to exist; before 2.19
    ``AnsibleModule`` reads no profile, so it stays unused there.
    ``ansible.template.trust_as_template``: before 2.19 every string may be
    a template, so marking one as trusted changes nothing.
    ``AnsiblePlugin._redirected_names``: 2.19 declares it ``None`` on every
    plugin; before, only the plugin loader sets it, and tests that make an
    inventory plugin themselves read their file through
    ``_read_config_data``, which reads it.
    """
    if not hasattr(basic, "_ANSIBLE_PROFILE"):
        basic._ANSIBLE_PROFILE = None
    if not hasattr(ansible.template, "trust_as_template"):
        ansible.template.trust_as_template = lambda value: value
    if not hasattr(AnsiblePlugin, "_redirected_names"):
        AnsiblePlugin._redirected_names = None


_names_of_ansible_core_2_19()
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


SUPPORT_DIR = Path(REPO_ROOT) / "tests" / "support"
ACCOUNT = "123456789012"
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
# ansible-core 2.21 returns a module's invocation only when the task asks (INJECT_INVOCATION); before, always.
INVOCATION = {"_ansible_inject_invocation": True} if "inject_invocation" in PASS_VARS else {}


def _load_stubctl():
    spec = importlib.util.spec_from_file_location("rotator_stubctl", SUPPORT_DIR / "stubctl.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stubctl = _load_stubctl()


class AWS:
    """The stub of one test: AWS clients for seeding and checking, the module's connection, fault control."""

    def __init__(self, state_file):
        self.state_file = state_file
        self.endpoint_url = stubctl.read_state(state_file)["endpoint_url"]
        self.account = ACCOUNT

    def client(self, service, access_key="testing", secret_key="testing", config=NO_RETRY):
        """A plain boto3 client, outside the code under test (no retries: a fault shows)."""
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name="us-east-1",
                            aws_access_key_id=access_key, aws_secret_access_key=secret_key, config=config)

    def connect(self, **params):
        """An AWSConnection built as the modules build it, from module parameters."""
        base = dict(access_key="testing", secret_key="testing", region="us-east-1", endpoint_url=self.endpoint_url,
                    retry_mode="standard", max_attempts=3)
        base.update(params)
        # Imported here: the collection is importable only once the set-up above has run.
        from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import connect  # pylint: disable=import-outside-toplevel
        return connect(base)

    def control(self, method, path, body=None):
        return stubctl.control(self.state_file, method, path, body)

    def faults(self, **settings):
        """Replace the stub's fault settings (``/_stub/faults``); no argument clears them."""
        return self.control("POST", "faults", settings)

    def calls(self, action=None):
        calls = self.control("GET", "calls")["calls"]
        return [call for call in calls if action is None or call["action"] == action]

    def secrets(self):
        return self.control("GET", "secrets")["secrets"]

    def leaks(self):
        return self.control("GET", "leaks")["leaks"]

    def clock(self, offset_days):
        return self.control("POST", "clock", {"offset_days": offset_days})

    def user(self, name, keys=0, tags=None):
        """Create an IAM user with ``keys`` access keys; returns their (id, secret) pairs."""
        iam = self.client("iam")
        iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])
        made = []
        for _number in range(keys):
            key = iam.create_access_key(UserName=name)["AccessKey"]
            made.append((key["AccessKeyId"], key["SecretAccessKey"]))
        return made


@pytest.fixture(scope="session")
def _stub_state(tmp_path_factory):
    path = tmp_path_factory.mktemp("aws_stub") / "state.json"
    state = stubctl.start(path)
    yield path
    stubctl.stop(path)
    assert not stubctl.pid_alive(state["pid"])


@pytest.fixture
def aws(_stub_state):
    """Empty AWS for this test, as the stub serves it."""
    stubctl.control(_stub_state, "POST", "reset")
    return AWS(_stub_state)


class Refusal:
    """Answers chosen calls of one real client with an AWS error, without sending them; counts the calls it answered.

    For errors the stub cannot give (AccessDenied, KMS): the class under test keeps its real client and
    code path, only that call's answer is replaced.  ``after`` arms it once another operation has
    answered; ``times`` bounds how many calls it answers.
    """

    def __init__(self, client, operation, code, after=None, times=None):
        self.code = code
        self.times = times
        self.answered = 0
        self.armed = after is None
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register("before-call.%s.%s" % (service, operation), self._refuse)
        if after is not None:
            client.meta.events.register("after-call.%s.%s" % (service, after), self._arm)

    def _arm(self, **_kwargs):
        self.armed = True

    def _refuse(self, **_kwargs):
        if not self.armed or (self.times is not None and self.answered >= self.times):
            return None
        self.answered += 1
        response = AWSResponse("https://refused.invalid/", 400, {}, None)
        return response, {"Error": {"Code": self.code, "Message": "refused by the test"},
                          "ResponseMetadata": {"HTTPStatusCode": 400}}


@pytest.fixture
def refusal():
    """The Refusal class, for tests that refuse a call of a real client."""
    return Refusal


@pytest.fixture
def connection_args(aws):
    """Module parameters that connect to the stub."""
    return dict(access_key="testing", secret_key="testing", region="us-east-1", endpoint_url=aws.endpoint_url,
                max_attempts=2)


@pytest.fixture
def run_module():
    """Run a module's ``main()`` with arguments; (failed, result) as Ansible reads them from its output.

    The module runs as the action plugins run it in the worker (``run_main``),
    which gives it its arguments the way each ansible-core from 2.17 on
    expects them (2.19's ``patch_module_args`` does not exist before 2.19).
    The result holds the module's ``invocation`` on every version, as tests of
    ``no_log`` read it (ansible-core 2.21 adds it only when asked).
    """
    # Imported here: the collection is importable only once the set-up above has run.
    from ansible_collections.rotator.aws_iam.plugins.plugin_utils._in_process import run_main  # pylint: disable=import-outside-toplevel

    def run(module, args):
        output = run_main(module.main, dict(args, **INVOCATION), {})
        assert output["stdout"], "%s.main() printed no result:\n%s" % (module.__name__, output["stderr"])
        result = json.loads(output["stdout"])
        return bool(result.get("failed")), result

    return run

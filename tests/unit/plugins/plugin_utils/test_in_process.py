"""Running a module's ``main()`` in the worker: what its process would print, with the real AnsibleModule."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.parameters import PASS_VARS

from ansible_collections.rotator.aws_iam.plugins.plugin_utils._in_process import (
    InProcessModuleAction,
    module_arguments,
    run_main,
)

SECRET = "s3cr3t-token-value"
# ansible-core 2.21 adds the invocation to a result only when asked; older releases know no such argument.
INVOCATION = {"_ansible_inject_invocation": True} if "inject_invocation" in PASS_VARS else {}


def sample_main():
    module = AnsibleModule(argument_spec=dict(name=dict(type="str", required=True),
                                              token=dict(type="str", no_log=True),
                                              fail=dict(type="bool", default=False),
                                              crash=dict(type="bool", default=False)),
                           supports_check_mode=True)
    if module.params["crash"]:
        raise RuntimeError("the module broke")
    module.warn("careful with %s" % module.params["name"])
    if module.params["fail"]:
        module.fail_json(msg="failed with %s" % module.params["token"])
    module.exit_json(changed=not module.check_mode, echo=module.params["token"], check_mode=module.check_mode,
                     env=os.environ.get("ROTATOR_IN_PROCESS_TEST"))


def result_of(output):
    return json.loads(output["stdout"])


def test_the_result_is_the_modules_json_with_no_log_values_removed():
    output = run_main(sample_main, dict(name="alice", token=SECRET, **INVOCATION), {})
    assert output["rc"] == 0
    assert output["stderr"] == ""
    assert SECRET not in output["stdout"]
    result = result_of(output)
    assert result["changed"] is True
    assert result["echo"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert result["invocation"]["module_args"]["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_internal_arguments_reach_the_module():
    result = result_of(run_main(sample_main, dict(name="alice", _ansible_check_mode=True), {}))
    assert result["check_mode"] is True
    assert result["changed"] is False


def test_a_failure_exits_with_rc_1_and_a_masked_message():
    output = run_main(sample_main, dict(name="alice", token=SECRET, fail=True), {})
    assert output["rc"] == 1
    result = result_of(output)
    assert result["failed"] is True
    assert result["msg"] == "failed with ********"


def test_the_tasks_environment_is_seen_by_the_module_and_removed_after():
    assert "ROTATOR_IN_PROCESS_TEST" not in os.environ
    result = result_of(run_main(sample_main, dict(name="alice"), {"ROTATOR_IN_PROCESS_TEST": "from the task"}))
    assert result["env"] == "from the task"
    assert "ROTATOR_IN_PROCESS_TEST" not in os.environ


def test_a_crash_gives_its_traceback_on_stderr_as_a_module_process_would():
    output = run_main(sample_main, dict(name="alice", crash=True), {})
    assert output["rc"] == 1
    assert output["stdout"] == ""
    assert "RuntimeError: the module broke" in output["stderr"]


def test_the_module_arguments_are_put_back_after_the_run():
    before = basic._ANSIBLE_ARGS
    run_main(sample_main, dict(name="alice"), {})
    assert basic._ANSIBLE_ARGS is before


def test_arguments_are_encoded_as_ansible_sends_them_to_a_module():
    payload, _profile = module_arguments({"name": "alice", "tags": {"team": "data"}})
    assert json.loads(payload) == {"ANSIBLE_MODULE_ARGS": {"name": "alice", "tags": {"team": "data"}}}


def where(transport="local", become=None, async_val=0):
    """What runs_here reads of an action: its connection and its task."""
    return SimpleNamespace(_connection=SimpleNamespace(transport=transport, become=become),
                           _task=SimpleNamespace(async_val=async_val))


@pytest.mark.parametrize("task_vars, action, expected", [
    ({}, where(), True),
    ({"rotator_in_process": True}, where(), True),
    ({"rotator_in_process": False}, where(), False),
    ({"rotator_in_process": "false"}, where(), False),  # as -e rotator_in_process=false gives it
    ({"rotator_in_process": "no"}, where(), False),
    ({}, where(transport="ssh"), False),
    ({}, where(become=object()), False),
    ({}, where(async_val=60), False),
])
def test_only_a_local_connection_without_become_or_async_runs_the_module_here(task_vars, action, expected):
    assert InProcessModuleAction.runs_here(action, task_vars) is expected

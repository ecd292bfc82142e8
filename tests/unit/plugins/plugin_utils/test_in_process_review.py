"""Review of running a module's ``main()`` in the worker: what the module process would have given, and no more.

A module's warnings belong to its result (``result.warnings``), masked of its
``no_log`` values by ``AnsibleModule._return_formatted``, and only to the run
that raised them.  A loop runs every item's ``main()`` in one worker, so two
runs here stand for two loop items.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rotator.aws_iam.plugins.plugin_utils._in_process import run_main

SECRET = "s3cr3t-token-value"


def warning_main():
    module = AnsibleModule(argument_spec=dict(name=dict(type="str", required=True),
                                              token=dict(type="str", no_log=True)))
    module.warn("about %s with %s" % (module.params["name"], module.params["token"]))
    module.exit_json(changed=False)


@pytest.mark.xfail(strict=True, reason="ansible-core 2.19: in the controller's worker module.warn() goes straight to "
                   "Display (module_utils._internal.is_controller), so the warning is not in the task's result")
def test_a_warning_is_in_the_result_as_the_module_process_returns_it():
    result = json.loads(run_main(warning_main, dict(name="alice", token=SECRET), {})["stdout"])
    assert result["warnings"] == ["about alice with ********"]


@pytest.mark.xfail(strict=True, reason="ansible-core 2.19: a warning printed by Display in the worker is not masked "
                   "with the module's no_log values: the secret is printed")
def test_a_warning_never_prints_a_no_log_value(capfd):
    # A name of its own: Display prints a warning it has printed before only once.
    run_main(warning_main, dict(name="carol", token=SECRET), {})
    captured = capfd.readouterr()
    assert SECRET not in captured.out + captured.err


ANSIBLE_217 = Path("/tmp/v217/bin/python")
COLLECTIONS_217 = Path("/tmp/c217")

LOOP_OF_TWO = """
import json
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._in_process import run_main

def warning_main():
    module = AnsibleModule(argument_spec=dict(name=dict(type="str", required=True)))
    module.warn("about %s" % module.params["name"])
    module.exit_json(changed=False)

print(json.dumps([json.loads(run_main(warning_main, dict(name=name), {})["stdout"]).get("warnings")
                  for name in ("alice", "bob")]))
"""


@pytest.mark.skipif(not ANSIBLE_217.exists(), reason="needs the ansible-core 2.17 venv at /tmp/v217")
@pytest.mark.xfail(strict=True, reason="ansible-core 2.17/2.18: warnings are kept in module_utils.common.warnings' "
                   "module-level list, which nothing clears between runs in one worker: a loop's second item "
                   "returns the first item's warnings too")
def test_each_loop_item_returns_only_its_own_warnings_on_ansible_core_2_17():
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS_217))
    answer = subprocess.run([str(ANSIBLE_217), "-c", LOOP_OF_TWO], env=env, capture_output=True, text=True,
                            check=True, cwd="/tmp")
    assert json.loads(answer.stdout) == [["about alice"], ["about bob"]]

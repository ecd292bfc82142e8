"""A module's warnings in the worker: what the module process would have given, and no more.

A module's warnings belong to its result (``result.warnings``), never to the
display of the worker, and only to the run that raised them.  A loop runs every item's ``main()`` in one worker, so two
runs here stand for two loop items.
"""

from __future__ import annotations

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rotator.aws_iam.plugins.plugin_utils._in_process import run_main

SECRET = "s3cr3t-token-value"


def warning_main():
    module = AnsibleModule(argument_spec=dict(name=dict(type="str", required=True),
                                              token=dict(type="str", no_log=True)))
    module.warn("about %s with %s" % (module.params["name"], module.params["token"]))
    module.exit_json(changed=False)


def warning_messages(result):
    """The warnings' texts, from the result as the module printed it (ansible-core 2.19+ sends structured ones)."""
    return [item["event"]["msg"] if isinstance(item, dict) else item for item in result.get("warnings", [])]


def test_a_warning_is_in_the_result_as_the_module_process_returns_it(capfd):
    # Before: ansible-core 2.19 marks module_utils as running in the controller, and warn() went to the display.
    result = json.loads(run_main(warning_main, dict(name="alice", token=SECRET), {})["stdout"])
    captured = capfd.readouterr()
    assert [message.split(" with ")[0] for message in warning_messages(result)] == ["about alice"]
    assert "about alice" not in captured.err


def test_a_warning_never_prints_a_no_log_value(capfd):
    # A name of its own: Display prints a warning it has printed before only once.
    run_main(warning_main, dict(name="carol", token=SECRET), {})
    captured = capfd.readouterr()
    assert SECRET not in captured.out + captured.err


def test_each_loop_item_returns_only_its_own_warnings():
    # A loop runs every item in one worker: before, the second item returned the first item's warnings too.
    first, second = (json.loads(run_main(warning_main, dict(name=name), {})["stdout"]) for name in ("alice", "bob"))
    assert [message.split(" with ")[0] for message in warning_messages(first)] == ["about alice"]
    assert [message.split(" with ")[0] for message in warning_messages(second)] == ["about bob"]

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run a module of this collection inside the controller's worker process.

The modules of this collection only call AWS APIs; they never need the
managed host.  Run through the usual path, every task packs the module
(AnsiballZ), starts a new Python interpreter and imports boto3 and botocore
again: about 0.5 CPU-seconds per account and task, most of a no-op run's
cost.  Run here, the task costs the worker's fork, and boto3 was imported
once by the controller when the strategy loaded this action plugin (it
loads action classes to ask about ``BYPASS_HOST_LOOP``), and botocore's
service data was parsed then too (``warm()``).

The module itself runs unchanged: its ``main()`` builds the real
``AnsibleModule`` from the same arguments the module would get (internal
``_ansible_*`` ones included), its ``exit_json``/``fail_json`` print the
same JSON (with ``no_log`` values removed), and that JSON is parsed the way
``_execute_module`` parses a module's output.  The worker is a fork of the
controller made for this one task, so the module-level state AnsibleModule
sets (its parameters, the task's environment) ends with the task.

A task runs the usual way instead when the module would not run on the
controller as the controller's user: a connection other than ``local``,
``become``, ``async``, or the host variable ``rotator_in_process: false``;
and when the controller's Python has no boto3 (the host's interpreter may).
In the worker the module uses the controller's Python and its boto3, not
``ansible_python_interpreter``.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import traceback

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    CONNECTION_ARGSPEC,
    HAS_BOTO3,
    aws_config_secrets,
    warm,
)
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._amazon_aws_defaults import (
    amazon_aws_group_defaults,
    option_names,
    with_group_defaults,
    without_amazon_aws_only_options,
)

try:  # ansible-core 2.17 to 2.20: _parse_returned_data() gives a dict, cleaned by this function.
    from ansible.vars.clean import remove_internal_keys
except ImportError:  # ansible-core 2.21: it gives a task result, which cleans itself.
    remove_internal_keys = None

try:  # ansible-core 2.19 and later: module_utils knows whether it runs in the controller.
    from ansible.module_utils import _internal as module_internal
except ImportError:  # ansible-core 2.17 and 2.18
    module_internal = None

# What module_utils records during a module run, to return with its result.
RECORDED = ("_global_warnings", "_global_deprecations")

try:  # ansible-core 2.19 and later: module arguments and results carry a serialization profile.
    from ansible.module_utils.common.json import Direction, get_module_encoder
    AnsibleJSONEncoder = None
except ImportError:  # ansible-core 2.17 and 2.18
    from ansible.module_utils.common.json import AnsibleJSONEncoder
    Direction = get_module_encoder = None

PROFILE = "legacy"

# Here, in the controller, before any worker forks: botocore's service data is parsed once for all of them.
warm()
TAKES_PROFILE = "profile" in inspect.signature(ActionBase._parse_returned_data).parameters
# Every module of the collection takes the connection options under these names.
CONNECTION_OPTION_NAMES = option_names(CONNECTION_ARGSPEC)


def module_arguments(args):
    """The module's arguments as ``_load_params`` reads them: JSON bytes, and the profile where there is one."""
    wrapped = {"ANSIBLE_MODULE_ARGS": args}
    if get_module_encoder is None:
        return to_bytes(json.dumps(wrapped, cls=AnsibleJSONEncoder, vault_to_text=True)), None
    return to_bytes(json.dumps(wrapped, cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE))), PROFILE


@contextlib.contextmanager
def environment(variables):
    """``os.environ`` with the task's ``environment:`` added, as the module process would have it."""
    saved = dict(os.environ)
    os.environ.update({name: str(value) for name, value in variables.items()})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def module_side():
    """module_utils as a module process has it: target-side, with no warning or deprecation recorded yet.

    In the controller ansible-core 2.19+ marks module_utils as running there
    (``_internal.is_controller``): ``warn()`` and ``deprecate()`` would go to
    the display at once, outside the result and unmasked by ``no_log``.  A
    module process also starts with empty lists of warnings and deprecations;
    a loop runs every item in one worker, so each item gets fresh ones.
    """
    saved_side = getattr(module_internal, "is_controller", None)
    saved_lists = {name: getattr(module_warnings, name) for name in RECORDED if hasattr(module_warnings, name)}
    if saved_side is not None:
        module_internal.is_controller = False
    for name, recorded in saved_lists.items():
        setattr(module_warnings, name, type(recorded)())
    try:
        yield
    finally:
        if saved_side is not None:
            module_internal.is_controller = saved_side
        for name, recorded in saved_lists.items():
            setattr(module_warnings, name, recorded)


def run_main(main, args, env):
    """Run a module's ``main()`` here; returns what the module process would have: stdout, stderr and rc."""
    payload, profile = module_arguments(args)
    saved = basic._ANSIBLE_ARGS, getattr(basic, "_ANSIBLE_PROFILE", None)
    basic._ANSIBLE_ARGS = payload
    if profile is not None:
        basic._ANSIBLE_PROFILE = profile
    stdout, stderr, rc = io.StringIO(), "", 0
    try:
        with environment(env), module_side(), contextlib.redirect_stdout(stdout):
            main()
    except SystemExit as exc:  # exit_json and fail_json end with sys.exit()
        rc = exc.code if isinstance(exc.code, int) else 1
    except Exception:  # pylint: disable=broad-except
        # A module's traceback, as its process would print it.
        stderr, rc = traceback.format_exc(), 1
    finally:
        basic._ANSIBLE_ARGS = saved[0]
        if profile is not None:
            basic._ANSIBLE_PROFILE = saved[1]
    return dict(stdout=stdout.getvalue(), stderr=stderr, rc=rc)


class InProcessModuleAction(ActionBase):
    """The action of a module whose ``main`` is ``MODULE_MAIN``: run it in this process where it may."""

    MODULE_MAIN = None

    def runs_here(self, task_vars):
        # Without boto3 in the controller's Python, the module runs on the interpreter the host names.
        return (HAS_BOTO3
                and self._connection.transport == "local"
                and not self._connection.become
                and not self._task.async_val
                and boolean(task_vars.get("rotator_in_process", True), strict=False))

    def module_args(self, task_vars):
        """The task's arguments (with our own module_defaults) and the connection options of amazon.aws's groups.

        Less amazon.aws's own common options, which group/rotator.aws_iam.aws may give our modules too.
        """
        defaults = amazon_aws_group_defaults(self._task.module_defaults, self._templar)
        return with_group_defaults(without_amazon_aws_only_options(self._task.args), defaults, CONNECTION_OPTION_NAMES,
                                   omit=task_vars.get("omit"))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self.module_args(task_vars)
        if self.runs_here(task_vars):
            result.update(self.run_here(args, task_vars))
        else:
            result.update(self._execute_module(module_args=args, task_vars=task_vars))
        # The module masks its no_log options; a proxy password inside aws_config is not one (see aws_config_secrets).
        secrets = aws_config_secrets(args.get("aws_config"))
        return remove_values(result, secrets) if secrets else result

    def run_here(self, args, task_vars):
        """What the module returns, run in this process: its output parsed as ``_execute_module`` parses it."""
        self._update_module_args(self._task.action, args, task_vars)
        env = {}
        self._compute_environment_string(env)
        output = run_main(type(self).MODULE_MAIN, args, env)
        if TAKES_PROFILE:
            data = self._parse_returned_data(output, PROFILE)
        else:  # ansible-core 2.17 and 2.18
            data = self._parse_returned_data(output)
        if remove_internal_keys is None:  # ansible-core 2.21, as its _execute_module() does
            data.remove_internal_keys()
            return data.as_result_dict(for_round_trip=True)
        remove_internal_keys(data)
        return data

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Runs the module rotator.aws_iam.rotation_report_store in the controller's worker process (see plugin_utils/_in_process.py)."""

from __future__ import annotations

import json

from ansible_collections.rotator.aws_iam.plugins.modules.rotation_report_store import main
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._in_process import InProcessModuleAction


def as_text(name, content):
    """The text of a report file: a JSON file's data written as to_nice_json(indent=2) writes it.

    Before ansible-core 2.19, templating may turn the role's JSON text back into data on its way to the task.
    Done here, before the module reads its arguments, so the module masks the file's text (its O(files) are
    no_log), not each value of the data.
    """
    if name.endswith(".json") and isinstance(content, (dict, list)):
        return json.dumps(content, indent=2, sort_keys=True, separators=(",", ": ")) + "\n"
    return content


class ActionModule(InProcessModuleAction):
    MODULE_MAIN = main

    def module_args(self, task_vars):
        args = super().module_args(task_vars)
        if isinstance(args.get("files"), dict):
            args["files"] = {name: as_text(name, content) for name, content in args["files"].items()}
        return args

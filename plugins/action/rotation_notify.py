# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Runs the module rotator.aws_iam.rotation_notify in the controller's worker process (see plugin_utils/_in_process.py)."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.modules.rotation_notify import main
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._in_process import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    MODULE_MAIN = main

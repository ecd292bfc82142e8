# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One audit report from the reports of the slices of an AWX sliced job.

The work is in ``plugins/plugin_utils/_report/merge.py``; the document it
makes is rendered by the filters of ``rotation_report.py`` as any report is.
The documentation is in ``report_merge.yml`` beside this file.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.merge import ReportMergeError
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.merge import report_merge as merge_reports

__all__ = ["FilterModule", "report_merge"]


def report_merge(slices, expected_accounts=None, now=None, title=None):
    """The merged report; a refusal (an account in two slices) fails the task with its reason."""
    try:
        return merge_reports(slices, expected_accounts=expected_accounts, now=now, title=title)
    except ReportMergeError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule:
    """The report merge filter."""

    def filters(self):
        return {"report_merge": report_merge}

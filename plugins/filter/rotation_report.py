# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The audit report of a fleet of accounts: one document, rendered as rows, CSV, HTML and a text summary.

``report_data`` is the only filter that reads Ansible's results; the others
render the document it makes.  The work is in ``plugins/plugin_utils/_report``:
``model.py`` builds the document, its rows, CSV and summary; ``page.py``
renders the HTML page from the Jinja2 templates in ``templates/``.

The documentation of each filter is in the ``<name>.yml`` file beside this one.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.model import (
    KEY_COLUMNS,
    USER_COLUMNS,
    age_class,
    report_csv,
    report_data,
    report_rows,
    report_summary,
)
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.page import report_html

# The names playbooks reach through the filters, and tests and scripts import from here.
__all__ = ["KEY_COLUMNS", "USER_COLUMNS", "FilterModule", "age_class", "report_csv", "report_data", "report_html",
           "report_rows", "report_summary"]


class FilterModule:
    """The audit report filters."""

    def filters(self):
        return {
            "report_data": report_data,
            "report_rows": report_rows,
            "report_csv": report_csv,
            "report_html": report_html,
            "report_summary": report_summary,
        }

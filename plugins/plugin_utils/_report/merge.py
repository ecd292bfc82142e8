# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One audit report from the reports of the slices of a sliced job.

For the collection's own use (the ``report_merge`` filter): it may change in any release.

AWX's job slicing runs one job per slice of the inventory, and each job's
``report.yml`` writes the report of its own accounts.  ``report_merge``
adds them up into the document ``report_data`` makes of a whole fleet, so
the rows, CSV, page and summary render it unchanged.  It refuses slices that
hold the same account (by inventory host or by AWS account ID): that account
was handled twice, which slicing must never do, so the reports are not
merged but named.  Given the accounts of the inventory, it lists the ones no
slice reported.  A pure function of its arguments, ``now`` included.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._common.times import iso
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.model import _now, _parse_time, report_totals

# The fields of an account that the totals and every rendering read.
ACCOUNT_FIELDS = ("name", "account_id", "error", "policy", "users", "changes", "summary")


class ReportMergeError(ValueError):
    """The slices' reports cannot be one report: an account in two slices, or reports that do not match."""


def _labelled(slices):
    """(label, report) of each slice: ``{"name": ..., "report": {...}}``, or a bare report named by its position.

    A dict from slice name to report (what a playbook builds from the slices' directories) is taken in name order.
    """
    if isinstance(slices, dict):
        return [(str(name), report) for name, report in sorted(slices.items())]
    labelled = []
    for index, item in enumerate(slices or []):
        if isinstance(item, dict) and "report" in item:
            labelled.append((str(item.get("name") or "slice %d" % (index + 1)), item["report"]))
        else:
            labelled.append(("slice %d" % (index + 1), item))
    return labelled


def _check_shape(label, report):
    if not isinstance(report, dict) or not isinstance(report.get("accounts"), list):
        raise ReportMergeError("%s is not a rotation report: it has no list of accounts" % label)
    for account in report["accounts"]:
        missing = [name for name in ACCOUNT_FIELDS if not isinstance(account, dict) or name not in account]
        if missing:
            raise ReportMergeError("%s is not a rotation report: an account has no %s" % (label, ", ".join(missing)))


def _the_same(labelled, field):
    """The value of ``field`` every slice agrees on; slices made with different settings do not add up."""
    values = {label: report.get(field) for label, report in labelled}
    if len(set(values.values())) > 1:
        raise ReportMergeError("the slices' reports differ in %s (%s): they are not parts of one run" % (
            field, ", ".join("%s: %s" % item for item in sorted(values.items()))))
    return next(iter(values.values()))


def _holders(labelled, key):
    """Value of ``key`` -> the (slice, account) pairs that hold it, for the values more than one slice holds."""
    held = {}
    for label, report in labelled:
        for account in report["accounts"]:
            if account[key]:
                held.setdefault(account[key], []).append((label, account))
    return {value: pairs for value, pairs in held.items() if len(pairs) > 1}


def _twice(labelled):
    """One line per account that more than one slice holds: the same inventory host, or the same AWS account ID."""
    lines = []
    for name, pairs in sorted(_holders(labelled, "name").items()):
        ids = sorted({account["account_id"] for _label, account in pairs if account["account_id"]})
        lines.append("account %s%s is in %s" % (name, " (%s)" % ", ".join(ids) if ids else "",
                                                " and ".join(label for label, _account in pairs)))
    for account_id, pairs in sorted(_holders(labelled, "account_id").items()):
        hosts = sorted({account["name"] for _label, account in pairs})
        if len(hosts) > 1:
            lines.append("AWS account %s is in %s (as %s)" % (
                account_id, " and ".join(label for label, _account in pairs), " and ".join(hosts)))
    return lines


def _earliest(times):
    parsed = [_parse_time(value) for value in times if value]
    return iso(min(parsed), zulu=True) if parsed else None


def report_merge(slices, expected_accounts=None, now=None, title=None):
    """The report of all the slices' accounts, in inventory-name order (AWX's slicing order).

    ``slices``: the slices' reports (from ``report.json``), each bare or as ``{"name": ..., "report": ...}``, or a
    dict from slice name to report.
    ``expected_accounts``: the inventory's hosts; those no slice reported are listed in ``missing_accounts``.
    Raises ReportMergeError when an account is in two slices, or the reports come from different settings.
    """
    labelled = _labelled(slices)
    if not labelled:
        raise ReportMergeError("no slice report to merge")
    for label, report in labelled:
        _check_shape(label, report)
    twice = _twice(labelled)
    if twice:
        raise ReportMergeError("not merged: an account handled by two slices was rotated or read twice: %s"
                               % "; ".join(twice))
    warn_days, check_mode = _the_same(labelled, "warn_days"), _the_same(labelled, "check_mode")
    accounts = sorted((account for _label, report in labelled for account in report["accounts"]),
                      key=lambda account: str(account["name"]))
    reported = {str(account["name"]) for account in accounts}
    moment = _now(now or None)
    return {
        "title": str(title or labelled[0][1].get("title") or "IAM credential rotation report"),
        # The ages in the report were counted when the slices read their accounts: the earliest is the report's.
        "generated_at": _earliest(report.get("generated_at") for _label, report in labelled),
        "merged_at": iso(moment, zulu=True),
        "check_mode": bool(check_mode),
        "warn_days": warn_days,
        "rotation_ran": any(report.get("rotation_ran") for _label, report in labelled),
        "totals": report_totals(accounts),
        "accounts": accounts,
        "slices": [{"name": label, "generated_at": report.get("generated_at"),
                    "accounts": [account["name"] for account in report["accounts"]]} for label, report in labelled],
        "missing_accounts": None if expected_accounts is None else sorted(
            {str(name) for name in expected_accounts} - reported),
    }

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The account's credential report: one fetcher for passwords and access keys, and its password dates."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    AWS_ERRORS,
    botocore,
    error_code,
    error_message,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError

# GetCredentialReport's answers when there is no report to read.
REPORT_ABSENT = ("ReportNotPresent", "ReportExpired", "ReportInProgress")
NOT_A_DATE = ("", "N/A", "not_supported", "no_information")


class CredentialReport:
    """The credential report's CSV text and when AWS generated it."""

    def __init__(self, content, generated_time):
        self.content = content
        self.generated_time = generated_time

    def __repr__(self):
        return "CredentialReport(generated_time=%r)" % (self.generated_time,)


class CredentialReportCalls:
    """The credential report calls of :class:`IAMGateway` (on its IAM client ``self.iam``)."""

    def password_last_changed(self, generate=True):
        """``password_last_changed`` per user, from :meth:`credential_report` (None when none could be read)."""
        report = self.credential_report(generate=generate)
        return None if report is None else parse_password_last_changed(report.content)

    def credential_report(self, generate=True, timeout=30.0, sleep=time.sleep, clock=time.monotonic):
        """The account's credential report with its GeneratedTime: the one fetcher for passwords and access keys.

        ``GenerateCredentialReport`` answers STARTED, then INPROGRESS, then
        COMPLETE; AWS makes a new report at most every four hours and serves
        the previous one meanwhile, so the report may be hours old: callers
        weigh its ``generated_time``.  Waits with growing pauses up to
        ``timeout`` seconds, then raises RotationError, as it does when a call
        fails: never an empty or older answer in silence.

        With ``generate=False`` (check mode, which must not call mutating
        APIs) only ``GetCredentialReport`` is called; None when no report
        exists.
        """
        try:
            if generate:
                self._wait_for_credential_report(timeout, sleep, clock)
            try:
                answer = self.iam.get_credential_report()
            except botocore.exceptions.ClientError as exc:
                if not generate and error_code(exc) in REPORT_ABSENT:
                    return None
                raise
        except AWS_ERRORS as exc:
            raise RotationError("reading the credential report failed: %s" % error_message(exc)) from None
        content = answer["Content"]
        return CredentialReport(content.decode("utf-8") if isinstance(content, bytes) else content,
                                answer["GeneratedTime"])

    def _wait_for_credential_report(self, timeout, sleep, clock):
        deadline = clock() + timeout
        delay = 0.2
        while True:
            state = self.iam.generate_credential_report()["State"]
            if state == "COMPLETE":
                return
            if clock() + delay > deadline:
                raise RotationError("the credential report was not ready within %d seconds (state %s)"
                                    % (timeout, state))
            sleep(delay)
            delay = min(delay * 2, 2.0)


def report_date(value):
    """A date column of the report as a datetime; None for the report's words for no date, and for no date at all."""
    if value is None or value.strip() in NOT_A_DATE:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_password_last_changed(content):
    """``password_last_changed`` per user from the report's CSV; users without a date are left out."""
    changed = {}
    for row in csv.DictReader(io.StringIO(content)):
        value = report_date(row.get("password_last_changed"))
        if value is not None:
            changed[row["user"]] = value
    return changed

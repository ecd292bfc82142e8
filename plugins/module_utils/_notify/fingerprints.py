# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What each owner was last told, so that a digest is sent only when it holds news (``only_when_changed``).

One SSM String parameter per owner, ``<prefix>/<sha256 of the owner>``,
holds the ids of the items of the last digest sent to that owner (see
``digest.item_id``), and of what the owner was told before about accounts
that digest's run did not cover (an AWX job slice, ``--limit``).  A digest is news when one of its items is not among
them: a new rotation, a new failure, a user newly waiting, an exemption
entering its warning window.  An item that only goes away is no news.  The
owner is hashed because parameter names do not allow ``@``; nothing in the
parameter is secret.
"""

from __future__ import annotations

import hashlib

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import AWS_ERRORS, error_code, error_message

# Standard-tier parameters hold 4 KB: the ids beyond that are dropped, and told again next time.
MAX_VALUE_LENGTH = 4096


class FingerprintError(Exception):
    """The record of what an owner was told could not be read or written."""


class FingerprintStore:
    """``run_accounts``: the ``digest.account_key`` of every account of the run, whose items a digest speaks of."""

    def __init__(self, ssm_client, prefix, run_accounts=()):
        self.ssm = ssm_client
        self.prefix = "/" + prefix.strip("/")
        self.run_accounts = frozenset(run_accounts)

    def name(self, owner):
        return "%s/%s" % (self.prefix, hashlib.sha256(owner.encode("utf-8")).hexdigest()[:32])

    def told(self, owner):
        """The item ids last sent to ``owner`` (an empty set when nothing was recorded)."""
        try:
            value = self.ssm.get_parameter(Name=self.name(owner))["Parameter"]["Value"]
        except AWS_ERRORS as exc:
            if error_code(exc) == "ParameterNotFound":
                return set()
            raise FingerprintError("reading %s failed: %s" % (self.name(owner), error_message(exc))) from None
        return set(value.split(",")) if value else set()

    def record(self, owner, item_ids, told=frozenset()):
        """Keep the digest's ``item_ids``, and of ``told`` (what ``told()`` gave) what is about other accounts."""
        value = stored_value(to_record(item_ids, told, self.run_accounts))
        try:
            self.ssm.put_parameter(Name=self.name(owner), Value=value, Type="String", Overwrite=True,
                                   Description="rotator.aws_iam: items of the last digest sent to an owner")
        except AWS_ERRORS as exc:
            raise FingerprintError("writing %s failed: %s" % (self.name(owner), error_message(exc))) from None


def to_record(item_ids, told, run_accounts):
    """The ids to keep for an owner after a digest: its items, and what the owner was told about accounts that are
    not in this run (``run_accounts``: their ``digest.account_key``), which this digest could not speak of.

    Those come after the digest's own, so that a value too long for the parameter drops them first.
    """
    kept = sorted(told_id for told_id in told
                  if told_id.partition(":")[0] not in run_accounts and told_id not in item_ids)
    return sorted(item_ids) + kept


def stored_value(item_ids):
    """The ids as the parameter holds them, in their order: comma-separated, whole ids only, within
    MAX_VALUE_LENGTH (never empty, which SSM refuses)."""
    value = ""
    for item in item_ids:
        longer = "%s,%s" % (value, item) if value else item
        if len(longer) > MAX_VALUE_LENGTH:
            break
        value = longer
    return value or "-"


def is_news(item_ids, told):
    return bool(set(item_ids) - told)

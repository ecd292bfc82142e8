# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One digest per owner, built from the rotation modules' results of every account of a run (pure: no AWS here).

A digest lists, per owner, what needs the owner's attention: users whose
rotation failed (with the message), users rotated (and where to pick the new
secret up: the destination's kind and name, never the secret), users waiting
for the consumers of their old key, steps due within a few days, and
exemptions expired, malformed or ending soon.  Only fields named here are
copied out of a result, so a result that holds a secret (``return_secret``)
cannot pass it on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

DEFAULT_OWNER_TAG = "rotator:owner"
# The order sections are listed in a digest: what needs action first.
SECTIONS = ("failed", "waiting", "exemptions", "rotated", "due")
SECTION_TITLES = {
    "failed": "Rotation failed",
    "waiting": "Waiting for the old key's consumers",
    "exemptions": "Exemptions expired or ending soon",
    "rotated": "Rotated: pick the new secret up from its destination",
    "due": "Due soon",
}
CREDENTIALS = {"access_keys": "access key", "passwords": "console password"}
# The fields of a result's ``secret`` that say where a secret is, never what it is.
DESTINATION_FIELDS = ("type", "name", "region", "path", "format", "profile")
ROTATED_STATUSES = ("rotated", "created")
# Where a rotation result holds a secret (return_secret's new_access_key and new_password, consumer_access_key while
# consumers wait): never read into a digest, and kept out of the module's output (see ``secret_values``).
SECRET_KEYS = ("secret_access_key", "new_password", "password", "session_token")
# A stored fingerprint is one SSM String parameter of the standard tier (4 KB).
ITEM_ID_LENGTH = 16


@dataclass
class AccountResults:
    """What one account (inventory host) of the run left: its results and its owner."""

    host: str
    account_id: str = ""
    owner: str = ""
    results: dict = field(default_factory=dict)

    @classmethod
    def from_option(cls, entry, account_owner_tag):
        """From one entry of the module's ``accounts`` option; the account owner is the host's own, else its tag."""
        results = {kind: entry.get(kind) or {} for kind in CREDENTIALS}
        account_id = entry.get("account_id") or next(
            (result["account_id"] for result in results.values() if result.get("account_id")), "")
        owner = entry.get("owner") or (entry.get("tags") or {}).get(account_owner_tag) or ""
        return cls(host=entry["host"], account_id=account_id, owner=owner, results=results)


def secret_values(value):
    """Every secret a result (or a list or dict of them) holds under one of SECRET_KEYS, as text."""
    found = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in SECRET_KEYS and isinstance(inner, str) and inner:
                found.add(inner)
            else:
                found.update(secret_values(inner))
    elif isinstance(value, list):
        for inner in value:
            found.update(secret_values(inner))
    return found


def parse_moment(text):
    """An ISO 8601 moment from a result (None for None or text that is not one); without a zone it is UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def destination(secret):
    return {key: secret[key] for key in DESTINATION_FIELDS if isinstance(secret, dict) and secret.get(key) is not None}


def new_access_key_id(user):
    return next((action.get("access_key_id") for action in user.get("actions") or [] if action.get("action") == "create"),
                None)


def newest_key_created(user):
    dates = [key.get("create_date") for key in user.get("access_keys") or [] if key.get("create_date")]
    return max(dates, key=parse_moment) if dates else None


def due_moment(kind, user):
    """(step, moment) of a user's next step by its result, or (None, None)."""
    if kind == "access_keys":
        return user.get("next_action"), user.get("next_action_at")
    return ("rotate", user.get("next_rotation_at")) if user.get("next_rotation_at") else (None, None)


def user_items(kind, user, now, due_within_days):
    """The digest items (section, fields) one user's result gives."""
    base = {"credential": CREDENTIALS[kind], "user_name": user.get("user_name")}
    status = user.get("status")
    if status == "failed":
        return [("failed", dict(base, msg=user.get("msg") or "failed"))]
    if status in ROTATED_STATUSES:
        item = dict(base, destination=destination(user.get("secret")))
        if kind == "access_keys":
            item["access_key_id"] = new_access_key_id(user)
        else:
            item["rotated_at"] = user.get("rotated_at")
        return [("rotated", item)]
    if status == "waiting_for_consumers":
        item = dict(base, since=newest_key_created(user), msg=user.get("msg") or "")
        # iam_access_key_rotate names them in consumers_pending (beside consumer_access_key, the key they are to get,
        # which is never read here); only their names are copied.
        if user.get("consumers_pending"):
            item["consumers"] = [str(name) for name in user["consumers_pending"]]
        return [("waiting", item)]
    step, at = due_moment(kind, user)
    moment = parse_moment(at)
    if step and moment is not None and moment <= now + timedelta(days=due_within_days):
        return [("due", dict(base, step=step, due_at=at))]
    return []


def exemption_items(kind, exemptions, warning_days):
    """Items for exemptions that no longer exempt (expired, malformed) or end within ``warning_days``."""
    items = []
    for exemption in exemptions or []:
        days_left = exemption.get("days_left")
        ending = isinstance(days_left, int) and days_left <= warning_days
        if exemption.get("state") == "active" and not ending:
            continue
        items.append(("exemptions", {
            "credential": CREDENTIALS[kind], "user_name": exemption.get("user"), "state": exemption.get("state"),
            "until": exemption.get("until"), "days_left": days_left, "reason": exemption.get("reason")}))
    return items


def account_failure_items(kind, result):
    """A result that failed without any user's result (the role could not be assumed, the users not listed): one
    failed item for the whole account (``user_name`` None), which its owner is told."""
    if not result.get("failed") or result.get("users"):
        return []
    return [("failed", {"credential": CREDENTIALS[kind], "user_name": None, "msg": result.get("msg") or "failed"})]


def account_items(account, now, due_within_days, exemption_warning_days):
    """Every (user name, section, item) of one account, items carrying the account."""
    found = []
    for kind, result in account.results.items():
        found.extend(account_failure_items(kind, result))
        for user in result.get("users") or []:
            for section, item in user_items(kind, user, now, due_within_days):
                found.append((section, item))
        exemptions = (result.get("selection") or {}).get("exemptions")
        found.extend(exemption_items(kind, exemptions, exemption_warning_days))
    return [(item["user_name"], section, dict(item, account_id=account.account_id, account=account.host))
            for section, item in found]


def users_with_items(account, now, due_within_days, exemption_warning_days):
    """The users of an account whose owner must be known (those with something to tell)."""
    items = account_items(account, now, due_within_days, exemption_warning_days)
    return sorted({name for name, _section, _item in items if name is not None})


def owner_of(user_name, account, user_owners, default_owner):
    """The user's owner tag, else the account's owner, else the default ("" when nobody)."""
    return user_owners.get((account.host, user_name)) or account.owner or default_owner or ""


def account_key(account_id, host):
    """The account an item id starts with: its id, else (unknown) a hash of its host, which may hold any character."""
    return account_id or "host-" + hashlib.sha256(host.encode("utf-8")).hexdigest()[:ITEM_ID_LENGTH]


def item_id(section, item):
    """What makes an item news: the same failure, wait or exemption told again is not; a new rotation is.

    ``<account>:<hash>``: a run over some accounts only (an AWX job slice, ``--limit``) keeps what the owner was
    told about the other accounts (see ``fingerprints.to_record``).
    """
    identity = [section, item["account_id"], item["credential"], item["user_name"]]
    identity.extend(item.get(name) for name in ("access_key_id", "rotated_at", "since", "step", "due_at", "state",
                                                "until"))
    text = json.dumps(identity, sort_keys=True, default=str)
    return "%s:%s" % (account_key(item["account_id"], item["account"]),
                      hashlib.sha256(text.encode("utf-8")).hexdigest()[:ITEM_ID_LENGTH])


def build_digests(accounts, user_owners, default_owner, now, due_within_days, exemption_warning_days):
    """(digests sorted by owner, unowned items).

    A digest: ``{owner, sections: {section: [item...]}, count, item_ids}``;
    ``user_owners`` maps (host, user name) to the owner tag read from IAM.
    """
    by_owner, unowned = {}, []
    for account in accounts:
        for user_name, section, item in account_items(account, now, due_within_days, exemption_warning_days):
            owner = owner_of(user_name, account, user_owners, default_owner)
            if not owner:
                unowned.append(dict(item, section=section))
                continue
            digest = by_owner.setdefault(owner, {"owner": owner, "sections": {name: [] for name in SECTIONS}})
            digest["sections"][section].append(item)
    digests = []
    for owner in sorted(by_owner):
        digest = by_owner[owner]
        for items in digest["sections"].values():
            items.sort(key=lambda item: (item["account_id"], item["account"], item["user_name"] or "",
                                         item["credential"]))
        digest["count"] = sum(len(items) for items in digest["sections"].values())
        digest["item_ids"] = sorted({item_id(section, item) for section, items in digest["sections"].items()
                                     for item in items})
        digests.append(digest)
    return digests, unowned


def subject(digest):
    counts = ", ".join("%d %s" % (len(digest["sections"][name]), name) for name in SECTIONS if digest["sections"][name])
    return "IAM credential rotation: %s" % counts


def _item_line(section, item):
    where = "%s in %s (%s)" % (item["user_name"] or "every user", item["account_id"] or item["account"],
                               item["credential"])
    if section == "failed":
        return "%s: %s" % (where, item["msg"])
    if section == "rotated":
        target = item["destination"]
        place = " ".join(str(target[key]) for key in ("type", "name", "path", "profile", "region") if key in target)
        key = " new key %s," % item["access_key_id"] if item.get("access_key_id") else ""
        return "%s:%s new secret in %s" % (where, key, place or "(returned to the play only)")
    if section == "waiting":
        consumers = ""
        if item.get("consumers") is not None:
            consumers = "; consumers: %s" % json.dumps(item["consumers"], sort_keys=True, default=str)
        return "%s: new key since %s; %s%s" % (where, item["since"], item["msg"], consumers)
    if section == "exemptions":
        left = "" if item["days_left"] is None else ", %s days left" % item["days_left"]
        return "%s: exemption %s until %s%s (reason %s)" % (where, item["state"], item["until"], left, item["reason"])
    return "%s: %s due %s" % (where, item["step"], item["due_at"])


def digest_text(digest):
    """The digest as plain text, one line per item under its section's title."""
    lines = ["Credential rotation digest for %s" % digest["owner"], ""]
    for name in SECTIONS:
        items = digest["sections"][name]
        if items:
            lines.append("%s (%d):" % (SECTION_TITLES[name], len(items)))
            lines.extend("  - %s" % _item_line(name, item) for item in items)
            lines.append("")
    return "\n".join(lines)

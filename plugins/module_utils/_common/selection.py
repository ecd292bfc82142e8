# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Choosing the users of an account to rotate.

``select_users`` is pure (the IAM facts are passed in); ``select_in_account``
reads those facts through an IAMGateway, once per account, for
``iam_rotation_info`` and for the rotation modules alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_users import BULK_PAGE_SIZE
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.exemption import read_exemption

DEFAULT_EXEMPT_TAG = "rotator:exempt"


@dataclass(frozen=True)
class UserFilter:
    names: tuple = ()
    path_prefix: str = "/"
    tags: dict = field(default_factory=dict)
    groups: tuple = ()
    exclude: tuple = ()
    exempt_tag: str | None = DEFAULT_EXEMPT_TAG

    @property
    def needs_tags(self):
        return bool(self.tags) or bool(self.exempt_tag)

    @classmethod
    def from_params(cls, names, params):
        """The filter the selection options of a module ask for: ``exempt_tag`` unset (None) exempts
        DEFAULT_EXEMPT_TAG, an empty one exempts nobody; ``path_prefix`` unset means every path."""
        exempt_tag = DEFAULT_EXEMPT_TAG if params["exempt_tag"] is None else params["exempt_tag"] or None
        return cls(names=tuple(names), path_prefix=params["path_prefix"] or "/", tags=params["tags"],
                   groups=tuple(params["groups"]), exclude=tuple(params["exclude_users"]), exempt_tag=exempt_tag)


class TagsUnavailable(Exception):
    """A user's tags could not be read; the message says why (never a secret)."""


@dataclass
class Selection:
    selected: list = field(default_factory=list)
    # The users an active exemption keeps out.
    exempted: list = field(default_factory=list)
    # Every chosen user's exemption tag (an Exemption): active, expired or malformed, in the order of the users.
    exemptions: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    # {user name: why its tags could not be read}: neither selected nor exempted, to be reported.
    unreadable: dict = field(default_factory=dict)


def select_users(users, user_filter: UserFilter, tags_of=None, group_members=None, now=None) -> Selection:
    """The users (IAM ``User`` dicts, already under the path prefix) that the filter picks, in order.

    ``tags_of(name)`` gives a user's tags and is only called when a tag
    filter or the exemption tag needs it; ``group_members`` is the set of
    members of the filter's groups (None when no group is asked for).
    Named users that do not exist under the prefix are reported as missing.

    The exemption tag keeps a user out only while its end date (a UTC day,
    included) is not past on the day of ``now`` (default: the current time);
    an expired or malformed one leaves the user selected.  Every one is in
    ``exemptions`` (see ``exemption.py``).

    Fails closed: a user whose tags are needed but cannot be read
    (``tags_of`` raises TagsUnavailable) is neither selected, as if it were
    not exempt, nor left out, as if it were: it is reported as unreadable.
    """
    by_name = {user["UserName"]: user for user in users}
    now = now or datetime.now(timezone.utc)
    selection = Selection()
    if user_filter.names:
        selection.missing = [name for name in user_filter.names if name not in by_name]
        candidates = [by_name[name] for name in user_filter.names if name in by_name]
    else:
        candidates = sorted(users, key=lambda user: user["UserName"])
    for user in candidates:
        name = user["UserName"]
        if name in user_filter.exclude:
            continue
        if group_members is not None and name not in group_members:
            continue
        try:
            tags = tags_of(name) if user_filter.needs_tags and tags_of else {}
        except TagsUnavailable as exc:
            selection.unreadable[name] = str(exc)
            continue
        if any(tags.get(key) != value for key, value in user_filter.tags.items()):
            continue
        if user_filter.exempt_tag and user_filter.exempt_tag in tags:
            exemption = read_exemption(name, tags[user_filter.exempt_tag], now)
            selection.exemptions.append(exemption)
            if exemption.exempts:
                selection.exempted.append(name)
                continue
        selection.selected.append(name)
    return selection


class UserTags:
    """Users' tags, each read once: in bulk when that takes fewer calls, else (and always for a user the bulk
    answer lacks: created since, not yet consistent, on a page it did not hold) with ListUserTags."""

    def __init__(self, gateway):
        self.gateway = gateway
        self.cache = {}

    def read_in_bulk(self, candidates, users_in_path):
        # One page of GetAccountAuthorizationDetails holds the tags of up to 1,000 users.
        pages = -(-max(users_in_path, 1) // BULK_PAGE_SIZE)
        if len(candidates) > pages:
            every = self.gateway.tags_of_every_user()
            # Only what the answer holds: a user it lacks is looked up on its own, never taken as untagged.
            self.cache.update((name, every[name]) for name in candidates if name in every)

    def __call__(self, user):
        if user not in self.cache:
            self.cache[user] = self.gateway.user_tags(user)
        return self.cache[user]

    def for_selection(self, user):
        """The user's tags, or TagsUnavailable: the selection reports such a user instead of guessing."""
        try:
            return self(user)
        except RotationError as exc:
            raise TagsUnavailable(str(exc)) from None


def missing_user_messages(gateway, missing, path_prefix):
    """{name: why it is not selected} for named users that ListUsers did not show under the path prefix."""
    if not missing:
        return {}
    elsewhere = set()
    if path_prefix != "/":
        elsewhere = {user["UserName"] for user in gateway.users("/")}
    return {name: ("user %s is not under path %s" % (name, path_prefix) if name in elsewhere
                   else "user %s does not exist" % name) for name in missing}


def unresolved_users(gateway, selection, path_prefix):
    """[{user_name, msg}] for the users the selection could neither pick nor leave out: missing, then unreadable."""
    messages = missing_user_messages(gateway, selection.missing, path_prefix)
    messages.update(selection.unreadable)
    return [{"user_name": name, "msg": msg} for name, msg in messages.items()]


@dataclass
class AccountSelection:
    """What ``select_in_account`` found: the IAM users under the prefix, the selection, and its failures."""

    users: list
    selection: Selection
    unresolved: list
    tags_of: UserTags


def select_in_account(gateway, user_filter: UserFilter, read_tags=False, now=None) -> AccountSelection:
    """Apply the filter to the account's users; raises RotationError when the account cannot be read.

    ``read_tags`` reads every candidate's tags (in bulk when that is
    cheaper) even when the filter does not need them, for callers that will.
    ``now`` is the moment exemptions are judged at (default: the current time).
    """
    users = gateway.users(user_filter.path_prefix)
    members = None
    if user_filter.groups:
        members = set()
        for group in user_filter.groups:
            members.update(gateway.group_members(group))
    tags_of = UserTags(gateway)
    if user_filter.needs_tags or read_tags:
        tags_of.read_in_bulk(user_filter.names or [user["UserName"] for user in users], len(users))
    selection = select_users(users, user_filter, tags_of.for_selection, members, now)
    return AccountSelection(users, selection, unresolved_users(gateway, selection, user_filter.path_prefix), tags_of)

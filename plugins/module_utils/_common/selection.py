# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Choosing the users of an account to rotate. Pure: the IAM facts are passed in."""

from __future__ import annotations

from dataclasses import dataclass, field

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


class TagsUnavailable(Exception):
    """A user's tags could not be read; the message says why (never a secret)."""


@dataclass
class Selection:
    selected: list = field(default_factory=list)
    exempted: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    # {user name: why its tags could not be read}: neither selected nor exempted, to be reported.
    unreadable: dict = field(default_factory=dict)


def select_users(users, user_filter: UserFilter, tags_of=None, group_members=None) -> Selection:
    """The users (IAM ``User`` dicts, already under the path prefix) that the filter picks, in order.

    ``tags_of(name)`` gives a user's tags and is only called when a tag
    filter or the exemption tag needs it; ``group_members`` is the set of
    members of the filter's groups (None when no group is asked for).
    Named users that do not exist under the prefix are reported as missing.

    Fails closed: a user whose tags are needed but cannot be read
    (``tags_of`` raises TagsUnavailable) is neither selected, as if it were
    not exempt, nor left out, as if it were: it is reported as unreadable.
    """
    by_name = {user["UserName"]: user for user in users}
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
            selection.exempted.append(name)
            continue
        selection.selected.append(name)
    return selection

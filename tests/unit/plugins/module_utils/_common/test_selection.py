"""Selecting users: names, tags, groups, exclusions and the exemption tag."""

from __future__ import annotations

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._common.selection import TagsUnavailable, UserFilter, select_users

USERS = [{"UserName": name, "Path": "/", "Arn": "arn:aws:iam::123456789012:user/" + name}
         for name in ("carol", "alice", "bob", "dave")]
TAGS = {
    "alice": {"team": "ops", "rotation": "on"},
    "bob": {"team": "ops"},
    "carol": {"team": "dev", "rotator:exempt": "until=2099-12-31 reason=break-glass"},
    "dave": {},
}


def pick(user_filter, members=None):
    calls = []

    def tags_of(name):
        calls.append(name)
        return TAGS[name]
    return select_users(USERS, user_filter, tags_of, members), calls


@pytest.mark.parametrize("user_filter, members, selected, exempted", [
    (UserFilter(), None, ["alice", "bob", "dave"], ["carol"]),
    (UserFilter(exempt_tag=None), None, ["alice", "bob", "carol", "dave"], []),
    (UserFilter(tags={"team": "ops"}), None, ["alice", "bob"], []),
    (UserFilter(tags={"team": "ops", "rotation": "on"}), None, ["alice"], []),
    (UserFilter(exclude=("bob",)), None, ["alice", "dave"], ["carol"]),
    (UserFilter(groups=("admins",)), {"bob", "carol"}, ["bob"], ["carol"]),
    (UserFilter(names=("dave", "alice")), None, ["dave", "alice"], []),
    (UserFilter(names=("carol",)), None, [], ["carol"]),
], ids=["all but exempt", "exemption off", "one tag", "two tags", "excluded", "group", "names keep order",
        "named but exempt"])
def test_selection(user_filter, members, selected, exempted):
    selection, _calls = pick(user_filter, members)
    assert selection.selected == selected
    assert selection.exempted == exempted
    assert selection.missing == []


def test_missing_names_are_reported():
    selection, _calls = pick(UserFilter(names=("alice", "zoe")))
    assert selection.selected == ["alice"] and selection.missing == ["zoe"]


def test_tags_are_not_read_when_nothing_needs_them():
    selection, calls = pick(UserFilter(exempt_tag=None))
    assert calls == [] and len(selection.selected) == 4


def test_excluded_users_cost_no_tag_call():
    _selection, calls = pick(UserFilter(exclude=("alice", "bob", "carol")))
    assert calls == ["dave"]


@pytest.mark.parametrize("user_filter, selected, exempted", [
    (UserFilter(), ["alice", "dave"], []),
    (UserFilter(tags={"team": "ops"}), ["alice"], []),
    (UserFilter(names=("bob", "carol", "alice")), ["alice"], []),
], ids=["exemption tag", "tag filter", "named"])
def test_a_user_whose_tags_cannot_be_read_is_neither_selected_nor_exempted(user_filter, selected, exempted):
    def tags_of(name):
        if name in ("bob", "carol"):
            raise TagsUnavailable("reading tags of %s failed: AccessDenied: no" % name)
        return TAGS[name]

    selection = select_users(USERS, user_filter, tags_of)
    assert selection.selected == selected
    assert selection.exempted == exempted
    assert selection.unreadable == {"bob": "reading tags of bob failed: AccessDenied: no",
                                    "carol": "reading tags of carol failed: AccessDenied: no"}


def test_unreadable_tags_do_not_matter_when_no_tag_is_needed():
    def tags_of(name):
        raise TagsUnavailable("no")

    selection = select_users(USERS, UserFilter(exempt_tag=None), tags_of)
    assert selection.selected == ["alice", "bob", "carol", "dave"] and selection.unreadable == {}

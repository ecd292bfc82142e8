"""The exemption tag read in bulk fails closed (issue 11, case 17).

``iam_rotation_info`` reads every user's tags with GetAccountAuthorizationDetails
when that saves calls.  A user the bulk answer lacks (created since, eventual
consistency, a page it did not hold) is looked up on its own; a user whose
tags cannot be read is neither selected as "not exempt" nor left out as
exempt: it is reported.  The bulk answer is cut on the real client, after
botocore parsed it.
"""

from __future__ import annotations

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.modules import iam_rotation_info

EXEMPT = {"rotator:exempt": "until=2099-12-31 reason=break-glass"}


@pytest.fixture
def selection(run_module):
    """Run iam_rotation_info with arguments."""
    return lambda args: run_module(iam_rotation_info, args)


@pytest.fixture
def bulk_answer_without(monkeypatch):
    """Make the module's IAM client drop the named users from every GetAccountAuthorizationDetails page."""
    dropped = set()

    def drop(parsed, **_):
        parsed["UserDetailList"] = [user for user in parsed.get("UserDetailList", [])
                                    if user["UserName"] not in dropped]

    def gateway(client, *args, **kwargs):
        client.meta.events.register("after-call.iam.GetAccountAuthorizationDetails", drop)
        return IAMGateway(client, *args, **kwargs)

    monkeypatch.setattr(iam_rotation_info, "IAMGateway", gateway)
    return dropped


def seed(aws):
    for name in ("alice", "bob", "dave"):
        aws.user(name)
    aws.user("carol", tags=EXEMPT)


def test_all_users_in_the_bulk_answer_cost_no_lookup(aws, connection_args, selection, bulk_answer_without):
    seed(aws)
    failed, result = selection(dict(connection_args, include=[]))
    assert failed is False
    assert (result["user_names"], result["exempted_users"]) == (["alice", "bob", "dave"], ["carol"])
    assert len(aws.calls("GetAccountAuthorizationDetails")) == 1
    assert aws.calls("ListUserTags") == []


def test_an_exempt_user_the_bulk_answer_lacks_is_looked_up_and_stays_exempt(aws, connection_args, selection,
                                                                            bulk_answer_without):
    seed(aws)
    bulk_answer_without.add("carol")
    failed, result = selection(dict(connection_args, include=[]))
    assert failed is False
    assert (result["user_names"], result["exempted_users"]) == (["alice", "bob", "dave"], ["carol"])
    assert [call["user"] for call in aws.calls("ListUserTags")] == ["carol"]
    assert result["unresolved_users"] == []


def test_a_named_user_the_bulk_answer_lacks_is_looked_up(aws, connection_args, selection, bulk_answer_without):
    seed(aws)
    bulk_answer_without.add("carol")
    failed, result = selection(dict(connection_args, users=["carol", "alice", "bob"], include=[]))
    assert failed is False
    assert (result["user_names"], result["exempted_users"]) == (["alice", "bob"], ["carol"])
    assert [call["user"] for call in aws.calls("ListUserTags")] == ["carol"]


def test_a_user_whose_tags_cannot_be_read_is_reported_not_selected_nor_exempted(aws, connection_args, selection,
                                                                                bulk_answer_without):
    seed(aws)
    bulk_answer_without.add("carol")
    aws.faults(error_rate=1.0, actions=["ListUserTags"])
    failed, result = selection(dict(connection_args, include=[], fail_on_unresolved_users=False))
    assert failed is False
    assert (result["user_names"], result["exempted_users"]) == (["alice", "bob", "dave"], [])
    assert [entry["user_name"] for entry in result["unresolved_users"]] == ["carol"]
    assert result["unresolved_users"][0]["msg"].startswith("reading tags of carol failed: InternalFailure")


def test_by_default_an_unreadable_user_fails_the_selection_after_the_others(
        aws, connection_args, selection, bulk_answer_without):
    seed(aws)
    bulk_answer_without.add("carol")
    aws.faults(error_rate=1.0, actions=["ListUserTags"])
    failed, result = selection(dict(connection_args, include=[]))
    assert failed is True
    assert result["msg"].startswith("user selection failed for carol: reading tags of carol failed: InternalFailure")
    assert (result["user_names"], result["exempted_users"]) == (["alice", "bob", "dave"], [])


def test_a_user_deleted_after_the_listing_is_reported_as_gone(aws, connection_args, selection, monkeypatch):
    seed(aws)
    iam = aws.client("iam")
    deleted = []

    def delete_carol(**_):
        if not deleted:
            iam.untag_user(UserName="carol", TagKeys=list(EXEMPT))
            iam.delete_user(UserName="carol")
            deleted.append("carol")

    def gateway(client, *args, **kwargs):
        client.meta.events.register("after-call.iam.ListUsers", delete_carol)
        return IAMGateway(client, *args, **kwargs)

    monkeypatch.setattr(iam_rotation_info, "IAMGateway", gateway)
    failed, result = selection(dict(connection_args, include=[], fail_on_unresolved_users=False))
    assert failed is False
    assert (result["user_names"], result["exempted_users"]) == (["alice", "bob", "dave"], [])
    assert result["unresolved_users"] == [{"user_name": "carol", "msg": "user carol does not exist"}]
    assert [call["user"] for call in aws.calls("ListUserTags")] == ["carol"]

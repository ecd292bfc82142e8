# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The IAM calls that find users and read their tags: selection, and the tag that holds the rotation state."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    StateFormatError,
    decode_state,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    AWS_ERRORS,
    error_code,
    error_message,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError, paginate

# IAM quotas: "Tags per IAM user: 50" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
MAX_USER_TAGS = 50
# Users per page of ListUsers and GetAccountAuthorizationDetails (the largest page either gives).
BULK_PAGE_SIZE = 1000


def room_for_tag(tags, key):
    """Whether a user with ``tags`` can be given tag ``key``: it has it already, or holds fewer than IAM allows."""
    return key in tags or len(tags) < MAX_USER_TAGS


class UserCalls:
    """The user and tag calls of :class:`IAMGateway` (on its IAM client ``self.iam``)."""

    def users(self, path_prefix="/"):
        """Every user under a path prefix."""
        return paginate(self.iam, "list_users", "Users", "listing users under %s" % path_prefix, PathPrefix=path_prefix,
                        PaginationConfig={"PageSize": BULK_PAGE_SIZE})

    def group_members(self, group_name):
        try:
            members = self.iam.get_paginator("get_group").paginate(GroupName=group_name).build_full_result()
        except AWS_ERRORS as exc:
            if error_code(exc) == "NoSuchEntity":
                raise RotationError("group %s does not exist" % group_name) from None
            raise RotationError("reading group %s failed: %s" % (group_name, error_message(exc))) from None
        return [user["UserName"] for user in members.get("Users", [])]

    def user_tags(self, user_name):
        tags = paginate(self.iam, "list_user_tags", "Tags", "reading tags of %s" % user_name, UserName=user_name)
        return {tag["Key"]: tag["Value"] for tag in tags}

    def tags_of_every_user(self):
        """{user name: {tag key: value}} for every user of the account, from GetAccountAuthorizationDetails.

        A few calls for the whole account instead of one ListUserTags per user.
        """
        details = paginate(self.iam, "get_account_authorization_details", "UserDetailList",
                           "reading the users' tags (GetAccountAuthorizationDetails)", Filter=["User"],
                           PaginationConfig={"PageSize": BULK_PAGE_SIZE})
        return {user["UserName"]: {tag["Key"]: tag["Value"] for tag in user.get("Tags", [])} for user in details}

    def rotation_state_with_room(self, user_name):
        """(the recorded rotation state, whether IAM leaves room to record one).

        IAM allows 50 tags per user ("IAM and AWS STS quotas", IAM User Guide):
        a user with 50 tags and no state tag yet cannot have its state recorded.
        """
        tags = self.user_tags(user_name)
        try:
            state = decode_state(tags.get(ACCESS_KEY_STATE_TAG))
        except StateFormatError as exc:
            raise RotationError("tag %s of user %s: %s" % (ACCESS_KEY_STATE_TAG, user_name, exc)) from None
        return state, room_for_tag(tags, ACCESS_KEY_STATE_TAG)

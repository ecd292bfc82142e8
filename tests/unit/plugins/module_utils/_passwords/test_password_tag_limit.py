"""Case 11 for console passwords: a user at IAM's quota of 50 tags, none of them the rotation record.

The rotation time could not be recorded, so a rotation would be repeated by
every run: the run must fail before changing anything, naming the tag limit.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import PasswordSecret

from test_password_lost_answer import FIRST_PASSWORD, iam_holds, make_rotator, stored

FULL_TAGS = {"team-%02d" % index: "x" for index in range(50)}


def test_a_user_with_fifty_tags_fails_before_anything_changes(aws):
    aws.user("dora", tags=FULL_TAGS)
    aws.client("iam").create_login_profile(UserName="dora", Password=FIRST_PASSWORD)
    rotator = make_rotator(aws, "ssm", force=True)
    destination = rotator.destinations.for_user("dora")
    destination.write(PasswordSecret("dora", FIRST_PASSWORD, aws.account))
    aws.control("POST", "calls/reset")

    outcome = rotator.rotate_user("dora")

    assert (outcome.status, outcome.changed, outcome.actions) == ("failed", False, [])
    assert outcome.msg == ("user dora has 50 tags, IAM's limit of 50 tags per user, so the rotation time cannot be "
                           "recorded as tag rotator:password-rotation; nothing was changed. Remove a tag from the user")
    assert aws.calls("UpdateLoginProfile") == []
    assert aws.calls("PutParameter") == []
    assert iam_holds(aws, "dora", FIRST_PASSWORD) is True
    assert (stored(destination), stored(destination, pending=True)) == (FIRST_PASSWORD, None)


def test_fifty_tags_including_the_record_are_fine(aws):
    tags = dict(list(FULL_TAGS.items())[:49], **{"rotator:password-rotation": "v1 rotated=20200101T000000Z"})
    aws.user("emil", tags=tags)
    aws.client("iam").create_login_profile(UserName="emil", Password=FIRST_PASSWORD)
    rotator = make_rotator(aws, "ssm")

    outcome = rotator.rotate_user("emil")

    assert (outcome.status, outcome.changed) == ("rotated", True), outcome.msg
    assert iam_holds(aws, "emil", stored(rotator.destinations.for_user("emil"))) is True

"""Exemptions that expire, through the modules' own ``main()`` against the stub (issue 14, part 3).

An active exemption keeps its user out (no key is created for it); an
expired or malformed one no longer does: the user is rotated as usual and the
exemption is reported, with its state, end date, days left and reason, in
``selection.exemptions`` (``exemptions`` for ``iam_rotation_info``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_password_rotate, iam_rotation_info

ROTATE_NOW = dict(secret={"type": "none"}, rotate_after_days=0, verify=False)
TAG = "rotator:exempt"


def day(offset):
    return (datetime.now(timezone.utc).date() + timedelta(days=offset)).isoformat()


def key_ids(aws, user):
    return sorted(key["AccessKeyId"] for key in aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"])


def exemption_warnings(result):
    """The module's warnings about exemptions, as text (ansible-core 2.19 on returns each as a summary of its event)."""
    texts = [item if isinstance(item, str) else item["event"]["msg"] for item in result.get("warnings", [])]
    return [text for text in texts if "exemption" in text]


def seed(aws, keys=1):
    """alice (no tag), bob (exempt for 30 more days), carol (expired yesterday), dave (``true``), erin (last day).

    The call log starts after the seeding.
    """
    made = {"alice": aws.user("alice", keys=keys)}
    for name, value in (("bob", "until=%s reason=SEC-123" % day(30)), ("carol", "until=%s reason=SEC-99" % day(-1)),
                        ("dave", "true"), ("erin", "until=%s" % day(0))):
        made[name] = aws.user(name, keys=keys, tags={TAG: value})
    aws.control("POST", "calls/reset")
    return made


def expected_exemptions():
    return [
        {"user": "bob", "state": "active", "until": day(30), "days_left": 30, "reason": "SEC-123",
         "msg": "exempt until %s (30 days left): SEC-123" % day(30)},
        {"user": "carol", "state": "expired", "until": day(-1), "days_left": -1, "reason": "SEC-99",
         "msg": "the exemption ended on %s (1 day ago); the user is rotated" % day(-1)},
        {"user": "dave", "state": "malformed", "until": None, "days_left": None, "reason": None,
         "msg": "the exemption tag's value 'true' is malformed: 'true' is not a field (name=value); "
                "the format is until=YYYY-MM-DD reason=<text>; the user is rotated"},
        {"user": "erin", "state": "active", "until": day(0), "days_left": 0, "reason": None,
         "msg": "exempt until %s (0 days left)" % day(0)},
    ]


EXPECTED_WARNINGS = ["user carol: the exemption ended on %s (1 day ago); the user is rotated",
                     "user dave: the exemption tag's value 'true' is malformed: 'true' is not a field (name=value); "
                     "the format is until=YYYY-MM-DD reason=<text>; the user is rotated"]


def test_access_keys_an_active_exemption_skips_and_an_expired_or_malformed_one_rotates(
        aws, connection_args, run_module):
    made = seed(aws)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, path_prefix="/", **ROTATE_NOW))
    assert failed is False
    assert result["selection"] == dict(selected=["alice", "carol", "dave"], exempted_users=["bob", "erin"],
                                       unresolved_users=[], without_console=[], exemptions=expected_exemptions())
    assert [(user["user_name"], user["status"]) for user in result["users"]] == [
        ("alice", "rotated"), ("carol", "rotated"), ("dave", "rotated")]
    assert sorted(call["user"] for call in aws.calls("CreateAccessKey")) == ["alice", "carol", "dave"]
    assert key_ids(aws, "bob") == [made["bob"][0][0]]
    assert key_ids(aws, "erin") == [made["erin"][0][0]]
    assert exemption_warnings(result) == [EXPECTED_WARNINGS[0] % day(-1), EXPECTED_WARNINGS[1]]


def test_passwords_an_expired_exemption_rotates_the_password(aws, connection_args, run_module):
    seed(aws, keys=0)
    for name in ("alice", "bob", "carol", "dave", "erin"):
        aws.client("iam").create_login_profile(UserName=name, Password="Initial-Passw0rd!")
    failed, result = run_module(iam_password_rotate, dict(connection_args, path_prefix="/", secret={"type": "none"},
                                                          rotate_after_days=0))
    assert failed is False
    assert result["selection"]["exemptions"] == expected_exemptions()
    assert result["selection"]["exempted_users"] == ["bob", "erin"]
    assert sorted(call["user"] for call in aws.calls("UpdateLoginProfile")) == ["alice", "carol", "dave"]


def test_iam_rotation_info_lists_every_exemption_and_selects_the_lapsed_ones(aws, connection_args, run_module):
    seed(aws)
    failed, result = run_module(iam_rotation_info, dict(connection_args, include=[]))
    assert failed is False
    assert result["user_names"] == ["alice", "carol", "dave"]
    assert result["exempted_users"] == ["bob", "erin"]
    assert result["exemptions"] == expected_exemptions()
    assert exemption_warnings(result) == [EXPECTED_WARNINGS[0] % day(-1), EXPECTED_WARNINGS[1]]


def test_named_users_without_selection_options_read_no_exemption(aws, connection_args, run_module):
    seed(aws)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, users=["bob"], **ROTATE_NOW))
    assert failed is False
    assert result["selection"] == dict(selected=["bob"], exempted_users=[], unresolved_users=[], without_console=[])
    assert [call["user"] for call in aws.calls("CreateAccessKey")] == ["bob"]


def test_an_exempt_tag_that_is_no_tag_key_fails_before_any_call(aws, connection_args, run_module):
    aws.user("alice", keys=1)
    aws.control("POST", "calls/reset")
    for module in (iam_access_key_rotate, iam_rotation_info):
        args = dict(connection_args, path_prefix="/", exempt_tag="rotator;exempt")
        if module is iam_access_key_rotate:
            args.update(ROTATE_NOW)
        failed, result = run_module(module, args)
        assert failed is True
        assert result["msg"] == ("exempt_tag 'rotator;exempt' is not an IAM tag key (1 to 128 letters, digits, "
                                 "spaces and _.:/=+-@): ';' is not allowed")
        assert result["changed"] is False
    assert aws.calls() == []


def test_aws_refuses_a_semicolon_in_a_tag_value_and_so_does_the_stub(aws):
    iam = aws.client("iam")
    iam.create_user(UserName="bob")
    try:
        iam.tag_user(UserName="bob", Tags=[{"Key": TAG, "Value": "until=2027-03-31;reason=SEC-123"}])
    except iam.exceptions.ClientError as exc:
        error = exc.response["Error"]
    else:
        error = None
    assert error == {"Type": "Sender", "Code": "ValidationError", "Message": (
        "1 validation error detected: Value 'until=2027-03-31;reason=SEC-123' at 'tags.1.member.value' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*")}
    assert iam.list_user_tags(UserName="bob")["Tags"] == []

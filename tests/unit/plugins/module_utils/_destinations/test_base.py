"""Rendering a secret into text and back, templates, and storing with read-back."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    CSV_HEADER,
    FILE_FORMATS,
    PASSWORD,
    AccessKeySecret,
    DestinationError,
    DestinationUncertain,
    PasswordSecret,
    SecretDestination,
    describe_text,
    expand,
    parse,
    promote_and_read_back,
    render,
    store_and_read_back,
    template_errors,
)

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_VALUE = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SECRET = AccessKeySecret("alice", KEY_ID, SECRET_VALUE)

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
LETTERS = UPPER + UPPER.lower()

secret_values = st.text(alphabet=LETTERS + DIGITS + "/+", min_size=40, max_size=40)
key_ids = st.text(alphabet=UPPER + DIGITS, min_size=16, max_size=16).map("AKIA".__add__)
user_names = st.text(alphabet=LETTERS + DIGITS + "_+=,.@-", min_size=1, max_size=64)
profiles = st.text(alphabet=LETTERS + DIGITS + "_.@-", min_size=1, max_size=32).filter(lambda name: name != "DEFAULT")
account_ids = st.just("") | st.text(alphabet=DIGITS, min_size=12, max_size=12)
passwords = st.text(alphabet=[chr(code) for code in range(33, 127)], min_size=8, max_size=128)
secrets = st.builds(AccessKeySecret, user_names, key_ids, secret_values)
password_secrets = st.builds(PasswordSecret, user_names, passwords, account_ids)


# --- render and parse ----------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(secret=secrets, fmt=st.sampled_from(FILE_FORMATS), profile=profiles)
def test_render_parse_round_trip(secret, fmt, profile):
    text = render(secret, fmt, profile)
    assert parse(text, fmt, secret.user_name, profile) == secret


@settings(max_examples=200, deadline=None)
@given(secret=password_secrets, fmt=st.sampled_from(("json", "csv")))
def test_password_render_parse_round_trip(secret, fmt):
    text = render(secret, fmt)
    assert parse(text, fmt, secret.user_name, kind=PASSWORD) == secret


@settings(max_examples=100, deadline=None)
@given(secret=st.builds(AccessKeySecret, st.just("alice"), key_ids, secret_values))
def test_repr_never_shows_the_secret(secret):
    for shown in (repr(secret), str(secret), "%r" % [secret], "{!r}".format({"s": secret})):
        assert secret.secret_access_key not in shown
        assert secret.access_key_id in shown


@settings(max_examples=100, deadline=None)
@given(secret=st.builds(PasswordSecret, st.just("alice"), passwords, account_ids))
def test_repr_never_shows_the_password(secret):
    assume(secret.password not in "PasswordSecret(user_name='alice')")
    for shown in (repr(secret), str(secret), "%r" % [secret]):
        assert secret.password not in shown
        assert repr(secret.user_name) in shown


def test_csv_is_the_console_format():
    text = render(SECRET, "csv")
    assert text == "Access key ID,Secret access key\n%s,%s\n" % (KEY_ID, SECRET_VALUE)
    assert CSV_HEADER == ("Access key ID", "Secret access key")
    assert list(csv.reader(io.StringIO(text))) == [list(CSV_HEADER), [KEY_ID, SECRET_VALUE]]


def test_json_format():
    expected = {"UserName": "alice", "AccessKeyId": KEY_ID, "SecretAccessKey": SECRET_VALUE}
    assert json.loads(render(SECRET, "json")) == expected


def test_password_csv_is_the_console_format():
    text = render(PasswordSecret("alice", "pass,word\"1", "123456789012"), "csv")
    assert text.splitlines()[0] == "User name,Password,Console sign-in URL"
    assert text.splitlines()[1] == 'alice,"pass,word""1",https://123456789012.signin.aws.amazon.com/console'


def test_passwords_have_no_credentials_format():
    with pytest.raises(ValueError):
        render(PasswordSecret("alice", "pw"), "credentials")
    with pytest.raises(ValueError):
        parse("[default]\naws_access_key_id = A\naws_secret_access_key = B\n", "credentials", "alice", kind=PASSWORD)


def test_credentials_format():
    assert render(SECRET, "credentials", "ci") == (
        "[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (KEY_ID, SECRET_VALUE))


def test_json_without_user_name_takes_the_given_one():
    text = json.dumps({"AccessKeyId": KEY_ID, "SecretAccessKey": SECRET_VALUE})
    assert parse(text, "json", "bob") == AccessKeySecret("bob", KEY_ID, SECRET_VALUE)


def test_console_csv_with_windows_line_endings_is_read():
    text = "Access key ID,Secret access key\r\n%s,%s\r\n" % (KEY_ID, SECRET_VALUE)
    assert parse(text, "csv", "alice") == SECRET


@pytest.mark.parametrize("text, fmt", [
    pytest.param("", "json", id="json-empty"),
    pytest.param("not json", "json", id="json-garbage"),
    pytest.param('{"AccessKeyId": "%s"}' % KEY_ID, "json", id="json-without-secret"),
    pytest.param("", "csv", id="csv-empty"),
    pytest.param("Access key ID,Secret access key\n", "csv", id="csv-header-only"),
    pytest.param("User name,Password\n%s,%s\n" % (KEY_ID, SECRET_VALUE), "csv", id="csv-other-header"),
    pytest.param("Access key ID,Secret access key\n%s\n" % KEY_ID, "csv", id="csv-row-without-secret"),
    pytest.param("", "credentials", id="credentials-empty"),
    pytest.param("[other]\naws_access_key_id = A\naws_secret_access_key = B\n", "credentials",
                 id="credentials-without-the-profile"),
    pytest.param("[default]\naws_access_key_id = A\n", "credentials", id="credentials-without-secret"),
    pytest.param("aws_access_key_id = A\n", "credentials", id="credentials-without-section"),
])
def test_text_without_a_secret_parses_to_none(text, fmt):
    assert parse(text, fmt, "alice", "default") is None


@pytest.mark.parametrize("text", ["[]", '"a string"', "42", "true", "null"])
def test_json_that_is_not_an_object_parses_to_none(text):
    assert parse(text, "json", "alice") is None


@pytest.mark.parametrize("function, args", [
    pytest.param(render, (SECRET, "yaml"), id="render"),
    pytest.param(parse, ("", "yaml", "alice"), id="parse"),
])
def test_unknown_format_is_an_error(function, args):
    with pytest.raises(ValueError, match="unknown format yaml"):
        function(*args)


# --- templates ------------------------------------------------------------------------------

@pytest.mark.parametrize("template", [
    "rotator/{account_id}/{user_name}/access-key",
    "/plain/name",
    "{user_name}",
    "{{literal braces}}/{user_name}",
    "",
])
def test_valid_templates(template):
    assert template_errors(template, "secret.name") == []


@pytest.mark.parametrize("template, fragment", [
    pytest.param("{username}", "uses {username}", id="misspelt-placeholder"),
    pytest.param("{account}/{user}", "uses {account}", id="two-unknown-placeholders"),
    pytest.param("{0}", "uses {0}", id="positional"),
    pytest.param("{}", "uses {}", id="empty-placeholder"),
    pytest.param("{user_name.upper}", "uses {user_name.upper}", id="attribute"),
    pytest.param("{user_name", "not a valid template", id="unclosed-brace"),
    pytest.param("user_name}", "not a valid template", id="stray-closing-brace"),
])
def test_invalid_templates(template, fragment):
    errors = template_errors(template, "secret.name")
    assert errors
    assert all(error.startswith("secret.name %r" % template) for error in errors)
    assert any(fragment in error for error in errors)


def test_two_unknown_placeholders_give_two_errors():
    assert len(template_errors("{account}/{user}", "secret.path")) == 2


def test_expand():
    assert expand("/rotator/{account_id}/{user_name}", "alice", "123456789012") == "/rotator/123456789012/alice"


# --- store and read back -----------------------------------------------------------------------

class MemoryDestination(SecretDestination):
    type = "memory"

    def __init__(self, transform=lambda secret: secret):
        self.transform = transform
        self.slots = {False: None, True: None}
        self.calls = []

    def write(self, secret, pending=False):
        self.calls.append(("write", pending))
        self.slots[pending] = secret

    def read(self, pending=False):
        self.calls.append(("read", pending))
        secret = self.slots[pending]
        return None if secret is None else self.transform(secret)

    def promote(self):
        self.calls.append(("promote", True))
        self.slots[False], self.slots[True] = self.slots[True], None

    def discard_pending(self):
        self.slots[True] = None

    def describe(self):
        return {"type": self.type, "name": "vault/alice"}

    def snapshot(self, pending=False):
        return self.slots[pending]

    def restore(self, snapshot, pending=False):
        self.calls.append(("restore", pending))
        self.slots[pending] = snapshot


@pytest.mark.parametrize("pending", [False, True])
def test_store_and_read_back_writes_then_reads(pending):
    destination = MemoryDestination()
    assert store_and_read_back(destination, SECRET, pending=pending) is None
    assert destination.slots[pending] == SECRET and destination.slots[not pending] is None
    assert destination.calls == [("write", pending), ("read", pending)]


def test_promote_and_read_back():
    secret = PasswordSecret("alice", "Correct-Horse-1", "123456789012")
    destination = MemoryDestination()
    store_and_read_back(destination, secret, pending=True)
    assert promote_and_read_back(destination, secret) is None
    assert destination.slots == {False: secret, True: None}


def test_promote_and_read_back_refuses_a_different_current_secret():
    secret = PasswordSecret("alice", "Correct-Horse-1")
    destination = MemoryDestination(lambda stored: PasswordSecret(stored.user_name, "something-else"))
    destination.write(secret, pending=True)
    with pytest.raises(DestinationError) as raised:
        promote_and_read_back(destination, secret)
    assert "memory vault/alice" in str(raised.value)
    assert "Correct-Horse-1" not in str(raised.value)


@pytest.mark.parametrize("transform", [
    pytest.param(lambda secret: None, id="nothing-read-back"),
    pytest.param(lambda secret: AccessKeySecret(secret.user_name, secret.access_key_id, "x" * 40), id="other-secret"),
    pytest.param(lambda secret: AccessKeySecret(secret.user_name, "AKIAOTHER00000000000", secret.secret_access_key),
                 id="other-key-id"),
])
def test_store_and_read_back_refuses_a_different_read_back(transform):
    previous = AccessKeySecret("alice", "AKIAPREVIOUS00000001", "p" * 40)
    destination = MemoryDestination(transform)
    destination.slots[False] = previous
    with pytest.raises(DestinationError) as raised:
        store_and_read_back(destination, SECRET)
    assert not isinstance(raised.value, DestinationUncertain)
    assert "memory vault/alice" in str(raised.value)
    assert "holds what it held before again" in str(raised.value)
    assert SECRET_VALUE not in str(raised.value)
    assert destination.slots == {False: previous, True: None}
    assert destination.calls == [("write", False), ("read", False), ("restore", False)]


def test_store_and_read_back_that_cannot_restore_is_uncertain():
    destination = MemoryDestination(lambda secret: None)

    def refuse(snapshot, pending=False):
        raise DestinationError("memory is read-only now")

    destination.restore = refuse
    with pytest.raises(DestinationUncertain) as raised:
        store_and_read_back(destination, SECRET)
    assert "memory is read-only now" in str(raised.value) and "may hold the new secret" in str(raised.value)
    assert SECRET_VALUE not in str(raised.value)
    assert destination.slots[False] == SECRET


@pytest.mark.parametrize("details, text", [
    pytest.param({"type": "ssm", "name": "/rotator/alice", "region": "eu-west-1"}, "ssm /rotator/alice", id="name"),
    pytest.param({"type": "file", "path": "/keys/alice.csv", "format": "csv"}, "file /keys/alice.csv", id="path"),
    pytest.param({"type": "none"}, "none", id="nowhere"),
])
def test_describe_text(details, text):
    destination = MemoryDestination()
    destination.describe = lambda: details
    assert describe_text(destination) == text


def test_base_destination_is_abstract():
    destination = SecretDestination()
    for call in (lambda: destination.write(SECRET), destination.read, destination.promote,
                 destination.discard_pending, destination.describe, destination.snapshot,
                 lambda: destination.restore(None), destination.resource, destination.slots):
        with pytest.raises(NotImplementedError):
            call()

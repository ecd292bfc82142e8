"""The file destination: 0600 atomic writes, credentials profiles, and problems found up front."""

from __future__ import annotations

import configparser
import os
import stat

import pytest

from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations import file as secret_file
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    AccessKeySecret,
    DestinationError,
    store_and_read_back,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.file import (
    FileDestination,
    replace_profile,
    write_atomically,
)

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_VALUE = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SECRET = AccessKeySecret("alice", KEY_ID, SECRET_VALUE)
NEXT_SECRET = AccessKeySecret("alice", "AKIANEXTKEY000000002", "n" * 40)

OTHER_PROFILES = """\
# managed by hand; keep this comment
[default]
aws_access_key_id = AKIADEFAULT000000001
aws_secret_access_key = default-secret
region = eu-west-1

[alice]
aws_access_key_id = AKIAOLDALICE00000001
aws_secret_access_key = old-alice-secret
# a comment inside alice's profile goes with it

[bob]
aws_access_key_id = AKIABOB0000000000001
aws_secret_access_key = bob-secret
"""

as_root = pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes whatever the mode says")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def leftovers(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


@pytest.fixture
def permissive_umask():
    previous = os.umask(0)
    yield
    os.umask(previous)


# --- writing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "json", "credentials"])
def test_write_is_0600_even_with_a_permissive_umask(tmp_path, permissive_umask, fmt):
    path = tmp_path / "secret"
    destination = FileDestination(str(path), fmt, "alice", "alice")
    destination.write(SECRET)
    assert mode(path) == 0o600
    assert destination.read() == SECRET
    assert leftovers(tmp_path) == []


def test_rewrite_makes_a_world_readable_file_0600(tmp_path, permissive_umask):
    path = tmp_path / "alice.csv"
    path.write_text("old")
    path.chmod(0o644)
    FileDestination(str(path), "csv", "alice", None).write(SECRET)
    assert mode(path) == 0o600
    assert path.read_text().startswith("Access key ID,Secret access key\n")


def test_write_replaces_the_file_instead_of_writing_into_it(tmp_path):
    path = tmp_path / "alice.json"
    path.write_text("old")
    before = os.stat(path).st_ino
    other_name = tmp_path / "hard-link"
    os.link(path, other_name)
    FileDestination(str(path), "json", "alice", None).write(SECRET)
    assert os.stat(path).st_ino != before
    assert other_name.read_text() == "old"


def test_failed_replace_leaves_target_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "alice.csv"
    path.write_text("previous content")

    def refuse(source, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(secret_file.os, "replace", refuse)
    with pytest.raises(DestinationError) as raised:
        FileDestination(str(path), "csv", "alice", None).write(SECRET)
    assert str(path) in str(raised.value) and "Permission denied" in str(raised.value)
    assert SECRET_VALUE not in str(raised.value)
    assert path.read_text() == "previous content"
    assert leftovers(tmp_path) == []


def test_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "out"

    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(secret_file.os, "fsync", no_space)
    with pytest.raises(OSError):
        write_atomically(str(path), "text")
    assert not path.exists()
    assert os.listdir(tmp_path) == []


def test_interrupted_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def interrupt(fd):
        raise KeyboardInterrupt()

    monkeypatch.setattr(secret_file.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(str(tmp_path / "out"), "text")
    assert os.listdir(tmp_path) == []


@as_root
def test_write_into_a_directory_made_read_only_fails_cleanly(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir()
    destination = FileDestination(str(directory / "alice.csv"), "csv", "alice", None)
    assert destination.problems() is None
    directory.chmod(0o500)
    try:
        with pytest.raises(DestinationError, match="writing .*alice.csv failed"):
            destination.write(SECRET)
        assert os.listdir(directory) == []
    finally:
        directory.chmod(0o700)


def test_store_and_read_back_through_a_file(tmp_path):
    destination = FileDestination(str(tmp_path / "alice.csv"), "csv", "alice", None)
    store_and_read_back(destination, SECRET)
    store_and_read_back(destination, NEXT_SECRET)
    assert destination.read() == NEXT_SECRET


def test_relative_and_home_paths_are_made_absolute(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert FileDestination("~/keys/alice.csv", "csv", "alice", None).path == str(tmp_path / "keys" / "alice.csv")
    monkeypatch.chdir(tmp_path)
    assert FileDestination("alice.csv", "csv", "alice", None).path == str(tmp_path / "alice.csv")


# --- pending secrets ---------------------------------------------------------------------------

def test_pending_secret_sits_beside_the_current_one_until_promoted(tmp_path, permissive_umask):
    path = tmp_path / "alice.csv"
    destination = FileDestination(str(path), "csv", "alice", None)
    destination.write(SECRET)
    destination.write(NEXT_SECRET, pending=True)
    pending = tmp_path / "alice.csv.pending"
    assert mode(pending) == 0o600
    assert destination.read() == SECRET
    assert destination.read(pending=True) == NEXT_SECRET
    destination.promote()
    assert destination.read() == NEXT_SECRET
    assert destination.read(pending=True) is None
    assert sorted(os.listdir(tmp_path)) == ["alice.csv"]
    assert mode(path) == 0o600


def test_discard_pending_keeps_the_current_secret(tmp_path):
    destination = FileDestination(str(tmp_path / "alice.json"), "json", "alice", None)
    destination.write(SECRET)
    destination.write(NEXT_SECRET, pending=True)
    destination.discard_pending()
    destination.discard_pending()
    assert destination.read() == SECRET
    assert sorted(os.listdir(tmp_path)) == ["alice.json"]


def test_promote_without_pending_secret_is_a_destination_error(tmp_path):
    destination = FileDestination(str(tmp_path / "alice.json"), "json", "alice", None)
    with pytest.raises(DestinationError, match="renaming .*alice.json.pending failed"):
        destination.promote()


def test_pending_credentials_profile_keeps_the_other_profiles(tmp_path):
    path = tmp_path / "credentials"
    path.write_text(OTHER_PROFILES)
    destination = FileDestination(str(path), "credentials", "alice", "alice")
    destination.write(SECRET, pending=True)
    assert path.read_text() == OTHER_PROFILES
    destination.promote()
    assert destination.read() == SECRET
    assert profile_values(path.read_text(), "bob")["aws_secret_access_key"] == "bob-secret"


# --- credentials files -------------------------------------------------------------------------

def profile_values(text, profile):
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return dict(parser.items(profile))


def test_credentials_replace_only_the_named_profile(tmp_path):
    path = tmp_path / "credentials"
    path.write_text(OTHER_PROFILES)
    destination = FileDestination(str(path), "credentials", "alice", "alice")
    destination.write(SECRET)
    text = path.read_text()
    assert destination.read() == SECRET
    assert text.startswith("# managed by hand; keep this comment\n[default]\n")
    assert profile_values(text, "default") == {"aws_access_key_id": "AKIADEFAULT000000001",
                                               "aws_secret_access_key": "default-secret", "region": "eu-west-1"}
    assert profile_values(text, "bob") == {"aws_access_key_id": "AKIABOB0000000000001",
                                           "aws_secret_access_key": "bob-secret"}
    assert profile_values(text, "alice") == {"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET_VALUE}
    assert "old-alice-secret" not in text
    assert text.count("[alice]") == 1
    assert text.index("[default]") < text.index("[alice]") < text.index("[bob]")


def test_credentials_append_a_missing_profile(tmp_path):
    path = tmp_path / "credentials"
    path.write_text(OTHER_PROFILES)
    FileDestination(str(path), "credentials", "carol", "carol").write(SECRET)
    text = path.read_text()
    assert text.startswith(OTHER_PROFILES)
    assert text.endswith("\n[carol]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (KEY_ID, SECRET_VALUE))
    assert profile_values(text, "alice")["aws_secret_access_key"] == "old-alice-secret"


def test_credentials_file_is_created_when_missing(tmp_path):
    path = tmp_path / "credentials"
    FileDestination(str(path), "credentials", "alice", "ci").write(SECRET)
    assert path.read_text() == "[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (KEY_ID, SECRET_VALUE)


def test_credentials_second_rotation_replaces_the_first(tmp_path):
    path = tmp_path / "credentials"
    path.write_text(OTHER_PROFILES)
    destination = FileDestination(str(path), "credentials", "alice", "alice")
    destination.write(SECRET)
    destination.write(NEXT_SECRET)
    text = path.read_text()
    assert destination.read() == NEXT_SECRET
    assert KEY_ID not in text and text.count("[alice]") == 1


@pytest.mark.parametrize("text, expected", [
    pytest.param("", "[p]\nx\n", id="empty-file"),
    pytest.param("[a]\nk = 1\n", "[a]\nk = 1\n\n[p]\nx\n", id="final-newline"),
    pytest.param("[a]\nk = 1\n\n", "[a]\nk = 1\n\n[p]\nx\n", id="final-blank-line"),
    pytest.param("[p]\nold = 1\n[a]\nk = 1\n", "[p]\nx\n[a]\nk = 1\n", id="replace-first"),
    pytest.param("[a]\nk = 1\n[p]\nold = 1\n", "[a]\nk = 1\n[p]\nx\n", id="replace-last"),
    pytest.param("[p]\nold = 1\n[a]\n[p]\nold = 2\n", "[p]\nx\n[a]\n", id="duplicate-profile-collapsed"),
    pytest.param("[pp]\nk = 1\n", "[pp]\nk = 1\n\n[p]\nx\n", id="similar-name-kept"),
])
def test_replace_profile(text, expected):
    assert replace_profile(text, "p", "[p]\nx\n") == expected


def test_replace_profile_after_a_last_line_without_newline():
    text = replace_profile("[a]\nk = 1", "p", "[p]\nx = 1\n")
    assert text.startswith("[a]\nk = 1\n")
    assert text.endswith("[p]\nx = 1\n")
    assert profile_values(text, "a") == {"k": "1"} and profile_values(text, "p") == {"x": "1"}


def test_credentials_header_with_trailing_comment_is_replaced(tmp_path):
    path = tmp_path / "credentials"
    path.write_text("[alice] # rotated by the vault\naws_access_key_id = A\naws_secret_access_key = B\n"
                    "[bob]\naws_access_key_id = C\naws_secret_access_key = D\n")
    destination = FileDestination(str(path), "credentials", "alice", "alice")
    destination.write(SECRET)
    assert destination.read() == SECRET
    assert profile_values(path.read_text(), "bob") == {"aws_access_key_id": "C", "aws_secret_access_key": "D"}


# --- reading -------------------------------------------------------------------------------------

def test_read_missing_file_is_none(tmp_path):
    assert FileDestination(str(tmp_path / "absent.csv"), "csv", "alice", None).read() is None


def test_read_missing_profile_is_none(tmp_path):
    path = tmp_path / "credentials"
    path.write_text(OTHER_PROFILES)
    assert FileDestination(str(path), "credentials", "carol", "carol").read() is None
    assert FileDestination(str(path), "credentials", "alice", "alice").read() == AccessKeySecret(
        "alice", "AKIAOLDALICE00000001", "old-alice-secret")


@as_root
def test_read_unreadable_file_is_a_destination_error(tmp_path):
    path = tmp_path / "alice.csv"
    path.write_text("x")
    path.chmod(0o000)
    with pytest.raises(DestinationError, match="reading .*alice.csv failed"):
        FileDestination(str(path), "csv", "alice", None).read()


# --- problems found before any key is created --------------------------------------------------

def test_no_problems_for_a_new_file_in_an_existing_directory(tmp_path):
    assert FileDestination(str(tmp_path / "alice.csv"), "csv", "alice", None).problems() is None


def test_no_problems_for_an_existing_file(tmp_path):
    path = tmp_path / "alice.csv"
    path.write_text("x")
    assert FileDestination(str(path), "csv", "alice", None).problems() is None


def test_directory_as_path_is_a_problem(tmp_path):
    problem = FileDestination(str(tmp_path), "csv", "alice", None).problems()
    assert problem == "secret.path %s is a directory" % tmp_path


def test_missing_parent_directory_is_a_problem(tmp_path):
    problem = FileDestination(str(tmp_path / "absent" / "alice.csv"), "csv", "alice", None).problems()
    assert problem == "directory %s of secret.path does not exist" % (tmp_path / "absent")


@as_root
def test_unwritable_directory_is_a_problem(tmp_path):
    directory = tmp_path / "locked"
    directory.mkdir()
    directory.chmod(0o500)
    try:
        problem = FileDestination(str(directory / "alice.csv"), "csv", "alice", None).problems()
    finally:
        directory.chmod(0o700)
    assert problem == "directory %s of secret.path is not writable" % directory


def test_problems_follow_the_access_checks(tmp_path, monkeypatch):
    path = tmp_path / "credentials"
    path.write_text("x")
    destination = FileDestination(str(path), "credentials", "alice", "alice")
    denied = set()
    monkeypatch.setattr(secret_file.os, "access", lambda target, wanted: not (str(target), wanted) in denied)
    assert destination.problems() is None
    denied.add((str(path), os.R_OK))
    assert destination.problems() == "secret.path %s is not readable" % path
    denied.add((str(tmp_path), os.W_OK | os.X_OK))
    assert destination.problems() == "directory %s of secret.path is not writable" % tmp_path


@as_root
def test_unreadable_existing_file_is_a_problem(tmp_path):
    path = tmp_path / "credentials"
    path.write_text(OTHER_PROFILES)
    path.chmod(0o200)
    problem = FileDestination(str(path), "credentials", "alice", "alice").problems()
    assert problem == "secret.path %s is not readable" % path


@pytest.mark.parametrize("fmt, expected", [
    pytest.param("csv", {"type": "file", "format": "csv"}, id="csv"),
    pytest.param("json", {"type": "file", "format": "json"}, id="json"),
    pytest.param("credentials", {"type": "file", "format": "credentials", "profile": "ci"}, id="credentials"),
])
def test_describe(tmp_path, fmt, expected):
    path = str(tmp_path / "secret")
    assert FileDestination(path, fmt, "alice", "ci").describe() == dict(expected, path=path)

"""Case 16: the file destination written the Ansible way keeps the file's owner and group and applies the play's.

A real AnsibleModule (its atomic_move and set_fs_attributes_if_different)
behind the factory the modules use.
"""

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import (
    AccessKeySecret,
    PasswordSecret,
    store_and_read_back,
    promote_and_read_back,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.registry import SECRET_ARGSPEC, DestinationFactory

SECRET = AccessKeySecret("alice", "AKIANEWKEY0000000002", "n" * 40)
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")


@pytest.fixture
def module(monkeypatch):
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": {}})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
    return basic.AnsibleModule(argument_spec={})


@pytest.fixture
def permissive_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def destination(module, path, fmt="json", kind="access_key", **settings):
    options = dict({name: None for name in SECRET_ARGSPEC}, type="file", path=str(path), format=fmt, **settings)
    return DestinationFactory(options, None, "123456789012", kind, module=module).for_user("alice")


def attributes(path):
    status = os.stat(path)
    return status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)


def test_a_new_file_is_0600_and_never_readable_by_others(module, tmp_path, permissive_umask, monkeypatch):
    path = tmp_path / "alice.json"
    seen = []
    real_atomic_move = module.atomic_move

    def watch(source, target, *args, **kwargs):
        real_atomic_move(source, target, *args, **kwargs)
        seen.append(stat.S_IMODE(os.stat(target).st_mode))

    monkeypatch.setattr(module, "atomic_move", watch)
    store_and_read_back(destination(module, path), SECRET)
    assert attributes(path) == (os.geteuid(), os.getegid(), 0o600)
    assert seen == [0o600]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.json"]


@root_only
def test_an_existing_files_owner_and_group_are_kept_and_its_mode_tightened(module, tmp_path):
    path = tmp_path / "credentials"
    path.write_text("[bob]\naws_access_key_id = AKIABOB0000000000001\naws_secret_access_key = bob-secret\n")
    os.chown(path, 1234, 2345)
    path.chmod(0o644)
    store_and_read_back(destination(module, path, "credentials"), SECRET)
    assert attributes(path) == (1234, 2345, 0o600)
    assert "bob-secret" in path.read_text()


@root_only
def test_owner_group_and_mode_of_the_play_are_applied(module, tmp_path):
    path = tmp_path / "alice.csv"
    store_and_read_back(destination(module, path, "csv", owner="1234", group="2345", mode="0640"), SECRET)
    assert attributes(path) == (1234, 2345, 0o640)


@root_only
def test_a_promoted_pending_file_keeps_the_files_owner(module, tmp_path):
    path = tmp_path / "alice.json"
    path.write_text("{}")
    os.chown(path, 1234, 2345)
    password = PasswordSecret("alice", "New-password-2", "123456789012")
    target = destination(module, path, kind="password")
    store_and_read_back(target, password, pending=True)
    assert attributes(str(path) + ".pending")[2] == 0o600
    promote_and_read_back(target, password)
    assert attributes(path) == (1234, 2345, 0o600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.json"]

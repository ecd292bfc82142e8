"""rotation_report_store in check mode: nothing is written, and changed says whether a file would be."""

from __future__ import annotations

import stat

import pytest

from ansible_collections.rotator.aws_iam.plugins.modules import rotation_report_store

FILES = {"report.json": '{"accounts": []}\n', "users.csv": "account,user_name\n"}


@pytest.fixture
def outside_awx(monkeypatch):
    for name in ("AWX_ISOLATED_DATA_DIR", "AWX_PRIVATE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def state(root):
    return sorted((path.name, path.read_text(), oct(stat.S_IMODE(path.stat().st_mode))) for path in root.iterdir())


def test_the_same_files_in_check_mode_would_change_nothing(run_module, tmp_path, outside_awx):
    args = {"path": str(tmp_path), "files": FILES}
    run_module(rotation_report_store, args)
    before = state(tmp_path)
    failed, result = run_module(rotation_report_store, dict(args, _ansible_check_mode=True))
    assert (failed, result["changed"], state(tmp_path)) == (False, False, before)


def test_another_text_or_mode_in_check_mode_would_change_and_nothing_is_written(run_module, tmp_path, outside_awx):
    args = {"path": str(tmp_path), "files": FILES}
    run_module(rotation_report_store, args)
    before = state(tmp_path)
    other_files = dict(FILES, **{"users.csv": "changed\n"})
    other_text = run_module(rotation_report_store,
                            dict(args, files=other_files, _ansible_check_mode=True))[1]["changed"]
    other_mode = run_module(rotation_report_store, dict(args, mode="0600", _ansible_check_mode=True))[1]["changed"]
    assert (other_text, other_mode, state(tmp_path)) == (True, True, before)

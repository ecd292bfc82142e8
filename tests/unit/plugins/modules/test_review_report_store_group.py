"""rotation_report_store with a group for the report's readers: the directories it creates let that group in."""

from __future__ import annotations

import grp
import os
import stat

import pytest

from ansible_collections.rotator.aws_iam.plugins.modules import rotation_report_store


@pytest.fixture
def outside_awx(monkeypatch):
    for name in ("AWX_ISOLATED_DATA_DIR", "AWX_PRIVATE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def readers():
    """A group other than this process's own, which only root may give a file."""
    if os.geteuid() != 0:
        pytest.skip("only root may give a file to another group")
    return grp.getgrnam("daemon")


def group_and_mode(path):
    info = path.stat()
    return grp.getgrgid(info.st_gid).gr_name, oct(stat.S_IMODE(info.st_mode))


def test_the_directories_made_for_the_files_belong_to_the_files_group(run_module, tmp_path, outside_awx, readers):
    # 0640 files of group daemon in 0750 directories of group root: daemon could never reach them.
    failed, result = run_module(rotation_report_store, {"path": str(tmp_path / "reports"), "run": "42",
                                                        "group": readers.gr_name,
                                                        "files": {"slices/7/report.json": "{}"}})
    made = [tmp_path / "reports", tmp_path / "reports" / "42", tmp_path / "reports" / "42" / "slices",
            tmp_path / "reports" / "42" / "slices" / "7"]
    assert (failed, [group_and_mode(path) for path in made],
            group_and_mode(tmp_path / "reports" / "42" / "slices" / "7" / "report.json")) == (
        False, [("daemon", "0o750")] * 4, ("daemon", "0o640"))

"""rotation_report_store: a mode it cannot turn into the directories' mode fails cleanly, before anything is written."""

from __future__ import annotations

import pytest

from ansible_collections.rotator.aws_iam.plugins.modules import rotation_report_store


@pytest.fixture
def outside_awx(monkeypatch):
    for name in ("AWX_ISOLATED_DATA_DIR", "AWX_PRIVATE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("mode", ["u=rw,g=r", "99999", "77777"])
def test_a_mode_that_is_not_octal_fails_with_a_message_and_nothing_written(run_module, tmp_path, outside_awx, mode):
    failed, result = run_module(rotation_report_store, {"path": str(tmp_path / "reports"), "mode": mode,
                                                        "files": {"report.json": "{}"}})
    assert (failed, result["changed"], result["msg"], list(tmp_path.iterdir())) == (
        True, False, "mode %r is not an octal mode such as '0640'" % mode, [])

"""rotation_report_store: a slice's report is written only where the merge reads it."""

from __future__ import annotations

import pytest

from ansible_collections.rotator.aws_iam.plugins.modules import rotation_report_store


@pytest.fixture
def outside_awx(monkeypatch):
    for name in ("AWX_ISOLATED_DATA_DIR", "AWX_PRIVATE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_a_slice_named_with_a_slash_fails_instead_of_a_report_the_merge_never_reads(run_module, tmp_path, outside_awx):
    # rotator_report_slice: "eu/1" would make slices/eu/1/report.json, which no merge lists as a slice.
    failed, result = run_module(rotation_report_store, {"path": str(tmp_path), "run": "42",
                                                        "files": {"slices/eu/1/report.json": "{}"}})
    assert (failed, result["changed"], result["msg"], list(tmp_path.iterdir())) == (
        True, False, "files: 'slices/eu/1/report.json' is not where the merge reads a slice's report "
                     "(slices/<slice>/report.json, the slice's name one path segment)", [])


def test_a_slice_report_is_read_back_by_the_merge(run_module, tmp_path, outside_awx):
    written = run_module(rotation_report_store, {"path": str(tmp_path), "run": "42",
                                                 "files": {"slices/eu-1/report.json": '{"accounts": []}'}})[0]
    failed, result = run_module(rotation_report_store, {"path": str(tmp_path), "run": "42", "read_slices": True})
    assert (written, failed, result["slices"]) == (False, False, {"eu-1": {"accounts": []}})

"""rotation_report_store: the refusal holds for every file written, not only for the destination's root."""

from __future__ import annotations

import os

import pytest

from ansible_collections.rotator.aws_iam.plugins.modules import rotation_report_store

REFUSAL_TAIL = ("; AWX deletes that directory when the job ends, and the job's credential is kept there "
                "(ansible-runner's command and env files): give a persistent directory outside it, or an S3 bucket")


@pytest.fixture
def artifacts(tmp_path, monkeypatch):
    """The artifacts directory of a running AWX job, outside the destination."""
    directory = tmp_path / "pdd" / "artifacts" / "7"
    directory.mkdir(parents=True)
    monkeypatch.setenv("AWX_ISOLATED_DATA_DIR", str(directory))
    monkeypatch.delenv("AWX_PRIVATE_DATA_DIR", raising=False)
    return directory


def test_a_run_directory_that_links_into_the_job_is_refused_and_nothing_written(run_module, tmp_path, artifacts):
    destination = tmp_path / "reports"
    destination.mkdir()
    # A persistent volume whose run directory is a symbolic link into the job's artifacts.
    os.symlink(str(artifacts), str(destination / "42"))
    failed, result = run_module(rotation_report_store, {"path": str(destination), "run": "42",
                                                        "files": {"report.json": "{}"}})
    assert (failed, result["changed"], result["msg"], os.listdir(str(artifacts))) == (
        True, False,
        "refusing to write the report: %s is inside the job's artifacts directory (AWX_ISOLATED_DATA_DIR), %s%s" % (
            destination / "42", artifacts, REFUSAL_TAIL), [])


def test_a_file_that_links_into_the_job_is_refused_and_nothing_written(run_module, tmp_path, artifacts):
    destination = tmp_path / "reports"
    destination.mkdir()
    (artifacts / "stdout").write_text("job output\n")
    os.symlink(str(artifacts / "stdout"), str(destination / "report.json"))
    failed, result = run_module(rotation_report_store, {"path": str(destination),
                                                        "files": {"users.csv": "a\n", "report.json": "{}"}})
    assert (failed, result["changed"], result["msg"], sorted(os.listdir(str(destination))),
            (artifacts / "stdout").read_text()) == (
        True, False,
        "refusing to write the report: %s is inside the job's artifacts directory (AWX_ISOLATED_DATA_DIR), %s%s" % (
            destination / "report.json", artifacts, REFUSAL_TAIL), ["report.json"], "job output\n")

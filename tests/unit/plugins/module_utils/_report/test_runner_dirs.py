"""A report is never written into an ansible-runner job's directories (where AWX keeps the job's credential)."""

from __future__ import annotations

import os

from ansible_collections.rotator.aws_iam.plugins.module_utils._report.runner_dirs import refusal, under_awx


def private_data_dir(root):
    """An ansible-runner private data directory as AWX leaves it during a job: env/, project/, artifacts/<ident>/."""
    (root / "env").mkdir(parents=True)
    (root / "env" / "envvars").write_text("AWS_ACCESS_KEY_ID: AKIAEXAMPLE\n")
    (root / "project").mkdir()
    artifacts = root / "artifacts" / "42"
    artifacts.mkdir(parents=True)
    (artifacts / "command").write_text("{}")
    return root, artifacts


def test_a_path_in_the_artifacts_directory_is_refused(tmp_path):
    _root, artifacts = private_data_dir(tmp_path / "pdd")
    path = str(artifacts / "report")
    assert refusal(path, {"AWX_ISOLATED_DATA_DIR": str(artifacts)}) == (
        "%s is inside the job's artifacts directory (AWX_ISOLATED_DATA_DIR), %s" % (path, artifacts))


def test_the_artifacts_directory_itself_is_refused(tmp_path):
    _root, artifacts = private_data_dir(tmp_path / "pdd")
    assert refusal(str(artifacts), {"AWX_ISOLATED_DATA_DIR": str(artifacts)}) == (
        "%s is inside the job's artifacts directory (AWX_ISOLATED_DATA_DIR), %s" % (artifacts, artifacts))


def test_the_private_data_directory_above_the_artifacts_is_refused_without_any_file_of_the_runner(tmp_path):
    # In an execution environment: /runner/artifacts/<ident>; /runner/reports is beside the credential too.
    artifacts = tmp_path / "runner" / "artifacts" / "42"
    artifacts.mkdir(parents=True)
    path = str(tmp_path / "runner" / "reports")
    assert refusal(path, {"AWX_ISOLATED_DATA_DIR": str(artifacts)}) == (
        "%s is inside ansible-runner's private data directory (the one holding AWX_ISOLATED_DATA_DIR), %s"
        % (path, tmp_path / "runner"))


def test_awx_private_data_dir_is_refused(tmp_path):
    (tmp_path / "awx_42_x").mkdir()
    path = str(tmp_path / "awx_42_x" / "out")
    assert refusal(path, {"AWX_PRIVATE_DATA_DIR": str(tmp_path / "awx_42_x")}) == (
        "%s is inside the job's private data directory (AWX_PRIVATE_DATA_DIR), %s" % (path, tmp_path / "awx_42_x"))


def test_a_directory_holding_the_runners_env_files_is_refused_without_any_variable(tmp_path):
    root, _artifacts = private_data_dir(tmp_path / "pdd")
    path = str(root / "project" / "reports")
    assert refusal(path, {}) == (
        "%s is inside %s, ansible-runner's directory of a job: it holds ansible-runner's env/envvars" % (path, root))


def test_a_directory_holding_the_command_file_is_refused_without_any_variable(tmp_path):
    artifacts = tmp_path / "elsewhere" / "7"
    artifacts.mkdir(parents=True)
    (artifacts / "command").write_text("{}")
    path = str(artifacts / "fact_cache")
    assert refusal(path, {}) == (
        "%s is inside %s, ansible-runner's directory of a job: it holds ansible-runner's command file"
        % (path, artifacts))


def test_a_symbolic_link_into_the_private_data_directory_is_refused(tmp_path):
    root, artifacts = private_data_dir(tmp_path / "pdd")
    os.symlink(root, tmp_path / "reports")
    path = str(tmp_path / "reports" / "out")
    assert refusal(path, {"AWX_ISOLATED_DATA_DIR": str(artifacts)}) == (
        "%s is inside ansible-runner's private data directory (the one holding AWX_ISOLATED_DATA_DIR), %s"
        % (path, root))


def test_a_directory_beside_the_private_data_directory_is_accepted(tmp_path):
    _root, artifacts = private_data_dir(tmp_path / "pdd")
    # A common prefix is not containment: pdd-reports is not inside pdd.
    assert refusal(str(tmp_path / "pdd-reports"), {"AWX_ISOLATED_DATA_DIR": str(artifacts)}) is None


def test_a_virtualenv_called_env_is_not_taken_for_the_runners(tmp_path):
    (tmp_path / "project" / "env" / "bin").mkdir(parents=True)
    assert refusal(str(tmp_path / "project" / "reports"), {}) is None


def test_awx_is_recognised_by_its_artifacts_directory():
    assert (under_awx({"AWX_ISOLATED_DATA_DIR": "/runner/artifacts/1"}), under_awx({}),
            under_awx({"AWX_ISOLATED_DATA_DIR": ""})) == (True, False, False)

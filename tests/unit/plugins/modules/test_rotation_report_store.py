"""rotation_report_store: a directory written atomically with the play's mode, refused beside a job's credential;
an S3 bucket written with the credential AWX injects, encrypted; the slices of a run read back."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.rotator.aws_iam.plugins.modules import rotation_report_store

FILES = {"report.json": '{"accounts": []}\n', "users.csv": "account,user_name\n"}


@pytest.fixture
def outside_awx(monkeypatch):
    for name in ("AWX_ISOLATED_DATA_DIR", "AWX_PRIVATE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def tree(root):
    """Every file and directory under root, with its mode."""
    return sorted((str(path.relative_to(root)), oct(stat.S_IMODE(path.stat().st_mode))) for path in root.rglob("*"))


def test_files_are_written_with_mode_0640_under_the_run(run_module, tmp_path, outside_awx):
    files = dict(FILES, **{"slices/7/report.json": "{}"})
    failed, result = run_module(rotation_report_store, {"path": str(tmp_path / "reports" / "iam"), "run": "42",
                                                        "files": files})
    assert (failed, result["changed"], result["location"], result["written"]) == (
        False, True, str(tmp_path / "reports" / "iam" / "42"),
        [str(tmp_path / "reports" / "iam" / "42" / name) for name in files])
    # No temporary file is left behind; every directory made for the report gets 0750, whatever the umask.
    assert tree(tmp_path) == [("reports", "0o750"), ("reports/iam", "0o750"), ("reports/iam/42", "0o750"),
                              ("reports/iam/42/report.json", "0o640"), ("reports/iam/42/slices", "0o750"),
                              ("reports/iam/42/slices/7", "0o750"), ("reports/iam/42/slices/7/report.json", "0o640"),
                              ("reports/iam/42/users.csv", "0o640")]
    assert (tmp_path / "reports" / "iam" / "42" / "report.json").read_text() == FILES["report.json"]


def test_the_same_files_again_change_nothing_and_a_mode_is_applied(run_module, tmp_path, outside_awx):
    args = {"path": str(tmp_path), "files": FILES}
    run_module(rotation_report_store, args)
    first = run_module(rotation_report_store, args)[1]["changed"]
    second = run_module(rotation_report_store, dict(args, mode="0600"))[1]["changed"]
    assert (first, second, tree(tmp_path)) == (False, True, [("report.json", "0o600"), ("users.csv", "0o600")])


def test_a_path_in_the_jobs_private_data_directory_is_refused_and_nothing_written(run_module, tmp_path, monkeypatch):
    artifacts = tmp_path / "pdd" / "artifacts" / "7"
    artifacts.mkdir(parents=True)
    monkeypatch.setenv("AWX_ISOLATED_DATA_DIR", str(artifacts))
    monkeypatch.delenv("AWX_PRIVATE_DATA_DIR", raising=False)
    before = tree(tmp_path)
    failed, result = run_module(rotation_report_store, {"path": str(tmp_path / "pdd" / "reports"), "files": FILES})
    assert (failed, result["changed"], result["msg"], tree(tmp_path)) == (
        True, False,
        "refusing to write the report: %s is inside ansible-runner's private data directory (the one holding "
        "AWX_ISOLATED_DATA_DIR), %s; AWX deletes that directory when the job ends, and the job's credential is "
        "kept there (ansible-runner's command and env files): give a persistent directory outside it, or an S3 "
        "bucket" % (tmp_path / "pdd" / "reports", tmp_path / "pdd"), before)


def test_bad_names_and_options_fail_before_anything_is_written(run_module, tmp_path, outside_awx):
    failed, result = run_module(rotation_report_store, {"path": str(tmp_path), "run": "../up", "kms_key_id": "k",
                                                        "files": {"../report.json": "x"}})
    assert (failed, result["msg"], tree(tmp_path)) == (
        True, "kms_key_id applies only to encryption aws:kms; run: '../up' is not a relative name inside the "
              "destination (parts separated by /, no '..'); files: '../report.json' is not a relative name inside "
              "the destination (parts separated by /, no '..')", [])


def test_s3_objects_are_written_with_awx_credential_variables_and_encrypted(run_module, aws, monkeypatch, outside_awx):
    aws.client("s3").create_bucket(Bucket="iam-reports")
    sts = aws.client("sts").get_session_token()["Credentials"]
    # What AWX's "Amazon Web Services" credential injects; nothing else names a credential.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECRET_KEY", "AWS_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", sts["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", sts["SecretAccessKey"])
    monkeypatch.setenv("AWS_SECURITY_TOKEN", sts["SessionToken"])
    failed, result = run_module(rotation_report_store, {"endpoint_url": aws.endpoint_url, "s3_bucket": "iam-reports",
                                                        "s3_prefix": "rotation", "run": "42", "files": FILES})
    puts = [(call["action"], call["signer"]) for call in aws.calls() if call["action"].startswith(("PUT /iam-reports/",
                                                                                                  "HEAD /iam-reports/"))]
    plain = aws.client("s3")
    encryption = [plain.head_object(Bucket="iam-reports", Key="rotation/42/%s" % name)["ServerSideEncryption"]
                  for name in FILES]
    assert (failed, result["changed"], result["location"], result["written"], puts, encryption) == (
        False, True, "s3://iam-reports/rotation/42",
        ["s3://iam-reports/rotation/42/report.json", "s3://iam-reports/rotation/42/users.csv"],
        [("PUT /iam-reports/rotation/42/report.json", sts["AccessKeyId"]),
         ("HEAD /iam-reports/rotation/42/report.json", sts["AccessKeyId"]),
         ("PUT /iam-reports/rotation/42/users.csv", sts["AccessKeyId"]),
         ("HEAD /iam-reports/rotation/42/users.csv", sts["AccessKeyId"])],
        ["AES256", "AES256"])
    assert not [secret for secret in (sts["SecretAccessKey"], sts["SessionToken"]) if secret in json.dumps(result)]


def test_a_missing_bucket_fails_before_anything_is_written(run_module, aws, connection_args, outside_awx):
    failed, result = run_module(rotation_report_store, dict(connection_args, s3_bucket="nowhere", files=FILES))
    assert (failed, result["msg"].startswith("S3 bucket nowhere cannot be used for the report: "),
            [call["action"] for call in aws.calls() if call["action"].startswith("PUT")]) == (True, True, [])


def test_the_slices_of_a_run_are_read_from_s3(run_module, aws, connection_args, outside_awx):
    plain = aws.client("s3")
    plain.create_bucket(Bucket="iam-reports")
    for name, report in (("7", {"accounts": ["a"]}), ("8", {"accounts": ["b"]})):
        plain.put_object(Bucket="iam-reports", Key="p/42/slices/%s/report.json" % name,
                         Body=json.dumps(report).encode(), ServerSideEncryption="AES256")
    failed, result = run_module(rotation_report_store, dict(connection_args, s3_bucket="iam-reports", s3_prefix="p",
                                                            run="42", read_slices=True))
    assert (failed, result["changed"], result["slices"]) == (
        False, False, {"7": {"accounts": ["a"]}, "8": {"accounts": ["b"]}})


def test_a_slice_that_is_not_json_is_named(run_module, tmp_path, outside_awx):
    (tmp_path / "42" / "slices" / "7").mkdir(parents=True)
    (tmp_path / "42" / "slices" / "7" / "report.json").write_text("{half")
    failed, result = run_module(rotation_report_store, {"path": str(tmp_path), "run": "42", "read_slices": True})
    assert (failed, result["msg"].startswith("the report of slice 7 (%s) is not JSON: " % os.path.join(
        str(tmp_path), "42", "slices", "7", "report.json"))) == (True, True)


def test_a_json_file_given_as_data_is_written_as_the_role_renders_it():
    # Before ansible-core 2.19 templating may turn the role's JSON text back into data on its way to the task.
    from ansible.plugins.filter.core import to_nice_json
    from ansible_collections.rotator.aws_iam.plugins.action.rotation_report_store import as_text

    report = {"title": "IAM \u00fc", "scope": {"path_prefix": "/"}, "accounts": [{"account_id": "123456789012"}]}
    assert as_text("report.json", report) == to_nice_json(report, indent=2) + "\n"
    assert as_text("slices/7/report.json", [report]) == to_nice_json([report], indent=2) + "\n"
    assert as_text("users.csv", ["a"]) == ["a"]


def test_a_csv_file_given_as_data_is_refused(run_module, tmp_path, outside_awx):
    failed, result = run_module(rotation_report_store, {"path": str(tmp_path), "files": {"users.csv": ["a", "b"]}})
    assert (failed, result["msg"], sorted(os.listdir(tmp_path))) == (True, "files: users.csv is not text", [])

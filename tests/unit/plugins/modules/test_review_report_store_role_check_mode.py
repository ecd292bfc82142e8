"""The report role in check mode (a plan on a pull request, AWX's job type Check) with an S3 destination.

docs/gitops.md: check mode makes only read calls in AWS, so the plan runs with a read-only identity; the
role's own premise for writing its report in check mode is that "the report changes nothing in AWS", which
does not hold for an S3 bucket: a plan would put objects, and outside AWX (no run) put them over the last
real run's report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ansible_collections.rotator.aws_iam.plugins as collection_plugins

BUCKET = "iam-reports"


def collections_root():
    return Path(list(collection_plugins.__path__)[0]).parents[3]


def report_playbook(aws, tmp_path, *options):
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "ANSIBLE_", "AWX_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_root()), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1", AWS_ENDPOINT_URL=aws.endpoint_url,
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true")
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "audit,",
                           "-e", "ansible_python_interpreter=%s" % sys.executable,
                           "-e", "rotator_report_s3_bucket=%s" % BUCKET, "-e", "rotator_report_s3_prefix=rotation",
                           "rotator.aws_iam.report"] + list(options),
                          env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)


def objects(aws):
    listed = aws.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {item["Key"]: aws.client("s3").get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            for item in listed}


def test_a_check_mode_report_puts_no_object_and_leaves_the_last_report(aws, tmp_path):
    aws.client("s3").create_bucket(Bucket=BUCKET)
    aws.client("iam").create_user(UserName="alice")
    real = report_playbook(aws, tmp_path)
    before = objects(aws)
    aws.control("POST", "calls/reset")
    plan = report_playbook(aws, tmp_path, "--check")
    writes = [call["action"] for call in aws.calls() if call["action"].startswith(("PUT ", "POST /%s" % BUCKET))]
    assert (real.returncode, sorted(before), plan.returncode, writes, objects(aws) == before,
            "not written (check mode): s3://iam-reports/rotation/report.json" in plan.stdout) == (
        0, ["rotation/keys.csv", "rotation/report.html", "rotation/report.json", "rotation/users.csv"], 0, [], True,
        True), plan.stdout[-3000:]

"""The report and the summary lines of a real rotation with consumers, against the stub.

iam_access_key_rotate hands the new key to the consumers that have not confirmed it (``consumer_access_key``,
with its secret); the report of the same play and the roles' summary lines show whom the user waits for and
where its old key was last used, and never that secret.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from ansible_collections.rotator.aws_iam.plugins.filter.rotation_lines import rotation_lines
from ansible_collections.rotator.aws_iam.plugins.filter.rotation_report import report_data, report_html
from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_rotation_info
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.model import report_csv, report_summary

# Every step due in the same run, so only the consumers keep the old key.
ALL_DUE = dict(rotate_after_days=0, deactivate_after_days=0, delete_after_days=0, in_use_guard=False,
               use_credential_report=False, _ansible_no_log=True)
CONSUMERS = [{"name": "web"}, {"name": "batch"}]


def test_a_user_waiting_for_consumers_is_reported_without_the_key_handed_to_them(aws, connection_args, run_module):
    [(old, old_secret)] = aws.user("app-1", keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, user_name="app-1", consumers=CONSUMERS,
                                                            **ALL_DUE))
    assert failed is False, result.get("msg")
    [user] = result["users"]
    handed = user["consumer_access_key"]
    assert user["consumers_pending"] == ["web", "batch"]
    failed, info = run_module(iam_rotation_info, dict(connection_args, rotate_after_days=90))
    assert failed is False, info.get("msg")

    report = report_data(["prod"], {"prod": {"rotation_report_info": info, "access_key_rotation_result": result}},
                         now=datetime.now(timezone.utc).isoformat())
    [change] = report["accounts"][0]["changes"]
    assert (change["consumers_pending"], change["old_key_last_used"]) == (
        ["web", "batch"], {"access_key_id": old, "date": None, "service": None, "region": None})
    lines = rotation_lines(result["users"])
    assert lines[0].endswith(" | waiting for consumers: web, batch | old key %s never used | %s" % (old, user["msg"]))
    outputs = [json.dumps(report), report_html(report), report_csv(report), report_csv(report, "key"),
               "\n".join(report_summary(report)), "\n".join(lines)]
    assert [handed["secret_access_key"] in output for output in outputs] == [False] * 6
    assert [old_secret in output for output in outputs] == [False] * 6

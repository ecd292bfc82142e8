"""Review: ``group/rotator.aws_iam.aws`` holds amazon.aws's modules and ours, so it may hold amazon.aws's common options.

``debug_botocore_endpoint_logs`` is an option of every amazon.aws module (its doc fragment ``common``); set in the
group that holds both, it must not fail our modules as an unsupported parameter.
"""

from __future__ import annotations

from test_amazon_aws_group_defaults import COMPLIANT, a_play, playbook, task

OWN_GROUP = """    group/rotator.aws_iam.aws:
      endpoint_url: "{{ stub_url }}"
      access_key: testing
      secret_key: testing
      region: us-east-1
      debug_botocore_endpoint_logs: false
"""


def test_amazon_aws_common_options_in_our_extended_group_do_not_fail_our_modules(aws, play):
    aws.user("alice", keys=1)
    plays = a_play("amazon.aws's common options in our group", OWN_GROUP,
                   task("Ours", "ours") + task("Ours as a process", "ours_process",
                                               task_vars="        rotator_in_process: false\n"))
    done, results = play.run(playbook(plays, ["ours", "ours_process"]), {"stub_url": aws.endpoint_url})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert results == {"ours": COMPLIANT, "ours_process": COMPLIANT}

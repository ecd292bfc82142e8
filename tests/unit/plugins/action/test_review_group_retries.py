"""Review: a task's own retry options win over the retries of an ``aws_config`` from amazon.aws's group.

The task's arguments rank above ``group/amazon.aws.aws``; the ``retries`` of an ``aws_config`` that only the
group sets must not replace the task's ``max_attempts`` or ``retry_mode``.
"""

from __future__ import annotations

PLAY = """
- name: Retries from amazon.aws's group, attempts from the task
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:
      endpoint_url: "{{ stub_url }}"
      access_key: testing
      secret_key: testing
      region: us-east-1
      aws_config:
        retries:
          total_max_attempts: 1
  tasks:
    - name: Rotate
      rotator.aws_iam.iam_access_key_rotate:
        users: [alice]
        secret: {type: none}
        max_attempts: 3
      register: rotated
      ignore_errors: true
"""


def test_the_task_max_attempts_wins_over_the_group_aws_config_retries(aws, play):
    aws.user("alice", keys=1)
    aws.faults(throttle_rate=1.0, actions=["GetCallerIdentity"])
    done, _saved = play.run(PLAY, {"stub_url": aws.endpoint_url})
    aws.faults()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert len(aws.calls("GetCallerIdentity")) == 3

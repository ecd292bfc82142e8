"""Review: secrets set in amazon.aws's module_defaults group reach no output, at -vvvv, in the worker or not.

The secret key and session token are no_log options; a proxy URL in ``aws_config`` may carry a password
(``http://user:password@proxy``), which the argument spec cannot mark, as ``aws_config`` is a free dict.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GROUP_SECRET = "GroupDefaultSecret0123456789abcdefGHIJ"
GROUP_TOKEN = "GroupDefaultSessionToken0123456789abcdefGHIJ"
PROXY_PASSWORD = "ProxyPassw0rdXYZ"

PLAY = """
- name: Secrets from amazon.aws's group
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:
      endpoint_url: "{{ stub_url }}"
      access_key: testing
      secret_key: %(secret)s
      session_token: %(token)s
      region: us-east-1
      aws_config:
        connect_timeout: 5
        proxies:
          https: "http://proxyuser:%(password)s@127.0.0.1:9"
  tasks:
    - name: Rotate
      rotator.aws_iam.iam_access_key_rotate:
        users: [alice]
        secret: {type: none}
      register: rotated
      vars:
        rotator_in_process: %(in_process)s
    - name: Show what was registered
      ansible.builtin.debug:
        var: rotated
"""


@pytest.mark.parametrize("in_process", ["true", "false"])
def test_no_secret_of_amazon_aws_group_is_in_the_output_at_vvvv(aws, play, in_process):
    aws.user("alice", keys=1)
    playbook = play.directory / "leak.yml"
    playbook.write_text(PLAY % dict(secret=GROUP_SECRET, token=GROUP_TOKEN, password=PROXY_PASSWORD,
                                    in_process=in_process))
    variables = {"stub_url": aws.endpoint_url, "ansible_python_interpreter": sys.executable}
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-vvvv", "-i", "localhost,",
                           "-e", json.dumps(variables), str(playbook)],
                          # 2.21 shows the (masked) invocation only when asked; older releases ignore this.
                          env=dict(play.environment(), ANSIBLE_INJECT_INVOCATION="true"), cwd=str(play.directory),
                          capture_output=True, text=True,
                          timeout=300, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert '"status": "compliant"' in output
    assert '"https": "http://proxyuser:********@127.0.0.1:9"' in output
    assert [GROUP_SECRET in output, GROUP_TOKEN in output, PROXY_PASSWORD in output] == [False, False, False]

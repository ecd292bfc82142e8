"""The role access_key_rotation, run by ansible-playbook against the stub: a consumer that fails leaves no secret
in the host's variables for later plays (Ansible keeps the failed task's whole result in ansible_failed_result, and
the task with its templated arguments in ansible_failed_task)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ansible_collections.rotator.aws_iam as collection

# The directory that holds ansible_collections/rotator/aws_iam (the tree conftest.py links, or ansible-test's).
COLLECTIONS_PATH = Path(list(collection.__path__)[0]).parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))

# A consumer whose failed task echoes the key it was given (as command, uri and many modules do in their result).
FAILING_CONSUMER = """\
- name: Push the key with a command that fails
  ansible.builtin.command: "false {{ rotator_consumer_secret_access_key }}"
"""

PLAYBOOK = """\
# The reporter takes part so the playbook goes on after the account's host failed.
- name: Rotate
  hosts: localhost,reporter
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Rotate and hand the keys to the consumers
      when: inventory_hostname == 'localhost'
      ansible.builtin.include_role:
        name: rotator.aws_iam.access_key_rotation

- name: A later play (a report, a digest) reads the variables of every account, the failed ones too
  hosts: reporter
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Write every variable of the host
      ansible.builtin.copy:
        dest: "{{ dump_file }}"
        mode: "0600"
        content: "{{ {'failed_result': hostvars['localhost']['ansible_failed_result'] | default(None),
                      'failed_task': hostvars['localhost']['ansible_failed_task'] | default(None),
                      'result': hostvars['localhost']['access_key_rotation_result'] | default(None),
                      'failed': hostvars['localhost']['access_key_rotation_consumer_failures']} | to_json }}"
"""


def test_a_failed_consumer_leaves_no_secret_in_the_hosts_variables(aws, tmp_path):
    [(old, _secret)] = aws.user("fc-1", keys=1)
    (tmp_path / "consumer.yml").write_text(FAILING_CONSUMER)
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    dump = tmp_path / "dump.json"
    run_vars = {"rotator_access_key_users": ["fc-1"], "rotator_rotate_after_days": 0,
                "rotator_deactivate_after_days": 0, "rotator_in_use_guard": False, "rotator_verify": False,
                "rotator_use_credential_report": False, "dump_file": str(dump),
                "rotator_consumers": [{"name": "pusher", "tasks": str(tmp_path / "consumer.yml")}]}
    (tmp_path / "vars.json").write_text(json.dumps(run_vars))
    env = dict(os.environ, AWS_ENDPOINT_URL=aws.endpoint_url, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
               ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(name, None)
    run = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,reporter,", "-c", "local", str(tmp_path / "play.yml"), "-e",
                          "@%s" % (tmp_path / "vars.json")], env=env, capture_output=True, text=True, timeout=300,
                         check=False, cwd=tmp_path)
    document = json.loads(aws.client("secretsmanager").get_secret_value(
        SecretId="rotator/%s/fc-1/access-key" % aws.account)["SecretString"])
    new_id, new_secret = document["AccessKeyId"], document["SecretAccessKey"]
    listed = aws.client("iam").list_access_keys(UserName="fc-1")["AccessKeyMetadata"]
    # The account's host failed, naming its consumer; the reporter's play ran.
    assert run.returncode == 2, run.stdout[-3000:]
    assert {key["AccessKeyId"]: key["Status"] for key in listed} == {old: "Active", new_id: "Active"}
    assert dump.exists(), run.stdout[-3000:]
    dumped = json.loads(dump.read_text())
    assert dumped["failed"] == ["fc-1: consumer pusher failed (Push the key with a command that fails); its old key "
                                "stays active"]
    assert new_secret not in run.stdout
    assert new_secret not in dump.read_text()

"""``module_defaults: group/amazon.aws.aws`` (and ``group/aws``) reach our modules, in real plays against the stub.

The play's environment points AWS_ENDPOINT_URL at a closed port and has no
credentials (see ``Play`` in conftest.py): a task reaches the stub only with
the endpoint and credentials the play gives it.
"""

from __future__ import annotations

import pytest

ROTATE = """
      rotator.aws_iam.iam_access_key_rotate:
        users: [alice]
        secret: {type: none}
"""


def summary(name):
    """A Jinja expression of what a registered task returned that the tests compare (amazon.aws says ``account``)."""
    return ("{'failed': %s.failed | default(false), 'msg': %s.msg | default(''), "
            "'account_id': %s.account_id | default(%s.account | default('')), "
            "'status': (%s.users | default([{}]))[0].status | default('')}" % (name, name, name, name, name))


def playbook(plays, names):
    """Plays, then a task that saves the outcome of each registered name as results.json."""
    outcome = ", ".join("'%s': %s" % (name, summary(name)) for name in names)
    return plays + """
- name: Save what each task returned
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Save
      ansible.builtin.copy:
        dest: "{{ results_file }}"
        mode: "0600"
        content: >-
          {{ {%s} | to_json }}
""" % outcome


HEADER = """
- name: %s
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
%s
  tasks:
"""


def a_play(name, module_defaults, tasks):
    return HEADER % (name, module_defaults) + tasks


def task(name, register, extra="", task_vars=""):
    text = "    - name: %s\n      register: %s\n      ignore_errors: true\n" % (name, register)
    if task_vars:
        text += "      vars:\n%s" % task_vars
    return text + ROTATE + extra


AMAZON_GROUP = """    group/amazon.aws.aws:
      endpoint_url: "{{ %s }}"
      aws_access_key_id: testing
      aws_secret_access_key: testing
      region: us-east-1
"""

COMPLIANT = {"failed": False, "msg": "", "account_id": "123456789012", "status": "compliant"}


def test_amazon_aws_group_defaults_reach_the_module_and_the_task_and_our_defaults_win(aws, play):
    aws.user("alice", keys=1)
    stub_endpoint = "        endpoint_url: \"{{ stub_url }}\"\n"
    # A task's entry for a group replaces the play's whole entry, as ansible-core merges them.
    task_group = "      module_defaults:\n" + "".join("    " + line + "\n"
                                                      for line in (AMAZON_GROUP % "stub_url").splitlines())
    own_group = "    group/rotator.aws_iam.aws_iam:\n      endpoint_url: \"{{ stub_url }}\"\n"
    plays = "".join([
        a_play("amazon.aws's group alone", AMAZON_GROUP % "stub_url",
               task("From the group only", "group_only")
               + task("From the group, the module run as a process", "group_process",
                      task_vars="        rotator_in_process: false\n")),
        a_play("The task's arguments win", AMAZON_GROUP % "closed_url",
               task("The task names the endpoint", "task_wins", extra=stub_endpoint)
               + task("The task names it by an alias", "alias_wins",
                      extra=stub_endpoint.replace("endpoint_url", "aws_endpoint_url"))),
        a_play("Our own group wins", AMAZON_GROUP % "closed_url" + own_group,
               task("Our group names the endpoint", "own_group_wins")),
        a_play("The short group/aws", AMAZON_GROUP.replace("amazon.aws.aws", "aws") % "stub_url",
               task("From group/aws", "short_group")),
        a_play("A task's module_defaults win over the play's", AMAZON_GROUP % "closed_url",
               task("The task's own group/amazon.aws.aws", "task_level_group", extra=task_group)),
    ])
    names = ["group_only", "group_process", "task_wins", "alias_wins", "own_group_wins", "short_group",
             "task_level_group"]
    done, results = play.run(playbook(plays, names), {"stub_url": aws.endpoint_url, "closed_url": play.closed_url})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert results == {name: COMPLIANT for name in names}


def test_a_group_without_a_connection_option_of_ours_changes_nothing(aws, play):
    aws.user("alice", keys=1)
    defaults = ("    group/amazon.aws.aws:\n      endpoint_url: \"{{ stub_url }}\"\n      access_key: testing\n"
                "      secret_key: testing\n      debug_botocore_endpoint_logs: true\n      purge_tags: false\n")
    plays = a_play("Options of amazon.aws that our modules lack", defaults, task("Rotate", "unknown_left_out"))
    done, results = play.run(playbook(plays, ["unknown_left_out"]), {"stub_url": aws.endpoint_url})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert results == {"unknown_left_out": COMPLIANT}


def test_amazon_aws_modules_and_ours_share_one_group(aws, play, amazon_aws):
    if not amazon_aws[1]:
        pytest.skip("amazon.aws could not be had from the peer venv, the cache or PyPI")
    aws.user("alice", keys=1)
    caller = ("    - name: amazon.aws's own module\n      amazon.aws.aws_caller_info:\n      register: %s\n"
              "      ignore_errors: true\n")
    plays = "".join([
        a_play("group/amazon.aws.aws", AMAZON_GROUP % "stub_url", caller % "theirs" + task("Ours", "ours")),
        a_play("group/rotator.aws_iam.aws extends amazon.aws's",
               AMAZON_GROUP.replace("amazon.aws.aws", "rotator.aws_iam.aws") % "stub_url",
               caller % "theirs_in_ours" + task("Ours in ours", "ours_in_ours")),
    ])
    names = ["theirs", "ours", "theirs_in_ours", "ours_in_ours"]
    done, results = play.run(playbook(plays, names), {"stub_url": aws.endpoint_url})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    theirs = {"failed": False, "msg": "", "account_id": "123456789012", "status": ""}
    assert results == {"theirs": theirs, "ours": COMPLIANT, "theirs_in_ours": theirs, "ours_in_ours": COMPLIANT}


def test_without_amazon_aws_our_group_and_group_aws_still_work(aws, play_without_amazon_aws):
    aws.user("alice", keys=1)
    ours = "    group/rotator.aws_iam.aws:\n      endpoint_url: \"{{ stub_url }}\"\n      access_key: testing\n" \
           "      secret_key: testing\n"
    plays = (a_play("Our group that extends amazon.aws's", ours, task("Ours", "ours"))
             + a_play("ansible-core's group/aws", ours.replace("rotator.aws_iam.aws", "aws"), task("Short", "short")))
    done, results = play_without_amazon_aws.run(playbook(plays, ["ours", "short"]), {"stub_url": aws.endpoint_url})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert results == {"ours": COMPLIANT, "short": COMPLIANT}

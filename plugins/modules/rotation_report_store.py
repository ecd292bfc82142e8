#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rotation_report_store
short_description: Keep the audit report in a persistent place, a directory or an encrypted S3 bucket
version_added: 0.2.0
description:
  - Writes the files of the audit report (rendered by the report filters) into a directory of the controller or
    into an S3 bucket, and reads back the reports the slices of a sliced AWX job wrote there, for the merge. The
    role C(rotator.aws_iam.rotation_report) and the playbook C(rotator.aws_iam.report_merge) use it.
  - A directory is written the Ansible way, each file to a temporary file beside it and moved over it
    (C(atomic_move)), with the file common arguments; O(mode) is C(0640) unless set. Directories it creates get
    the same mode with search permission where there is read (C(0750)), and the files' O(owner) and O(group).
  - A directory inside an ansible-runner (AWX) job's own directories is refused before anything is written. AWX
    deletes them when the job ends, and they hold the job's credential. These are the artifacts directory
    E(AWX_ISOLATED_DATA_DIR), the private data directory above it and E(AWX_PRIVATE_DATA_DIR), and any directory
    holding ansible-runner's C(command) file or its C(env/) input files. Symbolic links are resolved, for the
    directory and for each file written into it (a run directory or a file that links into the job is refused).
  - An S3 object is written with server-side encryption (O(encryption)), and C(HeadObject) then checks that S3
    applied it; the S3 client uses the connection options, so the credential AWX injects
    (E(AWS_ACCESS_KEY_ID), E(AWS_SECRET_ACCESS_KEY), E(AWS_SECURITY_TOKEN)) or an assumed role is used.
  - Before anything is written (and with no O(files) at all, as a check of the destination alone) the directory is
    checked, or the bucket is listed under O(s3_prefix) (C(ListObjectsV2), one key).
  - Layout in the destination, under O(run) when given. V(report.json), V(users.csv), V(keys.csv) and
    V(report.html) are the report of a run. V(slices/<slice>/report.json) is the report of one slice of a
    sliced job, which O(read_slices) reads.
author:
  - Rotator maintainers (@rotator-aws-iam)
options:
  path:
    description:
      - The directory of the report on the controller; created when missing.
      - Mutually exclusive with O(s3_bucket); one of them is required.
    type: path
  s3_bucket:
    description:
      - The S3 bucket of the report.
    type: str
  s3_prefix:
    description:
      - The key prefix of the report's objects in O(s3_bucket); a leading or trailing C(/) is dropped, and parts are
        separated by one C(/), none of them C(.) or C(..).
    type: str
    default: ""
  encryption:
    description:
      - The server-side encryption of the S3 objects. C(AES256) is SSE-S3; C(aws:kms) is SSE-KMS, with
        O(kms_key_id) or else the account's AWS managed key C(aws/s3).
    type: str
    choices: [AES256, "aws:kms"]
    default: AES256
  kms_key_id:
    description:
      - The KMS key (id, ARN or alias) for O(encryption=aws:kms). C(HeadObject) names the key S3 used by its ARN, so
        an alias is resolved with C(kms:DescribeKey) to compare them.
    type: str
  run:
    description:
      - A sub-directory (a key prefix in S3) of the destination for this run, such as AWX's workflow job id; the
        files and the slices are under it.
    type: str
    default: ""
  files:
    description:
      - The files to write, as names relative to O(run) (parts separated by C(/), no C(..)) mapped to their text.
    type: dict
    default: {}
  read_slices:
    description:
      - Read the report of every slice of O(run) (C(slices/<slice>/report.json)) and return them in RV(slices).
    type: bool
    default: false
  mode:
    description:
      - The permissions of the files written into O(path), an octal mode such as C(0640). A symbolic mode is refused,
        because the mode of the directories it creates is made from the octal one.
    type: raw
    default: "0640"
extends_documentation_fragment:
  - ansible.builtin.files
  - rotator.aws_iam.connection
notes:
  - Supports check mode; nothing is written then, and C(changed) says whether files would be.
  - The report holds no secret; in S3 it needs C(s3:PutObject), C(s3:GetObject) and C(s3:ListBucket) on the prefix,
    and C(kms:GenerateDataKey) (and C(kms:Decrypt) to read) for C(aws:kms), and C(kms:DescribeKey) when
    O(kms_key_id) is an alias.
"""

EXAMPLES = r"""
- name: Keep the report in an encrypted S3 bucket
  rotator.aws_iam.rotation_report_store:
    s3_bucket: iam-reports
    s3_prefix: rotation
    run: "{{ awx_job_id }}"
    files:
      report.json: "{{ report | ansible.builtin.to_nice_json }}"
      report.html: "{{ report | rotator.aws_iam.report_html }}"

- name: Read the reports of the slices of a sliced job
  rotator.aws_iam.rotation_report_store:
    path: /srv/iam-reports
    run: "{{ rotator_report_run }}"
    read_slices: true
  register: stored
"""

RETURN = r"""
location:
  description: The destination of the run, as a path or an C(s3://bucket/key) URL.
  returned: always
  type: str
  sample: s3://iam-reports/rotation/4711
written:
  description: Where each file of O(files) was written (or would be, in check mode), in the order given.
  returned: always
  type: list
  elements: str
  sample: [s3://iam-reports/rotation/4711/report.json]
slices:
  description:
    - Slice name (the directory under C(slices/)) to its report, as read from its C(report.json).
  returned: when O(read_slices=true)
  type: dict
  sample: {"4712": {"accounts": []}}
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    CONNECTION_ARGSPEC,
    AWSConnectionError,
    connect,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.file import mode_bits
from ansible_collections.rotator.aws_iam.plugins.module_utils._report.store import (
    ENCRYPTIONS,
    SSE_KMS,
    DirectoryStore,
    ReportFileWriter,
    ReportStoreError,
    S3Store,
    directory_mode,
    joined,
    name_problem,
    slice_report_problem,
)


def argument_spec():
    spec = dict(CONNECTION_ARGSPEC)
    spec.update(
        path=dict(type="path"),
        s3_bucket=dict(type="str"),
        s3_prefix=dict(type="str", default=""),
        encryption=dict(type="str", choices=list(ENCRYPTIONS), default="AES256"),
        kms_key_id=dict(type="str"),
        run=dict(type="str", default=""),
        # Not secret, but the whole report: kept out of the task's logged arguments, as ansible.builtin.copy's content.
        files=dict(type="dict", default={}, no_log=True),
        read_slices=dict(type="bool", default=False),
        mode=dict(type="raw", default="0640"),
    )
    return spec


def mode_problem(mode):
    """Why ``mode`` is not an octal mode; the directories' mode is made from its bits, so a symbolic one cannot do."""
    try:
        bits = mode_bits(mode)
    except ValueError:
        bits = -1
    if not 0 <= bits <= 0o7777:
        return "mode %r is not an octal mode such as '0640'" % (mode,)
    return None


def input_errors(params):
    errors = []
    if params["path"] is not None and mode_problem(params["mode"]):
        errors.append(mode_problem(params["mode"]))
    if params["kms_key_id"] and params["encryption"] != SSE_KMS:
        errors.append("kms_key_id applies only to encryption aws:kms")
    # The slashes around the prefix are dropped; inside it, the rules of a name: no '..' (a key above the prefix to
    # whoever copies the bucket into a directory) and no empty part.
    prefix = (params["s3_prefix"] or "").strip("/")
    if prefix and name_problem(prefix):
        errors.append("s3_prefix: %s" % name_problem(prefix))
    if params["run"] and name_problem(params["run"]):
        errors.append("run: %s" % name_problem(params["run"]))
    errors.extend("files: %s" % name_problem(name) for name in params["files"] if name_problem(name))
    errors.extend("files: %s" % slice_report_problem(name) for name in params["files"]
                  if not name_problem(name) and slice_report_problem(name))
    errors.extend("files: %s is not text" % name for name, text in params["files"].items() if not isinstance(text, str))
    return errors


def store_for(module):
    """The store the parameters name; fails the module on a connection problem."""
    params = module.params
    if params["path"] is not None:
        writer = ReportFileWriter(module)
        return DirectoryStore(params["path"], writer, os.environ, dir_mode=directory_mode(mode_bits(params["mode"])),
                              directory_owner=writer.set_directory_owner)
    try:
        connection = connect(params)
    except AWSConnectionError as exc:
        module.fail_json(msg=str(exc), changed=False)
    return S3Store(connection.client("s3"), params["s3_bucket"], params["s3_prefix"], params["encryption"],
                   params["kms_key_id"], kms=connection.client("kms") if params["kms_key_id"] else None)


def parsed_slices(store, run):
    slices = {}
    for name, text in store.read_slices(run).items():
        try:
            slices[name] = json.loads(text)
        except ValueError as exc:
            raise ReportStoreError("the report of slice %s (%s) is not JSON: %s" % (
                name, store.location(joined(run, "slices", name, "report.json")), exc)) from None
    return slices


def main():
    module = AnsibleModule(argument_spec=argument_spec(), add_file_common_args=True, supports_check_mode=True,
                           mutually_exclusive=[("path", "s3_bucket")], required_one_of=[("path", "s3_bucket")])
    params = module.params
    errors = input_errors(params)
    if errors:
        module.fail_json(msg="; ".join(errors), changed=False)
    store = store_for(module)
    run = params["run"]
    # The run's directory too, so that the role's check before any account is read finds a link there.
    problem = store.problems(([run] if run else []) + [joined(run, name) for name in params["files"]])
    if problem:
        module.fail_json(msg=problem, changed=False)
    result = dict(changed=False, location=store.location(run),
                  written=[store.location(joined(run, name)) for name in params["files"]])
    try:
        if params["read_slices"]:
            result["slices"] = parsed_slices(store, run)
        for name, text in params["files"].items():
            write = store.would_change if module.check_mode else store.write
            changed = write(joined(run, name), text)
            result["changed"] = result["changed"] or changed
    except ReportStoreError as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

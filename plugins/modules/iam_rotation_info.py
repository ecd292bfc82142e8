#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: iam_rotation_info
short_description: Select the IAM users of an account and report their keys, passwords and what rotation would do now
version_added: 0.1.0
description:
  - Read only. Selects users by name or ARN, path prefix, tags or group membership, with exclusions
    (names, and an exemption tag), and reports for each one its access keys (status, age, last use),
    console access and password age, the rotation state the collection recorded, and what
    M(rotator.aws_iam.iam_access_key_rotate) and M(rotator.aws_iam.iam_password_rotate) would do now
    under the given policy.
  - Every list call paginates; the credential report is read at most once.
  - The users' tags (for O(tags), O(exempt_tag) and the recorded rotation state) come from
    C(GetAccountAuthorizationDetails), up to 1,000 users per call, whenever that takes fewer calls than one
    C(ListUserTags) per user.
author:
  - Rotator maintainers (@rotator-aws-iam)
options:
  users:
    description:
      - Only these users, by name or ARN, in this order. A user that does not exist makes the module fail.
      - Without it, every user under O(path_prefix).
    type: list
    elements: str
  path_prefix:
    description:
      - Only users whose IAM path starts with this.
    type: str
    default: /
  tags:
    description:
      - Only users that carry every one of these tags with these values.
    type: dict
    default: {}
  groups:
    description:
      - Only users that are members of at least one of these IAM groups.
    type: list
    elements: str
    default: []
  exclude_users:
    description:
      - Users never to select.
    type: list
    elements: str
    default: []
  exempt_tag:
    description:
      - Users carrying a tag with this key (any value) are exempt; they are reported in RV(exempted_users), not selected.
      - An empty string turns exemption off.
    type: str
    default: "rotator:exempt"
  include:
    description:
      - What to report on.
    type: list
    elements: str
    choices: [access_keys, password]
    default: [access_keys, password]
  rotate_after_days:
    description: As for M(rotator.aws_iam.iam_access_key_rotate).
    type: int
    default: 90
  deactivate_after_days:
    description: As for M(rotator.aws_iam.iam_access_key_rotate).
    type: int
    default: 7
  delete_after_days:
    description: As for M(rotator.aws_iam.iam_access_key_rotate).
    type: int
    default: 7
  in_use_guard:
    description: As for M(rotator.aws_iam.iam_access_key_rotate).
    type: bool
    default: true
  in_use_max_wait_days:
    description: As for M(rotator.aws_iam.iam_access_key_rotate).
    type: int
    default: 14
  password_rotate_after_days:
    description: O(rotator.aws_iam.iam_password_rotate#module:rotate_after_days).
    type: int
    default: 90
extends_documentation_fragment:
  - rotator.aws_iam.connection
notes:
  - Supports check mode; it changes nothing in any mode.
"""

EXAMPLES = r"""
- name: Users under /service/ tagged for rotation, except the break-glass one
  rotator.aws_iam.iam_rotation_info:
    path_prefix: /service/
    tags:
      rotation: enabled
    exclude_users: [break-glass]
  register: selection

- name: Rotate exactly those users, in one module call
  rotator.aws_iam.iam_access_key_rotate:
    users: "{{ selection.user_names }}"
  when: selection.user_names | length > 0
"""

RETURN = r"""
account_id:
  description: The account the users are in.
  returned: always
  type: str
  sample: "123456789012"
user_names:
  description: The names of the selected users.
  returned: always
  type: list
  elements: str
exempted_users:
  description: Users left out because they carry O(exempt_tag).
  returned: always
  type: list
  elements: str
users:
  description: One entry per selected user.
  returned: always
  type: list
  elements: dict
  contains:
    user_name:
      description: The user.
      type: str
      returned: always
    arn:
      description: The user's ARN.
      type: str
      returned: always
    access_keys:
      description: Keys with id, status, create_date, age_days and last_used_date.
      type: list
      elements: dict
      returned: when access_keys is in O(include)
    access_key_rotation:
      description:
        - C(status) is C(due) when a step is due now (C(due_actions) lists them), else what the rotation module
          would report (C(compliant), C(pending), C(waiting_for_consumers), C(failed)), or C(interrupted) when a
          run died while creating a key. C(next_action), C(next_action_at), C(message) and the recorded C(state).
      type: dict
      returned: when access_keys is in O(include)
    console_access:
      description: Whether the user has a console password (a login profile).
      type: bool
      returned: when password is in O(include)
    password_rotation:
      description: C(status) (C(compliant), C(due), C(no_console_access)), C(last_changed), C(last_changed_source)
        and C(next_rotation_at).
      type: dict
      returned: when password is in O(include)
"""

from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rotator.aws_iam.plugins.module_utils.access_key_planner import (
    FAILED,
    RotationPolicy,
    plan_access_key_rotation,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils.connection import CONNECTION_ARGSPEC
from ansible_collections.rotator.aws_iam.plugins.module_utils.iam_gateway import BULK_PAGE_SIZE, IAMGateway, RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils.password_planner import (
    PasswordFacts,
    PasswordRotationPolicy,
    needs_report,
    plan_password_rotation,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils.rotation_module import connect_checked, input_errors
from ansible_collections.rotator.aws_iam.plugins.module_utils.rotation_report import key_result
from ansible_collections.rotator.aws_iam.plugins.module_utils.rotation_state import (
    ACCESS_KEY_STATE_TAG,
    PASSWORD_STATE_TAG,
    StateFormatError,
    decode_password_state,
    decode_state,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils.user_selection import UserFilter, select_users

NON_NEGATIVE = ("rotate_after_days", "deactivate_after_days", "delete_after_days", "in_use_max_wait_days",
                "password_rotate_after_days")


def _iso(value):
    return value.isoformat() if value is not None else None


def access_key_report(gateway, user, tags, policy, now):
    keys = gateway.list_access_keys(user)
    report = {"access_keys": [dict(key_result(key), age_days=(now - key.create_date).days) for key in keys]}
    try:
        state = decode_state(tags.get(ACCESS_KEY_STATE_TAG))
    except StateFormatError as exc:
        report["access_key_rotation"] = {"status": FAILED, "message": str(exc)}
        return report
    rotation = {"state": {"new_key": state.new_key, "old_key": state.old_key, "verified": state.verified,
                          "rotated_at": _iso(state.rotated_at), "deactivated_at": _iso(state.deactivated_at)}}
    if state.creating is not None:
        rotation.update(status="interrupted", due_actions=[], message=(
            "a run stopped while creating a key; the next rotation run adopts or deletes it"))
    else:
        plan = plan_access_key_rotation(keys, state, policy, now)
        rotation.update(status="due" if plan.steps else plan.status,
                        due_actions=[step.action for step in plan.steps],
                        next_action=plan.next_action, next_action_at=_iso(plan.next_action_at), message=plan.message)
    report["access_key_rotation"] = rotation
    return report


def password_report(gateway, user, tags, policy, now, report_cache):
    profile = gateway.login_profile(user)
    facts = PasswordFacts(
        has_login_profile=profile is not None,
        profile_created=profile.get("CreateDate") if profile else None,
        recorded_rotation=decode_password_state(tags.get(PASSWORD_STATE_TAG)),
    )
    if needs_report(facts):
        if "changed" not in report_cache:
            report_cache["changed"] = gateway.password_last_changed()
        facts = PasswordFacts(facts.has_login_profile, facts.profile_created, facts.recorded_rotation,
                              report_cache["changed"].get(user))
    plan = plan_password_rotation(facts, policy, now)
    if not facts.has_login_profile:
        status = "no_console_access"
    else:
        status = "due" if plan.action else "compliant"
    return {"console_access": facts.has_login_profile,
            "password_rotation": {"status": status, "last_changed": _iso(plan.last_rotated),
                                  "last_changed_source": plan.age_source,
                                  "next_rotation_at": _iso(plan.next_rotation_at)}}


def main():
    spec = dict(CONNECTION_ARGSPEC)
    spec.update(
        users=dict(type="list", elements="str"),
        path_prefix=dict(type="str", default="/"),
        tags=dict(type="dict", default={}),
        groups=dict(type="list", elements="str", default=[]),
        exclude_users=dict(type="list", elements="str", default=[]),
        exempt_tag=dict(type="str", default="rotator:exempt"),
        include=dict(type="list", elements="str", choices=["access_keys", "password"],
                     default=["access_keys", "password"]),
        rotate_after_days=dict(type="int", default=90),
        deactivate_after_days=dict(type="int", default=7),
        delete_after_days=dict(type="int", default=7),
        in_use_guard=dict(type="bool", default=True),
        in_use_max_wait_days=dict(type="int", default=14),
        password_rotate_after_days=dict(type="int", default=90, no_log=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    errors = input_errors(module, NON_NEGATIVE, users=params["users"] or [], allow_empty=True)
    if not params["path_prefix"].startswith("/"):
        errors.append("path_prefix must start with /")
    connection, account_id, names = connect_checked(module, errors, params["users"] or [])
    gateway = IAMGateway(connection.client("iam"))
    user_filter = UserFilter(names=tuple(names), path_prefix=params["path_prefix"], tags=params["tags"],
                             groups=tuple(params["groups"]), exclude=tuple(params["exclude_users"]),
                             exempt_tag=params["exempt_tag"] or None)
    tags_cache = {}

    def tags_of(user):
        if user not in tags_cache:
            tags_cache[user] = gateway.user_tags(user)
        return tags_cache[user]

    def read_tags_in_bulk(candidates, users_in_path):
        # One page of GetAccountAuthorizationDetails holds the tags of up to 1,000 users: read them that way
        # whenever it takes fewer calls than one ListUserTags per candidate.
        pages = -(-max(users_in_path, 1) // BULK_PAGE_SIZE)
        if len(candidates) > pages and (user_filter.needs_tags or params["include"]):
            every = gateway.tags_of_every_user()
            tags_cache.update((name, every.get(name, {})) for name in candidates)

    now = datetime.now(timezone.utc)
    key_policy = RotationPolicy(params["rotate_after_days"], params["deactivate_after_days"],
                                params["delete_after_days"], False, params["in_use_guard"],
                                params["in_use_max_wait_days"])
    password_policy = PasswordRotationPolicy(rotate_after_days=params["password_rotate_after_days"])
    try:
        all_users = gateway.users(params["path_prefix"])
        members = None
        if user_filter.groups:
            members = set()
            for group in user_filter.groups:
                members.update(gateway.group_members(group))
        read_tags_in_bulk(user_filter.names or [user["UserName"] for user in all_users], len(all_users))
        selection = select_users(all_users, user_filter, tags_of, members)
        if selection.missing:
            module.fail_json(msg="users not found under path %s: %s" % (params["path_prefix"], ", ".join(selection.missing)))
        arns = {user["UserName"]: user for user in all_users}
        reports, report_cache = [], {}
        for name in selection.selected:
            entry = {"user_name": name, "arn": arns[name]["Arn"], "path": arns[name]["Path"]}
            if "access_keys" in params["include"]:
                entry.update(access_key_report(gateway, name, tags_of(name), key_policy, now))
            if "password" in params["include"]:
                entry.update(password_report(gateway, name, tags_of(name), password_policy, now, report_cache))
            reports.append(entry)
    except (RotationError, StateFormatError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, account_id=account_id, user_names=selection.selected,
                     exempted_users=selection.exempted, users=reports)


if __name__ == "__main__":
    main()

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
    C(ListUserTags) per user. A user that answer lacks (created since, not yet consistent) is looked up with
    C(ListUserTags); it is never taken as untagged.
  - The selection fails closed. A named user that does not exist or is not under O(path_prefix), and a user
    whose tags are needed but cannot be read, is neither selected (as if it were not exempt) nor left out
    (as if it were exempt). It is reported in RV(unresolved_users) with the reason, after every other user is
    selected. See O(fail_on_unresolved_users).
author:
  - Rotator maintainers (@rotator-aws-iam)
options:
  users:
    description:
      - Only these users, by name or ARN, in this order. A user that does not exist is reported in
        RV(unresolved_users) (C(user NAME does not exist)); the others are selected.
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
      - The key of the exemption tag, whose value is C(until=YYYY-MM-DD reason=<text>) (words separated by spaces),
        for example C(until=2027-03-31 reason=SEC-123).
      - A user whose exemption has not ended (the end date is a UTC day, included) is exempt; it is reported in
        RV(exempted_users), not selected.
      - A user whose exemption has expired or whose value is malformed (no C(until=), a day that does not exist, an
        unknown field, a bare value such as C(true)) is selected as if it carried no tag, and the module warns.
      - Every exemption, with its state, end date, days left and reason, is in RV(exemptions).
      - An empty string turns exemption off. Anything else must be a valid IAM tag key.
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
  deactivate_in_use:
    description:
      - As for M(rotator.aws_iam.iam_access_key_rotate). Give the value the rotation uses, so an old key still in use
        after O(in_use_max_wait_days) is shown as the rotation treats it (retiring and due, or kept active).
    type: bool
    default: false
  password_rotate_after_days:
    description: O(rotator.aws_iam.iam_password_rotate#module:rotate_after_days).
    type: int
    default: 90
  fail_on_unresolved_users:
    description:
      - When V(true), the module fails if RV(unresolved_users) is not empty, naming each such user and why;
        it still returns the whole selection.
      - When V(false), it succeeds and only returns them, so a play can rotate the users that were selected and
        fail for the others afterwards, as the roles C(access_key_rotation) and C(password_rotation) do.
    type: bool
    default: true
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

- name: Select named users; rotate those that exist, then fail for the others
  rotator.aws_iam.iam_rotation_info:
    users: [alice, bob, carol]
    include: []
    fail_on_unresolved_users: false
  register: named

- name: Rotate the users that were found
  rotator.aws_iam.iam_access_key_rotate:
    users: "{{ named.user_names }}"
  when: named.user_names | length > 0

- name: Fail for the users that were not
  ansible.builtin.fail:
    msg: "{{ named.unresolved_users | map(attribute='msg') | join('; ') }}"
  when: named.unresolved_users | length > 0
"""

RETURN = r"""
account_id:
  description: The account the users are in.
  returned: always
  type: str
  sample: "123456789012"
caller_arn:
  description:
    - The identity the account was read as (STS C(GetCallerIdentity)); with O(assume_role_arn), the assumed role's
      session.
  returned: always
  type: str
  sample: arn:aws:sts::123456789012:assumed-role/rotator/rotator-aws-iam
scope:
  description: Which users were asked for, as the selection options were given (after their defaults).
  returned: always
  type: dict
  contains:
    users:
      description: The users named in O(users) (ARNs as names); empty when every user under O(path_prefix) is chosen.
      type: list
      elements: str
      returned: always
      sample: []
    path_prefix:
      description: O(path_prefix).
      type: str
      returned: always
      sample: /service/
    tags:
      description: O(tags).
      type: dict
      returned: always
      sample: {"rotation": "enabled"}
    groups:
      description: O(groups).
      type: list
      elements: str
      returned: always
      sample: [deployers]
    exclude_users:
      description: O(exclude_users).
      type: list
      elements: str
      returned: always
      sample: [break-glass]
    exempt_tag:
      description: O(exempt_tag); null when exemption is off.
      type: str
      returned: always
      sample: "rotator:exempt"
user_names:
  description: The names of the selected users.
  returned: always
  type: list
  elements: str
  sample: [alice, ci-deployer]
exempted_users:
  description: Users left out because their O(exempt_tag) holds an end date that has not passed.
  returned: always
  type: list
  elements: str
  sample: [break-glass]
exemptions:
  description:
    - Every chosen user that carries O(exempt_tag), in the order of the users, with the state of its exemption.
    - Only an C(active) exemption leaves its user out; a user whose exemption is C(expired) or C(malformed) is in
      RV(user_names).
  returned: always
  type: list
  elements: dict
  sample: [{user: break-glass, state: active, until: "2027-03-31", days_left: 120, reason: SEC-123,
            msg: "exempt until 2027-03-31 (120 days left): SEC-123"}]
  contains:
    user:
      description: The user.
      type: str
      returned: always
      sample: break-glass
    state:
      description:
        - C(active) (the end date has not passed), C(expired) (it has), or C(malformed) (the tag's value is not
          C(until=YYYY-MM-DD reason=<text>)).
      type: str
      returned: always
      sample: active
    until:
      description: The last day of the exemption (UTC, included); null when the value is malformed.
      type: str
      returned: always
      sample: "2027-03-31"
    days_left:
      description:
        - Days from today (UTC) to the last day; V(0) on the last day, negative once it has passed, null when the
          value is malformed.
      type: int
      returned: always
      sample: 120
    reason:
      description: The reason the tag gives; null when it gives none.
      type: str
      returned: always
      sample: SEC-123
    msg:
      description: The exemption in words, and for a malformed one what is wrong with it.
      type: str
      returned: always
      sample: "exempt until 2027-03-31 (120 days left): SEC-123"
unresolved_users:
  description:
    - Users the selection could neither pick nor leave out.
    - First named users that do not exist or are not under O(path_prefix), then users whose tags could not be read.
      None of them is in RV(user_names) or RV(exempted_users).
  returned: always
  type: list
  elements: dict
  contains:
    user_name:
      description: The user.
      type: str
      returned: always
      sample: ghost
    msg:
      description: Why it was neither selected nor left out.
      type: str
      returned: always
      sample: user ghost does not exist
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
      sample: alice
    arn:
      description: The user's ARN.
      type: str
      returned: always
      sample: arn:aws:iam::123456789012:user/service/alice
    path:
      description: The user's IAM path.
      type: str
      returned: always
      sample: /service/
    access_keys:
      description: The user's access keys.
      type: list
      elements: dict
      returned: when access_keys is in O(include)
      contains:
        access_key_id:
          description: The key.
          type: str
          returned: always
          sample: AKIAIOSFODNN7EXAMPLE
        status:
          description: C(Active) or C(Inactive).
          type: str
          returned: always
          sample: Active
        create_date:
          description: When IAM created it.
          type: str
          returned: always
          sample: "2025-06-01T11:00:00+00:00"
        age_days:
          description: Whole days since it was created.
          type: int
          returned: always
          sample: 120
        last_used_date:
          description: When it last signed a request (C(GetAccessKeyLastUsed)); null if never.
          type: str
          returned: always
          sample: "2025-06-01T11:00:03+00:00"
        last_used_service:
          description:
            - The service of that last use (C(sts), C(s3)...); null if never used.
            - A new key's last use by C(sts) within minutes of its creation is the rotation's own verification
              (C(GetCallerIdentity)), not a consumer's use; the report tells them apart.
          type: str
          returned: always
          sample: sts
        last_used_region:
          description: The region of that last use (C(GetAccessKeyLastUsed)); null if never used.
          type: str
          returned: always
          sample: us-east-1
        retiring:
          description:
            - Set on the old key of a rotation whose new key is active and verified, until the old key is deleted;
              null on every other key. Its age no longer matters.
            - Null on an active old key that the rotation will not deactivate (its consumers still use it after
              O(in_use_max_wait_days)) and on the key an incident replaced while it is still active (its
              deactivation is due now).
          type: dict
          returned: always
          contains:
            replaced_by:
              description: The key that replaces it.
              type: str
              returned: always
              sample: AKIAI44QH8DHBEXAMPLE
            deactivate_at:
              description:
                - When it is to be deactivated (O(deactivate_after_days) after the new key was created, or later while
                  its consumers still use it); null once it is inactive.
              type: str
              returned: always
              sample: "2025-06-08T11:00:00+00:00"
            deactivated_at:
              description: When the rotation recorded it inactive; null while it is active.
              type: str
              returned: always
              sample: null
            delete_at:
              description:
                - When it is to be deleted (O(delete_after_days) after its deactivation); null for a key found
                  inactive that the rotation did not deactivate, whose deletion the next rotation run dates.
              type: str
              returned: always
              sample: "2025-06-15T11:00:00+00:00"
    access_key_rotation:
      description: What M(rotator.aws_iam.iam_access_key_rotate) would do now.
      type: dict
      returned: when access_keys is in O(include)
      contains:
        status:
          description:
            - C(due) when a step is due now (RV(users[].access_key_rotation.due_actions) lists them), else what the
              rotation module would report (C(compliant), C(pending), C(waiting_for_consumers), C(failed)), or
              C(interrupted) when a run died while creating a key.
          type: str
          returned: always
          sample: pending
        due_actions:
          description: The steps due now (C(create), C(verify), C(deactivate), C(delete), ...).
          type: list
          elements: str
          returned: unless the rotation state cannot be read
          sample: []
        next_action:
          description: The next step when none is due now.
          type: str
          returned: unless the rotation state cannot be read or a run was interrupted
          sample: deactivate
        next_action_at:
          description: When that step is due.
          type: str
          returned: unless the rotation state cannot be read or a run was interrupted
          sample: "2025-06-08T11:00:00+00:00"
        message:
          description: Why, when the status needs explaining.
          type: str
          returned: always
          sample: ""
        hold:
          description:
            - "While a restore (O(rotator.aws_iam.iam_access_key_rotate#module:restore)) holds the retirement of the
              old key (the status is then C(held)): which key, since when, and who restored it and why, as the tag
              C(rotator:restore) records them (null when that tag is missing or unreadable). Null when no restore
              holds it."
          type: dict
          returned: unless the rotation state cannot be read
          sample: {old_key: AKIAIOSFODNN7EXAMPLE, restored_at: "2025-06-03T08:00:00+00:00", by: oncall@example.com,
                   reason: SEC-42 billing job still on the old key}
          contains:
            old_key:
              description: The old key the restore reactivated.
              type: str
              sample: AKIAIOSFODNN7EXAMPLE
            restored_at:
              description: When the restore recorded the hold.
              type: str
              sample: "2025-06-03T08:00:00+00:00"
            by:
              description: Who restored it (O(rotator.aws_iam.iam_access_key_rotate#module:restore.by)).
              type: str
              sample: oncall@example.com
            reason:
              description: Why (O(rotator.aws_iam.iam_access_key_rotate#module:restore.reason)).
              type: str
              sample: SEC-42 billing job still on the old key
        state:
          description: The rotation state the collection recorded on the user (tag C(rotator:access-key-rotation)).
          type: dict
          returned: unless the rotation state cannot be read
          contains:
            new_key:
              description: The key the last rotation created.
              type: str
              sample: AKIAI44QH8DHBEXAMPLE
            old_key:
              description: The key it replaces, until that key is deleted.
              type: str
              sample: AKIAIOSFODNN7EXAMPLE
            verified:
              description: Whether the new key was verified with STS C(GetCallerIdentity).
              type: bool
              sample: true
            rotated_at:
              description: When the rotation started.
              type: str
              sample: "2025-06-01T11:00:00+00:00"
            deactivated_at:
              description: When the rotation deactivated the old key.
              type: str
              sample: null
    console_access:
      description: Whether the user has a console password (a login profile).
      type: bool
      returned: when password is in O(include)
      sample: true
    password_rotation:
      description: What M(rotator.aws_iam.iam_password_rotate) would do now.
      type: dict
      returned: when password is in O(include)
      contains:
        status:
          description: C(compliant), C(due) or C(no_console_access).
          type: str
          returned: always
          sample: compliant
        last_changed:
          description: When the password was last changed; null when it cannot be told.
          type: str
          returned: always
          sample: "2025-06-01T11:00:00+00:00"
        last_changed_source:
          description: Where that comes from, C(recorded) (the rotation state), C(credential_report) or C(login_profile).
          type: str
          returned: always
          sample: recorded
        next_rotation_at:
          description: When the password is next due.
          type: str
          returned: always
          sample: "2025-08-30T11:00:00+00:00"
"""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import (
    ACTIVE,
    DEACTIVATE,
    FAILED,
    RotationPolicy,
    plan_access_key_rotation,
    run_targets,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import CONNECTION_ARGSPEC
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError, call
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.planner import (
    PasswordFacts,
    PasswordRotationPolicy,
    needs_report,
    plan_password_rotation,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.module import (
    connect_checked,
    input_errors,
    warn_lapsed_exemptions,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.results import key_result
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.way_back import RESTORE_TAG, decode_restore
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    StateFormatError,
    decode_state,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.state_tag import (
    PASSWORD_STATE_TAG,
    decode_password_state,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.times import iso
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.selection import UserFilter, select_in_account

NON_NEGATIVE = ("rotate_after_days", "deactivate_after_days", "delete_after_days", "in_use_max_wait_days",
                "password_rotate_after_days")


# GetAccessKeyLastUsed's ServiceName and Region for a key that was never used.
NOT_USED = "N/A"


def last_uses(gateway, keys):
    """The keys with their last use, and {key id: {service, region} of that use (None each if never used)}.

    GetAccessKeyLastUsed answers with the service too: the report tells the rotation's own STS verification
    call from a consumer's use by it, and says where a waiting or held old key is still used.
    """
    used, places = [], {}
    for key in keys:
        answer = call("reading last use of %s" % key.access_key_id, gateway.iam.get_access_key_last_used,
                      AccessKeyId=key.access_key_id).get("AccessKeyLastUsed", {})
        places[key.access_key_id] = {name: answer.get(field) if answer.get(field) not in (None, NOT_USED) else None
                                     for name, field in (("service", "ServiceName"), ("region", "Region"))}
        used.append(replace(key, last_used_date=answer.get("LastUsedDate")))
    return used, places


def _key_named(keys, key_id):
    return next((key for key in keys if key_id and key.access_key_id == key_id), None)


def _deactivation_scheduled(old, plan):
    """Whether the plan deactivates the active ``old`` key now or names the day it will."""
    due = any(step.action == DEACTIVATE and step.access_key_id == old.access_key_id for step in plan.steps)
    return due or (plan.next_action == DEACTIVATE and plan.next_action_at is not None)


def retirement(keys, state, policy, plan, revoke=frozenset()):
    """{old key id: its retirement} while a verified rotation retires it: the new key is active and works.

    ``deactivate_at`` is when the old key is to be deactivated (the in-use guard may put it off: the plan's date
    then), ``delete_at`` when it is to be deleted, ``deactivated_at`` when the collection recorded it inactive.
    An old key found inactive that the collection did not deactivate has its deletion dated by the next run.
    An active old key is not retiring when no deactivation is planned (the in-use guard gave up waiting and
    keeps it active), nor when it is in ``revoke`` (an incident's key: it has no grace period and is due now).
    """
    new, old = _key_named(keys, state.new_key), _key_named(keys, state.old_key)
    if state.creating is not None or not state.verified or new is None or new.status != ACTIVE or old in (None, new):
        return {}
    if old.status == ACTIVE and (old.access_key_id in revoke or not _deactivation_scheduled(old, plan)):
        return {}
    delete_after = timedelta(days=max(policy.delete_after_days, 0))
    if old.status == ACTIVE:
        deactivate_at = new.create_date + timedelta(days=max(policy.deactivate_after_days, 0))
        if plan.next_action == DEACTIVATE and plan.next_action_at is not None:
            deactivate_at = plan.next_action_at
        dates = dict(deactivate_at=iso(deactivate_at), deactivated_at=None, delete_at=iso(deactivate_at + delete_after))
    else:
        deactivated = state.deactivated_at
        dates = dict(deactivate_at=None, deactivated_at=iso(deactivated),
                     delete_at=iso(deactivated + delete_after) if deactivated else None)
    return {old.access_key_id: dict(replaced_by=new.access_key_id, **dates)}


def _key_entries(keys, places, retiring, now):
    unknown = {"service": None, "region": None}
    return [dict(key_result(key), age_days=(now - key.create_date).days,
                 last_used_service=places.get(key.access_key_id, unknown)["service"],
                 last_used_region=places.get(key.access_key_id, unknown)["region"],
                 retiring=retiring.get(key.access_key_id)) for key in keys]


def restore_hold(state, tags):
    """Which old key a restore holds, since when, and who restored it and why; None when no restore holds one."""
    if state.restored_at is None:
        return None
    recorded = decode_restore(tags.get(RESTORE_TAG)) or {}
    return {"old_key": state.old_key, "restored_at": iso(state.restored_at),
            "by": recorded.get("by"), "reason": recorded.get("reason")}


def access_key_report(gateway, user, tags, policy, now):
    keys, places = last_uses(gateway, gateway.list_access_keys(user, with_last_used=False))
    try:
        state = decode_state(tags.get(ACCESS_KEY_STATE_TAG))
    except StateFormatError as exc:
        return {"access_keys": _key_entries(keys, places, {}, now),
                "access_key_rotation": {"status": FAILED, "message": str(exc)}}
    rotation = {"state": {"new_key": state.new_key, "old_key": state.old_key, "verified": state.verified,
                          "rotated_at": iso(state.rotated_at), "deactivated_at": iso(state.deactivated_at)},
                "hold": restore_hold(state, tags)}
    retiring = {}
    if state.creating is not None:
        rotation.update(status="interrupted", due_actions=[], message=(
            "a run stopped while creating a key; the next rotation run adopts or deletes it"))
    else:
        # As the rotation's next run would plan: the key an incident replaced is revoked while it is active.
        replace, revoke = run_targets(keys, policy, state, now)
        plan = plan_access_key_rotation(keys, state, policy, now, replace=replace, revoke=revoke)
        rotation.update(status="due" if plan.steps else plan.status,
                        due_actions=[step.action for step in plan.steps],
                        next_action=plan.next_action, next_action_at=iso(plan.next_action_at), message=plan.message)
        retiring = retirement(keys, state, policy, plan, revoke)
    return {"access_keys": _key_entries(keys, places, retiring, now), "access_key_rotation": rotation}


def read_password_last_changed(gateway, check_mode, warnings):
    """password_last_changed per user from the credential report; {} with a warning when it cannot be read.

    Check mode reads only an existing report: GenerateCredentialReport is a write.
    """
    try:
        changed = gateway.password_last_changed(generate=not check_mode)
    except RotationError as exc:
        warnings.append("%s; password ages come from the recorded rotation or the login profile" % exc)
        return {}
    if changed is None:
        warnings.append("no credential report exists (check mode does not generate one); password ages come from "
                        "the recorded rotation or the login profile")
        return {}
    return changed


def password_report(gateway, user, tags, policy, now, report_cache):
    profile = gateway.login_profile(user)
    facts = PasswordFacts(
        has_login_profile=profile is not None,
        profile_created=profile.get("CreateDate") if profile else None,
        recorded_rotation=decode_password_state(tags.get(PASSWORD_STATE_TAG)),
    )
    if needs_report(facts):
        if "changed" not in report_cache:
            report_cache["changed"] = read_password_last_changed(gateway, report_cache.get("check_mode", False),
                                                                 report_cache.setdefault("warnings", []))
        facts = PasswordFacts(facts.has_login_profile, facts.profile_created, facts.recorded_rotation,
                              report_cache["changed"].get(user))
    plan = plan_password_rotation(facts, policy, now)
    if not facts.has_login_profile:
        status = "no_console_access"
    else:
        status = "due" if plan.action else "compliant"
    return {"console_access": facts.has_login_profile,
            "password_rotation": {"status": status, "last_changed": iso(plan.last_rotated),
                                  "last_changed_source": plan.age_source,
                                  "next_rotation_at": iso(plan.next_rotation_at)}}


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
        deactivate_in_use=dict(type="bool", default=False),
        password_rotate_after_days=dict(type="int", default=90, no_log=False),
        fail_on_unresolved_users=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    errors = input_errors(module, NON_NEGATIVE, users=params["users"] or [], allow_empty=True)
    connection, account_id, names = connect_checked(module, errors, params["users"] or [])
    gateway = IAMGateway(connection.client("iam"))
    user_filter = UserFilter.from_params(names, params)

    scope = {"users": names, "path_prefix": user_filter.path_prefix, "tags": dict(user_filter.tags),
             "groups": list(user_filter.groups), "exclude_users": list(user_filter.exclude),
             "exempt_tag": user_filter.exempt_tag}
    now = datetime.now(timezone.utc)
    key_policy = RotationPolicy(params["rotate_after_days"], params["deactivate_after_days"],
                                params["delete_after_days"], False, params["in_use_guard"],
                                params["in_use_max_wait_days"], params["deactivate_in_use"])
    password_policy = PasswordRotationPolicy(rotate_after_days=params["password_rotate_after_days"])
    try:
        found = select_in_account(gateway, user_filter, read_tags=bool(params["include"]), now=now)
        all_users, selection, unresolved, tags_of = found.users, found.selection, found.unresolved, found.tags_of
        arns = {user["UserName"]: user for user in all_users}
        reports, report_cache = [], {"check_mode": module.check_mode}
        for name in selection.selected:
            entry = {"user_name": name, "arn": arns[name]["Arn"], "path": arns[name]["Path"]}
            if "access_keys" in params["include"]:
                entry.update(access_key_report(gateway, name, tags_of(name), key_policy, now))
            if "password" in params["include"]:
                entry.update(password_report(gateway, name, tags_of(name), password_policy, now, report_cache))
            reports.append(entry)
    except (RotationError, StateFormatError) as exc:
        module.fail_json(msg=str(exc), account_id=account_id, caller_arn=connection.identity()["Arn"], scope=scope)
    warn_lapsed_exemptions(module, selection.exemptions)
    for warning in report_cache.get("warnings", []):
        module.warn(warning)
    result = dict(changed=False, account_id=account_id, caller_arn=connection.identity()["Arn"], scope=scope,
                  user_names=selection.selected, exempted_users=selection.exempted,
                  exemptions=[exemption.as_result() for exemption in selection.exemptions],
                  unresolved_users=unresolved, users=reports)
    if unresolved and params["fail_on_unresolved_users"]:
        module.fail_json(msg="user selection failed for %s" % "; ".join(
            "%s: %s" % (entry["user_name"], entry["msg"]) for entry in unresolved), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: iam_password_rotate
short_description: Rotate the console passwords of IAM users, honouring the account's password policy
version_added: 0.1.0
description:
  - For each user whose console password is older than O(rotate_after_days) (or with O(force)), generates a password
    that satisfies the account's password policy (AWS's default policy when the account has none), stores it in
    O(secret) as pending, sets it with C(UpdateLoginProfile), makes it the current value of the destination,
    and records the rotation time as the user tag C(rotator:password-rotation).
  - The age comes from that tag; without it, from the later of the credential report's C(password_last_changed)
    and the login profile's creation date. The current password was set at or after both; the report may be hours
    old and a change after it was generated is not in it, so it can only make a password look older, never younger.
    When the report cannot be read (or, in check mode, none exists) the login profile's date is used, with a warning.
  - The pending value is dropped only when IAM answers that it did not take the password (for example
    C(PasswordPolicyViolation), C(AccessDenied), C(NoSuchEntity)); the previous value then stays current.
    When the outcome is unknown (the answer lost after IAM applied the call, a 5xx, throttling past O(max_attempts))
    the user fails with a message that says so, and the pending value is kept. A run that dies between the steps
    also leaves a pending value.
  - A run that finds a pending value sets that same password again (IAM has no call that checks or returns a
    password, so this is how the run learns for certain that IAM holds it), then makes it current. If IAM refuses it
    as a reuse under the account's C(PasswordReusePrevention) although it meets every other rule, an earlier run
    had set it, and it is made current with a warning. Any other refusal keeps the pending value and fails the user,
    saying that IAM holds either the pending or the current password.
  - The account's C(MaxPasswordAge) must be above O(rotate_after_days), else passwords expire before they are
    rotated. With C(HardExpiry) that locks users out, so the module fails before changing anything; without it,
    it warns (users would choose a new password at sign-in, which the secret destination does not hold).
  - A user at IAM's quota of 50 tags, none of them C(rotator:password-rotation), fails before anything changes,
    because the rotation time could not be recorded, and every run would rotate the password again.
  - A user without console access (no login profile) fails with a clear message unless O(create_login_profile=true).
  - A failure for one user does not stop the others; the module fails at the end and names the users that failed.
  - Users are handled O(concurrency) at a time, in threads sharing one set of clients; the results keep the order
    of O(users).
  - The password never appears in the output, unless O(return_secret) is set on a task with C(no_log).
author:
  - Rotator maintainers (@rotator-aws-iam)
options:
  user_name:
    description:
      - The IAM user whose password to rotate, by name or by ARN (C(arn:aws:iam::123456789012:user/path/Name)),
        as a vault record's distinguished name.
      - An ARN must be in the account the credentials (or O(assume_role_arn)) are for.
      - At most one of O(user_name) and O(users); without either, O(path_prefix), O(tags) or O(groups) chooses
        the users.
    type: str
  users:
    description:
      - The IAM users whose passwords to rotate, by name or ARN, each handled on its own.
    type: list
    elements: str
  skip_without_console:
    description:
      - Users without a console password (no login profile) are not handled, only named in
        RV(selection.without_console). For a choice by path, tag or group that includes users who never sign in.
      - Without it, such a user fails unless O(create_login_profile) is set.
    type: bool
    default: false
  rotate_after_days:
    description:
      - Age of the console password, in days, that makes a rotation due. V(0) rotates on every run.
    type: int
    default: 90
  force:
    description:
      - Rotate now, whatever the age.
    type: bool
    default: false
  password_length:
    description:
      - Length of the new password, from the account's minimum to 128.
      - Defaults to the larger of 20 and the account's minimum length.
    type: int
  password_require:
    description:
      - Character classes every password must contain, in addition to those the account policy requires.
    type: list
    elements: str
    choices: [uppercase, lowercase, numbers, symbols]
    default: []
  password_exclude_characters:
    description:
      - Characters never to use.
    type: str
    default: ""
  password_exclude_ambiguous:
    description:
      - Leave out characters that are easy to misread (C(I l 1 O 0 o | ' `)).
    type: bool
    default: false
  password_exclude_shell_special:
    description:
      - Leave out characters a shell or a configuration file treats specially.
    type: bool
    default: false
  create_login_profile:
    description:
      - Give a user without console access a console password. Without this, such a user fails.
    type: bool
    default: false
  password_reset_required:
    description:
      - Whether the user must choose a new password at the next sign-in.
      - Usually V(false), since the secret destination holds the password.
    type: bool
    default: false
  secret:
    description:
      - Where the new password is stored, as JSON C({"UserName", "Password", "AccountId", "SignInUrl"})
        or, for O(secret.format=csv), as the console's CSV (C(User name,Password,Console sign-in URL)).
        O(secret.format=credentials) does not apply to passwords.
      - O(secret.name) defaults to C(rotator/{account_id}/{user_name}/console-password) for V(secretsmanager)
        and C(/rotator/{account_id}/{user_name}/console-password) for V(ssm).
      - In O(secret.name) and O(secret.path), C({user_name}) and C({account_id}) are replaced.
      - The password is first stored as pending and made current once IAM holds it (see O(secret.type)).
  return_secret:
    description:
      - Put the new password in the result, as RV(users[].new_password).
      - Requires C(no_log) on the task.
    type: bool
    default: false
extends_documentation_fragment:
  - rotator.aws_iam.connection
  - rotator.aws_iam.rotation
  - rotator.aws_iam.secret
  - rotator.aws_iam.selection
notes:
  - Supports check mode, which reports the users a real run would rotate, and diff mode, which shows when each
    password last changed and where the new one goes, never a password.
  - Check mode calls no API that changes anything. It reads an existing credential report
    (C(GetCredentialReport)) but never generates one.
"""

EXAMPLES = r"""
- name: Rotate console passwords older than 90 days into Secrets Manager
  rotator.aws_iam.iam_password_rotate:
    users:
      - arn:aws:iam::123456789012:user/ops/alice
      - bob

- name: Rotate on demand, with a long password without shell-special characters, into a vault file
  rotator.aws_iam.iam_password_rotate:
    user_name: break-glass
    force: true
    password_length: 40
    password_exclude_shell_special: true
    secret:
      type: file
      path: /srv/vault/{account_id}-{user_name}.json

- name: Give a new user console access
  rotator.aws_iam.iam_password_rotate:
    user_name: new-analyst
    create_login_profile: true
    password_reset_required: true
"""

RETURN = r"""
account_id:
  description: The account the users are in.
  returned: always
  type: str
  sample: "123456789012"
selection:
  description: How the users were chosen. Without selection options, the named users are all selected.
  returned: always
  type: dict
  sample:
    selected: [ci-deployer, backup-agent]
    exempted_users: [break-glass]
    unresolved_users: [{user_name: ghost, msg: user ghost does not exist}]
    without_console: [service-account]
    exemptions: [{user: break-glass, state: active, until: "2027-03-31", days_left: 120, reason: SEC-123,
                  msg: "exempt until 2027-03-31 (120 days left): SEC-123"}]
  contains:
    selected:
      description: The users handled, in order.
      type: list
      elements: str
      returned: always
      sample: [ci-deployer, backup-agent]
    exempted_users:
      description: Users left alone because their O(exempt_tag) holds an end date that has not passed.
      type: list
      elements: str
      returned: always
      sample: [break-glass]
    unresolved_users:
      description: Named users that do not exist, and users whose tags could not be read; each fails the call
        at the end unless O(fail_on_unresolved_users=false).
      type: list
      elements: dict
      returned: always
      sample: [{user_name: ghost, msg: user ghost does not exist}]
      contains:
        user_name:
          description: The user.
          type: str
          returned: always
          sample: ghost
        msg:
          description: Why it was not handled.
          type: str
          returned: always
          sample: user ghost does not exist
    without_console:
      description: Users without a console password, skipped because of O(skip_without_console) (passwords only).
      type: list
      elements: str
      returned: always
      sample: [service-account]
    exemptions:
      description:
        - Every chosen user that carries O(exempt_tag), in the order of the users, with the state of its exemption.
        - Only an C(active) exemption leaves its user alone; a user whose exemption is C(expired) or C(malformed) is
          rotated as usual, and the module warns about it.
      type: list
      elements: dict
      returned: when the users are chosen from the account (any selection option)
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
users:
  description: One entry per user, in the order given.
  returned: always
  type: list
  elements: dict
  sample:
    - user_name: alice
      status: rotated
      changed: true
      actions: [{action: store_pending}, {action: update_login_profile}, {action: promote}, {action: record}]
      login_profile: true
      last_rotated: "2026-08-01T09:00:00+00:00"
      last_rotated_source: recorded
      rotated_at: "2026-11-23T10:00:00+00:00"
      secret: {type: secretsmanager, name: rotator/123456789012/alice/console-password, region: us-east-1}
      warnings: []
  contains:
    user_name:
      description: The user.
      type: str
      returned: always
      sample: alice
    status:
      description: C(compliant) nothing is due; C(rotated) the password was changed; C(created) a login profile was
        created; C(failed) see RV(users[].msg).
      type: str
      returned: always
      sample: rotated
    changed:
      description: Whether this user changed.
      type: bool
      returned: always
      sample: true
    actions:
      description: What was done, in order. A run that sets a pending password again has no V(store_pending).
      type: list
      elements: dict
      returned: always
      sample: [{action: store_pending}, {action: update_login_profile}, {action: promote}, {action: record}]
      contains:
        action:
          description:
            - V(store_pending) the new password was stored as pending in the destination;
              V(update_login_profile) or V(create_login_profile) it was set in IAM; V(promote) the destination's
              pending value became its current one; V(record) the rotation time was tagged on the user.
          type: str
          returned: always
          sample: update_login_profile
    login_profile:
      description: Whether the user has console access after the run.
      type: bool
      returned: always
      sample: true
    last_rotated:
      description: When the password last changed before this run (ISO 8601), as far as known.
      type: str
      returned: always
      sample: "2026-08-01T09:00:00+00:00"
    last_rotated_source:
      description: Where RV(users[].last_rotated) comes from (recorded, credential_report, login_profile).
      type: str
      returned: always
      sample: recorded
    rotated_at:
      description: When this run set the password.
      type: str
      returned: when rotated
      sample: "2026-11-23T10:00:00+00:00"
    next_rotation_at:
      description: When the password will be due.
      type: str
      returned: when nothing is due
      sample: "2027-02-21T10:00:00+00:00"
    secret:
      description: Where the password is stored. Never the password.
      type: dict
      returned: always
      sample: {type: secretsmanager, name: rotator/123456789012/alice/console-password, region: us-east-1}
      contains:
        type:
          description: The destination's kind, as O(secret.type).
          type: str
          returned: always
          sample: secretsmanager
        name:
          description: The secret or parameter, with C({user_name}) and C({account_id}) replaced.
          type: str
          returned: when O(secret.type) is V(secretsmanager) or V(ssm)
          sample: rotator/123456789012/alice/console-password
        region:
          description: The region of the secret or parameter.
          type: str
          returned: when O(secret.type) is V(secretsmanager) or V(ssm)
          sample: us-east-1
        path:
          description: The file, with C({user_name}) and C({account_id}) replaced.
          type: str
          returned: when O(secret.type=file)
          sample: /etc/rotator/alice-console.json
        format:
          description: The file's format, as O(secret.format).
          type: str
          returned: when O(secret.type=file)
          sample: json
    msg:
      description: Why the user was rotated or failed.
      type: str
      returned: when there is something to say
      sample: "the user has no console password (no login profile); set create_login_profile: true to create one"
    warnings:
      description: Concerns about this user.
      type: list
      elements: str
      returned: always
      sample: []
    new_password:
      description: The new password, only with O(return_secret).
      type: str
      returned: when rotated and O(return_secret=true)
      sample: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER
failed_users:
  description: Users whose rotation failed.
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.planner import PasswordRotationPolicy
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.policy import (
    AMBIGUOUS,
    SHELL_SPECIAL,
    PasswordSpecError,
    expiry_problems,
    generate_password,
    policy_from_api,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.executor import PasswordRotator, PasswordSpec
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.module import (
    MODULE_KWARGS,
    finish,
    prepare,
    rotation_argument_spec,
    run_concurrently,
    secret_hider,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.results import password_diff, password_result
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import PASSWORD

NON_NEGATIVE = ("rotate_after_days", "password_length")


def main():
    module = AnsibleModule(
        argument_spec=rotation_argument_spec(
            rotate_after_days=dict(type="int", default=90),
            force=dict(type="bool", default=False),
            password_length=dict(type="int", no_log=False),
            password_require=dict(type="list", elements="str", default=[], no_log=False,
                                  choices=["uppercase", "lowercase", "numbers", "symbols"]),
            password_exclude_characters=dict(type="str", default="", no_log=False),
            password_exclude_ambiguous=dict(type="bool", default=False, no_log=False),
            password_exclude_shell_special=dict(type="bool", default=False, no_log=False),
            create_login_profile=dict(type="bool", default=False),
            password_reset_required=dict(type="bool", default=False, no_log=False),
            skip_without_console=dict(type="bool", default=False),
        ),
        **MODULE_KWARGS
    )
    params = module.params
    prepared = prepare(module, NON_NEGATIVE, PASSWORD, gateway_for=lambda connection: IAMGateway(connection.client("iam")),
                       narrow=skip_without_console(module) if params["skip_without_console"] else None)
    users, gateway = prepared.users, prepared.gateway
    if not users:
        # Nobody to rotate: the account's password policy does not matter to this run.
        finish(module, [], password_result, password_diff, "console password rotation", prepared)
    exclude = params["password_exclude_characters"]
    exclude += AMBIGUOUS if params["password_exclude_ambiguous"] else ""
    exclude += SHELL_SPECIAL if params["password_exclude_shell_special"] else ""
    try:
        spec = PasswordSpec(policy_from_api(gateway.account_password_policy()), params["password_length"],
                            tuple(params["password_require"]), exclude)
        # An impossible combination of policy and options fails here, before any user changes.
        generate_password(spec.policy, spec.length, spec.require, spec.exclude)
    except (RotationError, PasswordSpecError) as exc:
        module.fail_json(msg="%s; nothing was changed" % exc, changed=False)
    expiry_error, expiry_warning = expiry_problems(spec.policy, params["rotate_after_days"])
    if expiry_error:
        module.fail_json(msg="%s; nothing was changed" % expiry_error, changed=False)
    if expiry_warning:
        module.warn(expiry_warning)
    rotator = PasswordRotator(
        gateway,
        prepared.destinations,
        PasswordRotationPolicy(rotate_after_days=params["rotate_after_days"], force=params["force"],
                               create_login_profile=params["create_login_profile"]),
        spec,
        prepared.account_id,
        reset_required=params["password_reset_required"],
        check_mode=module.check_mode,
        on_secret=secret_hider(module),
    )
    finish(module, run_concurrently(rotator.rotate_user, users, params["concurrency"]), password_result, password_diff,
           "console password rotation", prepared)


def skip_without_console(module):
    """A ``narrow`` for prepare(): the users that have a console password; the others are named in the selection."""
    def narrow(gateway, users, selection):
        with_console, without = [], []
        try:
            for user in users:
                (with_console if gateway.login_profile(user) is not None else without).append(user)
        except RotationError as exc:
            module.fail_json(msg="%s; nothing was changed" % exc, changed=False)
        selection.update(selected=with_console, without_console=without)
        return with_console
    return narrow


if __name__ == "__main__":
    main()

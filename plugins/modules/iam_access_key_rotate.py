#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: iam_access_key_rotate
short_description: Rotate the access keys of IAM users, one safe step per run
version_added: 0.1.0
description:
  - Looks at each user's access keys and the rotation state the collection recorded on the user,
    and does only the step that is due.
  - When the newest active key is older than O(rotate_after_days) (or O(force) is set), creates a new key,
    writes its secret to O(secret), reads it back, and checks with STS that the new key authenticates as the user.
  - O(deactivate_after_days) after the new key was created, deactivates the old key, unless the old key was used
    after the new key was created (O(in_use_guard)).
  - O(delete_after_days) after the old key was deactivated, deletes it.
  - The rotation state is recorded as the user tag C(rotator:access-key-rotation), because IAM keeps no record of
    when a key was deactivated.
  - If the secret cannot be stored and read back, the new key is deleted and the old key is untouched.
    A key created by a run that died before recording it is recognised on the next run
    and either adopted (its secret reached the destination) or deleted (it did not, and it was never used).
  - An active key the collection did not create is never deleted. When a user already has two keys,
    only an inactive one is deleted to make room; with two active keys the user fails with a message that says what to do.
  - A failure for one user does not stop the others; the module fails at the end and names the users that failed.
  - Users are handled O(concurrency) at a time, in threads sharing one set of clients; the results keep the order
    of O(users).
  - With O(use_credential_report), one IAM credential report per run tells which users cannot have anything due
    (one key at most, younger than O(rotate_after_days)); those are reported C(compliant) without a live look,
    so a run with nothing due costs a few calls per account instead of a few per user. Everyone else is looked at live,
    and every step is decided from live state, never from the report.
  - Secrets never appear in the output, unless O(return_secret) is set on a task with C(no_log).
author:
  - Rotator maintainers (@rotator-aws-iam)
options:
  user_name:
    description:
      - The IAM user whose keys to rotate, by name or by ARN (C(arn:aws:iam::123456789012:user/path/Name)).
      - An ARN must be in the account the credentials (or O(assume_role_arn)) are for.
      - At most one of O(user_name) and O(users); without either, O(path_prefix), O(tags) or O(groups) chooses
        the users.
    type: str
  users:
    description:
      - The IAM users whose keys to rotate, by name or ARN, each handled on its own.
    type: list
    elements: str
  rotate_after_days:
    description:
      - Age of the newest active key, in days, that makes a rotation due.
    type: int
    default: 90
  deactivate_after_days:
    description:
      - Days after the new key was created before the old key is deactivated. V(0) means in the same run.
    type: int
    default: 7
  delete_after_days:
    description:
      - Days after the old key was deactivated before it is deleted. V(0) means in the same run.
    type: int
    default: 7
  force:
    description:
      - Start a rotation now, whatever the age of the key, when no rotation is in progress.
      - With O(deactivate_after_days=0) a forced run is an incident run, as if the key current when the run starts
        (the newest active key) were named in O(revoke). That is also the new key of a rotation in progress (a key
        handed out by an earlier run and then leaked); the rotation in progress is finished first, then that key
        is replaced and deactivated (deleted too with O(delete_after_days=0)). The run never reports success
        while that key is active; when it cannot be replaced in this run, the user fails naming it.
      - The rotation state records an incident rotation, so a rerun of an interrupted incident run finishes it
        instead of replacing the key that run created, and any run takes the key it replaces out of use at once.
    type: bool
    default: false
  revoke:
    description:
      - Access key ids to take out of use in this run, for instance leaked keys.
      - A revoked key that is the user's current key is replaced first (create, store, read back, verify); then it is
        deactivated at once, whatever O(deactivate_after_days) and O(in_use_guard) say, and deleted once
        O(delete_after_days) have passed (V(0) in the same run). A revoked key that is not current is deactivated
        and nothing is created.
      - Every id must be a key of one of the selected users; otherwise the module fails before anything changes.
      - A user ends C(failed), naming the key, while a key revoked for it is still active at the end of the run.
    type: list
    elements: str
    default: []
  in_use_guard:
    description:
      - Do not deactivate the old key while it was used after the new key was created;
        the user's status is then C(waiting_for_consumers).
      - IAM reports a key's last use with a delay of up to about four hours, so with the guard on the old key is
        never deactivated less than four hours after the new key was created, even with O(deactivate_after_days=0).
    type: bool
    default: true
  in_use_max_wait_days:
    description:
      - How many days past the deactivation date to wait for the old key's consumers.
      - After that, the old key stays active and the user keeps the status C(waiting_for_consumers) with a warning,
        unless O(deactivate_in_use) is set.
    type: int
    default: 14
  deactivate_in_use:
    description:
      - Deactivate an old key still in use once O(in_use_max_wait_days) have passed, with a warning.
      - Its consumers lose access; set it only when they can be allowed to break.
    type: bool
    default: false
  verify:
    description:
      - Check with STS C(GetCallerIdentity) that the new key authenticates as the user before recording it.
    type: bool
    default: true
  verify_timeout:
    description:
      - Seconds to keep trying the new key; new keys take a few seconds to work on AWS.
      - If it never works, the user fails, the old key is untouched, and the next run checks the new key again.
    type: int
    default: 60
  secret:
    description:
      - Where the secret of a new key is written, as JSON C({"UserName", "AccessKeyId", "SecretAccessKey"}) for
        V(secretsmanager), V(ssm) and O(secret.format=json), as the console's CSV for O(secret.format=csv), or as one
        profile of a credentials file for O(secret.format=credentials).
      - O(secret.name) defaults to C(rotator/{account_id}/{user_name}/access-key) for V(secretsmanager)
        and C(/rotator/{account_id}/{user_name}/access-key) for V(ssm).
      - In O(secret.name), O(secret.path) and O(secret.profile), C({user_name}) and C({account_id}) are replaced.
      - If the secret cannot be written and read back, the destination gets back what it held just before (Secrets
        Manager labels C(AWSCURRENT) and C(AWSPREVIOUS) move back, an SSM parameter or file gets its previous value,
        one this run created is deleted), and that is checked before the new key is deleted. If it cannot be put
        back, the new key is kept for the next run to adopt, so the destination never names a deleted key.
  use_credential_report:
    description:
      - Read the IAM credential report once (C(GenerateCredentialReport), C(GetCredentialReport)) and look live only at
        users whose keys could have something due by it. A user the report does not list, with two keys
        (a rotation may be in progress), or with an active key older than O(rotate_after_days) is looked at live;
        so is everyone with O(force), when fewer than two users are given, or when the report cannot be read
        (with a warning).
      - A user decided from the report has RV(users[].checked=credential_report) and its keys without their ids.
      - The report may be up to four hours old; it only ever spares a live look, it never decides a step.
        Leftovers of an interrupted run that the rotation state tag alone shows (an announced create that
        never created a key, a new key that failed verification after the old key was removed by hand)
        are settled by the next live look, at the latest when the key becomes due.
        Set V(false) to look at every user live.
    type: bool
    default: true
  return_secret:
    description:
      - Put the new key's secret in the result, as RV(users[].new_access_key).
      - Requires C(no_log) on the task, so the secret never reaches the output.
    type: bool
    default: false
  consumers:
    description:
      - The consumers of the users' keys, which must confirm the new key (O(confirm_consumer)) before the old key is
        deactivated. The role C(rotator.aws_iam.access_key_rotation) runs each consumer's task file with the new
        key and confirms it; see C(docs/consumers.md).
      - While a user's old key is active and some of its consumers have not confirmed the new key, the old key is not
        deactivated and the user's status is C(waiting_for_consumers). While the old key exists (active, or inactive
        after a revoke) and the new key is verified, RV(users[].consumers_pending) names those consumers and
        RV(users[].consumer_access_key) holds the new key, read from this run's create or from the destination
        (with O(secret.type=none) only in the run that created it; a later run fails the user).
      - Requires C(no_log) on the task (except in check mode, which returns no secret, and with O(confirm_consumer),
        O(restore) or O(resume), which return none).
      - A revoke (O(revoke), or O(force) with O(deactivate_after_days=0)) does not wait for consumers.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The consumer's name, 1 to 48 of letters, digits and C(_.:+@-); recorded in the user tag C(rotator:consumers).
          - Unique among the consumers.
        type: str
        required: true
      users:
        description:
          - The users (names or shell patterns such as C(ci-*), matched regardless of case as IAM matches user names) this
            consumer uses a key of. An empty list is refused.
        type: list
        elements: str
        default: ["*"]
      tasks:
        description:
          - The task file the role C(rotator.aws_iam.access_key_rotation) runs for this consumer; the module does not
            read it.
        type: str
      vars:
        description:
          - Variables the role gives the consumer's task file; the module ignores them and masks their values in its
            output.
        type: dict
        default: {}
  consumers_deadline_days:
    description:
      - Days after the new key was created within which its consumers must confirm it.
      - Past that, the old key stays active and the user fails, naming the consumers that did not confirm;
        deactivating it would lock out a consumer known not to hold the new key.
    type: int
    default: 14
  confirm_consumer:
    description:
      - Record that consumer O(confirm_consumer.name) holds the new key O(confirm_consumer.access_key_id) of the one
        selected user (tag C(rotator:consumers), without any secret), and do nothing else.
      - Refused, recording nothing, when the key is not the new key of the user's rotation.
    type: dict
    suboptions:
      access_key_id:
        description: The new key the consumer received.
        type: str
        required: true
      name:
        description: The consumer, one of O(consumers) when they are given.
        type: str
        required: true
  restore:
    description:
      - The way back. Reactivate the old key of the selected users' rotation within the recovery window (the old key
        still exists, active or inactive) and hold its deactivation and deletion until a run with O(resume).
      - Records the hold in the rotation state, and why and by whom in the user tag C(rotator:restore), then sets
        the old key C(Active). A rerun finishes a restore whose answer was lost.
      - Refused, changing nothing, with O(force) or O(revoke), when the rotation replaces a key revoked in an incident,
        when a create is in progress, and when the old key was already deleted.
    type: dict
    suboptions:
      reason:
        description: Why, at most 128 of letters, digits, spaces and C(_.:/=+-@) (IAM's tag value characters).
        type: str
        required: true
      by:
        description: Who asked, one word of at most 64 of those characters (a name or an e-mail address).
        type: str
        required: true
  resume:
    description:
      - Lift the hold of a O(restore) on the selected users; the next rotation run deactivates the old key when it is
        due (the consumers and O(in_use_guard) still apply) and deletes it O(delete_after_days) later.
    type: bool
    default: false
extends_documentation_fragment:
  - rotator.aws_iam.connection
  - rotator.aws_iam.rotation
  - rotator.aws_iam.secret
  - rotator.aws_iam.selection
notes:
  - Supports check mode, which plans exactly the steps a real run would perform, and diff mode, which shows the
    keys of each user before and after, never a secret.
  - In check mode a key that would be created is shown as C((new access key)).
  - Every AWS call retries throttling and transient errors with botocore's retry mode, up to O(max_attempts)
    attempts. C(CreateAccessKey)'s answer holds the only copy of the secret, so a failed attempt is looked at before
    the next one. An attempt IAM refused (throttling, any 4xx) made nothing and is simply tried again. After an
    attempt without an answer (connection dropped, timeout) or with a 5xx, the user's keys are listed. A key IAM
    dated inside that attempt (between sending it and its failure, on IAM's clock from the answer's C(Date)) was made
    by it, nobody holds its secret, and it is deleted. Any other key that appeared was made by somebody else; it is
    left alone and the user fails naming it.
  - A run that dies between announcing a create (the state tag records when) and recording the new key is repaired
    by the next run. A key IAM dated within 5 minutes before to 20 minutes after the announcement is that run's
    key (adopted when the destination holds it, deleted when it does not and was never used); any other key is
    left alone. A state recorded without that time adopts only a stored key and deletes nothing.
  - An old key is deactivated only while the destination still holds the new key; otherwise the user fails and the
    old key stays active.
  - Two runs over the same user at the same moment are not serialised; IAM's limit of two keys keeps a third from
    existing, and the run that loses the race fails for that user with a message naming the other run's key.
"""

EXAMPLES = r"""
- name: Rotate keys older than 90 days, storing new keys in Secrets Manager
  rotator.aws_iam.iam_access_key_rotate:
    users: [ci-deployer, backup-agent]

- name: Rotate in a member account, storing secrets in a central account
  rotator.aws_iam.iam_access_key_rotate:
    assume_role_arn: arn:aws:iam::123456789012:role/iam-rotator
    users: [ci-deployer]
    rotate_after_days: 60
    secret:
      type: secretsmanager
      name: "iam/{account_id}/{user_name}"
      region: eu-west-1
      assume_role_arn: arn:aws:iam::210987654321:role/secrets-writer

- name: Incident response, replace the current key of a user now and delete it in the same run
  rotator.aws_iam.iam_access_key_rotate:
    user_name: leaked-user
    force: true
    deactivate_after_days: 0
    delete_after_days: 0

- name: Incident response, take named leaked keys out of use (replaced first when current)
  rotator.aws_iam.iam_access_key_rotate:
    user_name: leaked-user
    revoke: [AKIAIOSFODNN7EXAMPLE]
    delete_after_days: 0

- name: Write the new key to a profile of a credentials file
  rotator.aws_iam.iam_access_key_rotate:
    user_name: reporting
    secret:
      type: file
      path: /etc/reporting/aws-credentials
      format: credentials
      profile: reporting

- name: Hand the secret to later tasks only
  rotator.aws_iam.iam_access_key_rotate:
    user_name: app
    secret:
      type: none
    return_secret: true
  no_log: true
  register: rotation
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
    without_console: []
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
      description: Always empty here; M(rotator.aws_iam.iam_password_rotate) names the users it skipped for having
        no console password.
      type: list
      elements: str
      returned: always
      sample: []
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
    - user_name: ci-deployer
      status: rotated
      changed: true
      checked: live
      actions:
        - {action: create, access_key_id: AKIAEXAMPLENEWKEY002}
        - {action: store, access_key_id: AKIAEXAMPLENEWKEY002}
        - {action: verify, access_key_id: AKIAEXAMPLENEWKEY002}
      access_keys:
        - {access_key_id: AKIAEXAMPLEOLDKEY001, status: Active, create_date: "2026-08-01T09:00:00+00:00",
           last_used_date: "2026-11-22T17:40:00+00:00"}
        - {access_key_id: AKIAEXAMPLENEWKEY002, status: Active, create_date: "2026-11-23T10:00:00+00:00",
           last_used_date: null}
      secret: {type: secretsmanager, name: rotator/123456789012/ci-deployer/access-key, region: us-east-1}
      next_action: deactivate
      next_action_at: "2026-11-30T10:00:00+00:00"
      warnings: []
  contains:
    user_name:
      description: The user.
      type: str
      returned: always
      sample: ci-deployer
    status:
      description:
        - C(compliant) nothing is due; C(pending) a rotation is in progress and its next step is not due yet;
          C(waiting_for_consumers) the old key is still in use, or consumers (O(consumers)) have not confirmed the
          new key; C(rotated), C(deactivated), C(deleted) the last step this run took; C(held) a O(restore) holds
          the old key's retirement; C(restored) this run reactivated the old key or recorded the hold (O(restore));
          C(resumed) this run lifted the hold (O(resume)); C(failed) see RV(users[].msg).
      type: str
      returned: always
      sample: rotated
    changed:
      description: Whether this user changed.
      type: bool
      returned: always
      sample: true
    actions:
      description: What was done, in order. In check mode, what a real run would do.
      type: list
      elements: dict
      returned: always
      sample:
        - {action: create, access_key_id: AKIAEXAMPLENEWKEY002}
        - {action: store, access_key_id: AKIAEXAMPLENEWKEY002}
        - {action: verify, access_key_id: AKIAEXAMPLENEWKEY002}
      contains:
        action:
          description:
            - V(create) a new key was made; V(store) its secret was written to the destination and read back;
              V(verify) STS confirmed it authenticates as the user; V(deactivate) and V(delete) the old key;
              V(reactivate) the old key was set Active again (O(restore)); V(resume) the hold was lifted (O(resume)).
          type: str
          returned: always
          sample: create
        access_key_id:
          description: The key the step was taken on; in check mode a new key is C((new access key)).
          type: str
          returned: always
          sample: AKIAEXAMPLENEWKEY002
    checked:
      description:
        - V(live) the user's keys and rotation state were read from IAM; V(credential_report) the credential report
          showed nothing can be due (see O(use_credential_report)), and RV(users[].access_keys) come from it.
      type: str
      returned: always
      sample: live
    access_keys:
      description: The user's keys after the run.
      type: list
      elements: dict
      returned: always
      sample:
        - {access_key_id: AKIAEXAMPLEOLDKEY001, status: Active, create_date: "2026-08-01T09:00:00+00:00",
           last_used_date: "2026-11-22T17:40:00+00:00"}
        - {access_key_id: AKIAEXAMPLENEWKEY002, status: Active, create_date: "2026-11-23T10:00:00+00:00",
           last_used_date: null}
      contains:
        access_key_id:
          description: The key's ID; null for a key read from the credential report, which does not name keys.
          type: str
          returned: always
          sample: AKIAEXAMPLENEWKEY002
        status:
          description: V(Active) or V(Inactive).
          type: str
          returned: always
          sample: Active
        create_date:
          description: When IAM created the key (ISO 8601, UTC).
          type: str
          returned: always
          sample: "2026-11-23T10:00:00+00:00"
        last_used_date:
          description: When the key last signed a request (ISO 8601, UTC), as IAM reports it; null if never.
          type: str
          returned: always
          sample: "2026-11-22T17:40:00+00:00"
    secret:
      description: Where the secret of a new key goes. Never the secret.
      type: dict
      returned: always
      sample: {type: secretsmanager, name: rotator/123456789012/ci-deployer/access-key, region: us-east-1}
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
          sample: rotator/123456789012/ci-deployer/access-key
        region:
          description: The region of the secret or parameter.
          type: str
          returned: when O(secret.type) is V(secretsmanager) or V(ssm)
          sample: us-east-1
        path:
          description: The file, with C({user_name}) and C({account_id}) replaced.
          type: str
          returned: when O(secret.type=file)
          sample: /etc/rotator/ci-deployer.json
        format:
          description: The file's format, as O(secret.format).
          type: str
          returned: when O(secret.type=file)
          sample: json
        profile:
          description: The profile of the credentials file.
          type: str
          returned: when O(secret.format=credentials)
          sample: ci-deployer
    next_action:
      description: The next step of the rotation, when nothing is due now.
      type: str
      returned: when known
      sample: deactivate
    next_action_at:
      description: When the next step is due (ISO 8601, UTC).
      type: str
      returned: when known
      sample: "2026-11-30T10:00:00+00:00"
    msg:
      description: Why the user failed or waits.
      type: str
      returned: when there is something to say
      sample: "old key AKIAEXAMPLEOLDKEY001 was used at 2026-11-29T08:15:00+00:00, after the new key AKIAEXAMPLENEWKEY002
        was created; waiting for its consumers to switch"
    warnings:
      description: Things done despite a concern, such as deactivating a key still in use after the wait.
      type: list
      elements: str
      returned: always
      sample: []
    consumers_pending:
      description: The consumers (O(consumers)) that have not confirmed the user's new key while its old key exists.
      type: list
      elements: str
      returned: always
      sample: [ci-runner]
    consumer_access_key:
      description: The new key and its secret for the consumers in RV(users[].consumers_pending); not in check mode.
      type: dict
      returned: when RV(users[].consumers_pending) is not empty
      sample: {access_key_id: AKIAEXAMPLENEWKEY002, secret_access_key: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER}
      contains:
        access_key_id:
          description: The new key's ID.
          type: str
          returned: always
          sample: AKIAEXAMPLENEWKEY002
        secret_access_key:
          description: The new key's secret.
          type: str
          returned: always
          sample: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER
    old_key_last_used:
      description: Where and when the old key was last used, as IAM's C(GetAccessKeyLastUsed) reports it, for a user
        whose old key waits for its consumers (C(waiting_for_consumers)) or is held by a restore (C(held)), and for a
        O(restore).
      type: dict
      returned: when the status is waiting_for_consumers, held or restored
      sample: {access_key_id: AKIAEXAMPLEOLDKEY001, date: "2026-11-29T08:15:00+00:00", service: s3, region: eu-west-1}
      contains:
        access_key_id:
          description: The old key.
          type: str
          returned: always
          sample: AKIAEXAMPLEOLDKEY001
        date:
          description: When it last signed a request (ISO 8601, UTC); null if never.
          type: str
          returned: always
          sample: "2026-11-29T08:15:00+00:00"
        service:
          description: The service it last called, C(N/A) if never.
          type: str
          returned: always
          sample: s3
        region:
          description: The region it last called, C(N/A) if never.
          type: str
          returned: always
          sample: eu-west-1
    new_access_key:
      description: The new key and its secret, only with O(return_secret).
      type: dict
      returned: when a key was created and O(return_secret=true)
      sample: {access_key_id: AKIAEXAMPLENEWKEY002, secret_access_key: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER}
      contains:
        access_key_id:
          description: The new key's ID.
          type: str
          returned: always
          sample: AKIAEXAMPLENEWKEY002
        secret_access_key:
          description: The new key's secret.
          type: str
          returned: always
          sample: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER
failed_users:
  description: Users whose rotation failed.
  returned: always
  type: list
  elements: str
  sample: []
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import RotationPolicy
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.consumers import (
    Consumers,
    consumer_errors,
    record_confirmation,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.executor import (
    AccessKeyRotator,
    UserOutcome,
    load_credential_report,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.way_back import (
    RestoreRequest,
    restore_errors,
    restore_old_key,
    resume_retirement,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.rotator import run_isolated, utc_now
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.times import iso
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.module import (
    MODULE_KWARGS,
    finish,
    prepare,
    rotation_argument_spec,
    run_concurrently,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.results import user_diff, user_result
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import ACCESS_KEY

NON_NEGATIVE = ("rotate_after_days", "deactivate_after_days", "delete_after_days", "in_use_max_wait_days",
                "verify_timeout", "consumers_deadline_days")
# The calls that do one job instead of a rotation; at most one per task.
SPECIAL_CALLS = ("confirm_consumer", "restore", "resume")


def main():
    module = AnsibleModule(
        argument_spec=rotation_argument_spec(
            rotate_after_days=dict(type="int", default=90),
            deactivate_after_days=dict(type="int", default=7),
            delete_after_days=dict(type="int", default=7),
            force=dict(type="bool", default=False),
            in_use_guard=dict(type="bool", default=True),
            in_use_max_wait_days=dict(type="int", default=14),
            deactivate_in_use=dict(type="bool", default=False),
            revoke=dict(type="list", elements="str", default=[], no_log=False),
            verify=dict(type="bool", default=True),
            verify_timeout=dict(type="int", default=60),
            use_credential_report=dict(type="bool", default=True),
            consumers=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                users=dict(type="list", elements="str", default=["*"]),
                # For the role, which runs them; the module ignores them (and masks the vars in its output).
                tasks=dict(type="str"),
                vars=dict(type="dict", default={}, no_log=True),
            )),
            consumers_deadline_days=dict(type="int", default=14),
            confirm_consumer=dict(type="dict", options=dict(
                access_key_id=dict(type="str", required=True, no_log=False),
                name=dict(type="str", required=True),
            )),
            restore=dict(type="dict", options=dict(
                reason=dict(type="str", required=True),
                by=dict(type="str", required=True),
            )),
            resume=dict(type="bool", default=False),
        ),
        **MODULE_KWARGS
    )
    params = module.params
    check_way_back_and_consumers(module)
    prepared = prepare(module, NON_NEGATIVE, ACCESS_KEY, gateway_for=IAMGateway.for_connection)
    if params["confirm_consumer"]:
        confirm_consumer(module, prepared)
    if params["restore"] or params["resume"]:
        way_back(module, prepared)
    users, gateway = prepared.users, prepared.gateway
    policy = RotationPolicy(
        rotate_after_days=params["rotate_after_days"],
        deactivate_after_days=params["deactivate_after_days"],
        delete_after_days=params["delete_after_days"],
        force=params["force"],
        in_use_guard=params["in_use_guard"],
        in_use_max_wait_days=params["in_use_max_wait_days"],
        deactivate_in_use=params["deactivate_in_use"],
        revoke=tuple(params["revoke"]),
        consumers_deadline_days=params["consumers_deadline_days"],
    )
    if policy.revoke:
        check_revoked_keys(module, gateway, users, policy.revoke)
    if not users:
        # Nobody to rotate: no credential report is needed.
        finish(module, [], checked_user_result, user_diff, "access key rotation", prepared)
    report = None
    if params["use_credential_report"] and not policy.revoke:
        report, warning = load_credential_report(gateway, policy, users, check_mode=module.check_mode)
        if warning:
            module.warn(warning)
    rotator = AccessKeyRotator(
        gateway,
        prepared.connection,
        prepared.destinations,
        policy,
        prepared.account_id,
        verify=params["verify"],
        verify_timeout=params["verify_timeout"],
        check_mode=module.check_mode,
        on_secret=secret_hider(module),
        credential_report=report,
        consumers=Consumers.from_params(params["consumers"]),
    )
    outcomes = run_concurrently(rotator.rotate_user, users, params["concurrency"])
    finish(module, outcomes, checked_user_result, user_diff, "access key rotation", prepared)


# The pattern IAM gives access key ids (API reference, AccessKey data type).
ACCESS_KEY_ID = re.compile(r"^\w{16,128}$", re.ASCII)


def check_revoked_keys(module, gateway, users, revoke):
    """Fail, changing nothing, unless every key id to revoke is a key of one of the users."""
    malformed = [key_id for key_id in revoke if not ACCESS_KEY_ID.match(key_id)]
    if malformed:
        module.fail_json(msg="revoke: %s is not an access key id; nothing was changed" % ", ".join(malformed),
                         changed=False)
    owned = set()
    for user in users:
        try:
            owned.update(key.access_key_id for key in gateway.list_access_keys(user, with_last_used=False))
        except RotationError:
            continue  # the user fails on its own; its keys cannot be revoked here
    unknown = sorted(set(revoke) - owned)
    if unknown:
        owners = ", ".join(users) or "any selected user (none was selected)"
        module.fail_json(msg="revoke: %s is not a key of %s; nothing was changed" % (", ".join(unknown), owners),
                         changed=False)


def secret_hider(module):
    """A callback that masks a secret in everything the module returns, unless the task returns secrets.

    With O(consumers) the secret of a new key is returned for the role to hand to them; the task has C(no_log).
    """
    def hide(value):
        if not (module.params["return_secret"] or module.params["consumers"]):
            module.no_log_values.add(value)
    return hide


def check_way_back_and_consumers(module):
    """Fail, changing nothing, on consumer definitions or a way back the module cannot carry out."""
    params = module.params
    errors = consumer_errors(params["consumers"])
    asked = [name for name in SPECIAL_CALLS if params[name]]
    if len(asked) > 1:
        errors.append("%s cannot be combined; use one per task" % " and ".join(asked))
    if (params["restore"] or params["resume"]) and (params["force"] or params["revoke"]):
        errors.append("restore and resume are refused with force or revoke: an incident's revoke always wins over the "
                      "way back")
    if params["restore"]:
        errors.extend(restore_errors(params["restore"]))
    if params["consumers"] and not module.no_log and not module.check_mode and not asked:
        errors.append("consumers requires no_log: true on the task: the result hands the new key to them")
    if errors:
        module.fail_json(msg="%s; nothing was changed" % "; ".join(errors), changed=False)


def confirm_consumer(module, prepared):
    """Record that a consumer has the user's new key, then exit."""
    if len(prepared.users) != 1:
        module.fail_json(msg="confirm_consumer needs exactly one user, got %d; nothing was changed"
                         % len(prepared.users), changed=False)
    user = prepared.users[0]
    request = module.params["confirm_consumer"]
    consumers = Consumers.from_params(module.params["consumers"])
    if consumers and request["name"] not in consumers.names_for(user):
        module.fail_json(msg="confirm_consumer: %s is not a consumer of %s; nothing was changed"
                         % (request["name"], user), changed=False)
    try:
        changed = record_confirmation(prepared.gateway, user, request["access_key_id"], request["name"], utc_now(),
                                      check_mode=module.check_mode)
    except RotationError as exc:
        module.fail_json(msg=str(exc), changed=False, account_id=prepared.account_id)
    module.exit_json(changed=changed, account_id=prepared.account_id, user_name=user,
                     confirmed=dict(name=request["name"], access_key_id=request["access_key_id"]))


def way_back(module, prepared):
    """Reactivate the old keys of the selected users and hold their retirement (restore), or lift the hold."""
    restore = module.params["restore"]
    request = RestoreRequest(reason=restore["reason"], by=restore["by"]) if restore else None
    now = utc_now()

    def one_user(user_name):
        def work(outcome):
            if request is not None:
                restore_old_key(prepared.gateway, outcome, request, now, check_mode=module.check_mode)
            else:
                resume_retirement(prepared.gateway, outcome, now, check_mode=module.check_mode)
        return run_isolated(UserOutcome(user_name), work)

    outcomes = run_concurrently(one_user, prepared.users, module.params["concurrency"])
    finish(module, outcomes, checked_user_result, user_diff, "restore" if request else "resume", prepared)


def checked_user_result(outcome, return_secret=False):
    result = user_result(outcome, return_secret)
    result["checked"] = outcome.checked
    result["consumers_pending"] = list(outcome.consumers_pending)
    if outcome.consumer_secret is not None:
        result["consumer_access_key"] = {
            "access_key_id": outcome.consumer_secret.access_key_id,
            "secret_access_key": outcome.consumer_secret.secret_access_key,
        }
    if outcome.old_key_last_used is not None:
        used = dict(outcome.old_key_last_used)
        used["date"] = iso(used["date"])
        result["old_key_last_used"] = used
    return result


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rotation_notify
short_description: Send each owner of IAM credentials one digest of a run, by SNS, SES email or a JSON webhook
version_added: 0.3.0
description:
  - Takes the results of M(rotator.aws_iam.iam_access_key_rotate) and M(rotator.aws_iam.iam_password_rotate) of
    every account of a run (O(accounts)) and sends each owner one digest listing their users whose rotation
    failed (with the message; an account whose rotation failed as a whole is told to the account's owner), that
    were rotated (with where the new secret is, the destination's kind and name), that wait for the old key's
    consumers (since when the new key exists), whose next step is due within O(due_within_days), and whose
    exemption expired, is malformed or ends within O(exemption_warning_days).
  - A digest never holds a secret; only the fields listed above are read from the results. The secrets a result
    may hold (C(new_access_key), C(new_password), C(consumer_access_key)) are masked in the module's output.
  - The owner of a user is the value of its tag O(owner_tag) (read with C(ListUserTags) in the user's account, through
    O(accounts[].assume_role_arn)), else the account's owner (O(accounts[].owner), else the account tag
    O(account_owner_tag) in O(accounts[].tags)), else O(default_owner). Items without any owner are returned in
    RV(unowned) with a warning, and sent to nobody.
  - Every owner, channel and setting is checked before anything is sent; a problem fails the module and sends
    nothing. Each owner gets at most one digest per call, on each of O(channels).
  - With O(only_when_changed), a digest is sent only when it holds news. The ids of the items of the last digest sent
    to an owner are kept in the SSM String parameter C(<fingerprint_prefix>/<sha256 of the owner>); a digest is news
    when one of its items is not among them (a new rotation, a new failure, a user newly waiting, an exemption
    or a step entering its window). An item that only goes away is not news. What the owner was told about
    accounts not in O(accounts) (another AWX job slice, a C(--limit)) is kept.
  - The role C(rotator.aws_iam.owner_notice) runs it once per run, on the controller, over every account.
author:
  - Rotator maintainers (@rotator-aws-iam)
options:
  accounts:
    description:
      - One entry per account (inventory host) of the run.
    type: list
    elements: dict
    required: true
    suboptions:
      host:
        description: The inventory host, named in the digest when the account id is unknown.
        type: str
        required: true
      account_id:
        description: The account id; by default the one the results name.
        type: str
      owner:
        description: The owner of the account's users that have no owner tag.
        type: str
      tags:
        description: The account's tags (the inventory's C(aws_account_tags)), where O(account_owner_tag) is looked up.
        type: dict
        default: {}
      assume_role_arn:
        description:
          - The role to assume in the account to read its users' tags, as the rotation used it.
          - Without it, the tags are read with the module's own connection. When the role, or that connection, is in
            another account than O(accounts[].account_id) (or the account the results name), the module fails before
            anything is sent, rather than take a same-named user's owner there.
        type: str
      assume_role_external_id:
        description: The external id of O(accounts[].assume_role_arn).
        type: str
      access_keys:
        description: The result of M(rotator.aws_iam.iam_access_key_rotate) in the account.
        type: dict
        default: {}
      passwords:
        description: The result of M(rotator.aws_iam.iam_password_rotate) in the account.
        type: dict
        default: {}
  owner_tag:
    description:
      - The user tag that names the owner of the user's credentials. V("") reads no user tags.
    type: str
    default: "rotator:owner"
  account_owner_tag:
    description:
      - The account tag (in O(accounts[].tags)) that names the owner of the account's users.
    type: str
    default: "rotator:owner"
  default_owner:
    description:
      - The owner of users that have no owner by their tag or their account.
    type: str
    default: ""
  due_within_days:
    description:
      - List users whose next step is due within this many days.
    type: int
    default: 14
  exemption_warning_days:
    description:
      - List exemptions that end within this many days (and any expired or malformed one).
    type: int
    default: 30
  channels:
    description:
      - Where each digest goes. V(sns) publishes to O(sns_topic_arn) with a message attribute C(owner); V(ses) emails
        the owner, which must be an email address, from O(ses_sender); V(webhook) posts JSON to O(webhook_url).
    type: list
    elements: str
    choices: [sns, ses, webhook]
    required: true
  sns_topic_arn:
    description:
      - The topic of V(sns). C({owner_id}) in it is replaced with the owner, characters other than letters, digits,
        C(_) and C(-) made C(-), for one topic per owner. Two owners that this makes one topic (C(a.b@example.com)
        and C(a-b@example.com)) fail the module before anything is sent.
    type: str
  ses_sender:
    description:
      - The verified SES identity (an email address) V(ses) sends from.
    type: str
  webhook_url:
    description:
      - The http(s) URL V(webhook) posts to, with a JSON body C({owner, subject, text, digest}).
    type: str
  webhook_token:
    description:
      - A bearer token sent as C(Authorization) to O(webhook_url).
    type: str
  webhook_validate_certs:
    description:
      - Check the TLS certificate of O(webhook_url).
    type: bool
    default: true
  webhook_timeout:
    description:
      - Seconds to wait for O(webhook_url) to answer.
    type: int
    default: 10
  webhook_retries:
    description:
      - How many times to try again after O(webhook_url) did not answer, or answered 429 or 5xx.
    type: int
    default: 3
  only_when_changed:
    description:
      - Send an owner's digest only when it holds an item that owner was not told in the last digest sent.
    type: bool
    default: false
  fingerprint_prefix:
    description:
      - The SSM parameter path under which O(only_when_changed) keeps what each owner was told.
    type: str
    default: /rotator/owner-digests
extends_documentation_fragment:
  - rotator.aws_iam.connection
notes:
  - Supports check mode; nothing is sent nor recorded, and RV(digests) shows what would be.
  - Needs C(iam:ListUserTags) in each account (through O(accounts[].assume_role_arn)); C(sns:Publish),
    C(ses:SendEmail), and C(ssm:GetParameter) and C(ssm:PutParameter) on O(fingerprint_prefix) with
    O(only_when_changed), with the module's own connection options.
"""

EXAMPLES = r"""
- name: Tell each owner, once for the whole run, by email
  rotator.aws_iam.rotation_notify:
    accounts:
      - host: prod
        tags: {"rotator:owner": platform@example.com}
        assume_role_arn: arn:aws:iam::123456789012:role/iam-rotator
        access_keys: "{{ hostvars['prod'].access_key_rotation_result }}"
    channels: [ses]
    ses_sender: iam-rotation@example.com
    only_when_changed: true
  run_once: true
"""

RETURN = r"""
digests:
  description: One entry per owner with something to be told, sorted by owner.
  returned: always
  type: list
  elements: dict
  sample:
    - owner: platform@example.com
      count: 1
      sent: true
      reason: sent
      sent_to: [arn:aws:sns:us-east-1:123456789012:owners]
      sections:
        failed: []
        waiting: []
        exemptions: []
        rotated:
          - {account: prod, account_id: "123456789012", credential: access key, user_name: ci-deployer,
             access_key_id: AKIAEXAMPLENEWKEY002,
             destination: {type: secretsmanager, name: rotator/123456789012/ci-deployer/access-key}}
        due: []
  contains:
    owner:
      description: The owner.
      type: str
      returned: always
      sample: platform@example.com
    count:
      description: How many items the digest lists.
      type: int
      returned: always
      sample: 1
    sent:
      description: Whether the digest was sent on every channel; RV(digests[].sent_to) says where it went when not.
      type: bool
      returned: always
      sample: true
    reason:
      description:
        - V(sent); V(no news) with O(only_when_changed); V(check mode); or why sending failed, or why what the
          owner was last told could not be read (then nothing is sent to that owner).
        - A digest that was sent stays V(sent) when recording it for O(only_when_changed) fails; the module
          fails naming the parameter, and the other owners are told all the same.
      type: str
      returned: always
      sample: sent
    sent_to:
      description: Where it went (a topic ARN, C(mailto:) the owner, the webhook URL).
      type: list
      elements: str
      returned: always
      sample: [arn:aws:sns:us-east-1:123456789012:owners]
    sections:
      description: The items, under V(failed), V(waiting), V(exemptions), V(rotated) and V(due).
      type: dict
      returned: always
      sample: {failed: [], waiting: [], exemptions: [], rotated: [], due: []}
unowned:
  description: Items of users without an owner, sent to nobody; each is an item with its C(section).
  returned: always
  type: list
  elements: dict
  sample: []
"""

from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    CONNECTION_ARGSPEC,
    AWSConnectionError,
    connect,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError, UserNotFound
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._notify.channels import CHANNELS, NotifyError
from ansible_collections.rotator.aws_iam.plugins.module_utils._notify.digest import (
    AccountResults,
    account_key,
    build_digests,
    secret_values,
    users_with_items,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._notify.fingerprints import (
    FingerprintError,
    FingerprintStore,
    is_news,
)

NON_NEGATIVE = ("due_within_days", "exemption_warning_days", "webhook_timeout", "webhook_retries")


def argument_spec():
    spec = dict(CONNECTION_ARGSPEC)
    spec.update(
        accounts=dict(type="list", elements="dict", required=True, options=dict(
            host=dict(type="str", required=True),
            account_id=dict(type="str"),
            owner=dict(type="str"),
            tags=dict(type="dict", default={}),
            assume_role_arn=dict(type="str"),
            assume_role_external_id=dict(type="str", no_log=True),
            # Results, which hold no secret; only the fields a digest lists are read from them.
            access_keys=dict(type="dict", default={}, no_log=False),
            passwords=dict(type="dict", default={}, no_log=False),
        )),
        owner_tag=dict(type="str", default="rotator:owner"),
        account_owner_tag=dict(type="str", default="rotator:owner"),
        default_owner=dict(type="str", default=""),
        due_within_days=dict(type="int", default=14),
        exemption_warning_days=dict(type="int", default=30),
        channels=dict(type="list", elements="str", choices=sorted(CHANNELS), required=True),
        sns_topic_arn=dict(type="str"),
        ses_sender=dict(type="str"),
        webhook_url=dict(type="str"),
        webhook_token=dict(type="str", no_log=True),
        webhook_validate_certs=dict(type="bool", default=True),
        webhook_timeout=dict(type="int", default=10),
        webhook_retries=dict(type="int", default=3),
        only_when_changed=dict(type="bool", default=False),
        fingerprint_prefix=dict(type="str", default="/rotator/owner-digests"),
    )
    return spec


def input_errors(params):
    errors = ["%s must not be negative" % name for name in NON_NEGATIVE if params[name] < 0]
    if not params["channels"]:
        errors.append("channels: name at least one of %s" % ", ".join(sorted(CHANNELS)))
    hosts = [entry["host"] for entry in params["accounts"]]
    errors.extend("accounts: host %s is listed more than once" % host for host in sorted(set(hosts))
                  if hosts.count(host) > 1)
    return errors


class OwnerTags:
    """Reads the owner tag of users, each account through its own role (one connection per role)."""

    def __init__(self, params):
        self.params = params
        self._gateways = {}

    def gateway(self, account, entry):
        """The gateway of the account's role; RotationError when it is in another account than the results name,
        where a user of the same name would name somebody else's owner."""
        role = (entry["assume_role_arn"], entry["assume_role_external_id"])
        if role not in self._gateways:
            connection = connect(dict(self.params, assume_role_arn=role[0], assume_role_external_id=role[1]))
            self._gateways[role] = (connection.account_id, IAMGateway.for_connection(connection))
        account_id, gateway = self._gateways[role]
        if account.account_id and account.account_id != account_id:
            raise RotationError("account %s is %s, but its users' owner tags would be read in account %s (set its "
                                "assume_role_arn)" % (account.host, account.account_id, account_id))
        return gateway

    def owner(self, account, entry, user_name):
        """The user's owner tag; None for a user without it, or gone since the rotation."""
        try:
            return self.gateway(account, entry).user_tags(user_name).get(self.params["owner_tag"])
        except UserNotFound:
            return None


def read_user_owners(params, accounts, entries, now):
    """{(host, user name): owner tag} for every user with something to tell; RotationError/AWSConnectionError."""
    if not params["owner_tag"]:
        return {}
    tags = OwnerTags(params)
    owners = {}
    for account, entry in zip(accounts, entries):
        for user_name in users_with_items(account, now, params["due_within_days"], params["exemption_warning_days"]):
            owner = tags.owner(account, entry, user_name)
            if owner:
                owners[(account.host, user_name)] = owner
    return owners


def channel_problems(channels, digests):
    return [problem for channel in channels for problem in channel.problems(digests)]


def deliver(channels, digest):
    """Send one digest on every channel; (sent to, None) or (sent to so far, why it failed)."""
    sent_to = []
    for channel in channels:
        try:
            sent_to.append(channel.send(digest))
        except NotifyError as exc:
            return sent_to, str(exc)
    return sent_to, None


def digest_result(digest, sent, reason, sent_to=()):
    return dict(owner=digest["owner"], count=digest["count"], sections=digest["sections"], sent=sent, reason=reason,
                sent_to=list(sent_to))


def tell_owner(digest, channels, store, check_mode):
    """(the digest's result, a failure or None) for one owner; a failure never keeps the other owners from theirs.

    The record of what the owner was told is written after the digest went out: when that write fails the owner
    was told all the same (and will be told again next time), so the result says sent and the failure is reported.
    """
    try:
        told = store.told(digest["owner"]) if store is not None else set()
    except FingerprintError as exc:
        return digest_result(digest, False, str(exc)), str(exc)
    if store is not None and not is_news(digest["item_ids"], told):
        return digest_result(digest, False, "no news"), None
    if check_mode:
        return digest_result(digest, False, "check mode"), None
    sent_to, failure = deliver(channels, digest)
    if failure is not None:
        return digest_result(digest, False, failure, sent_to), failure
    try:
        if store is not None:
            store.record(digest["owner"], digest["item_ids"], told)
    except FingerprintError as exc:
        return digest_result(digest, True, "sent", sent_to), str(exc)
    return digest_result(digest, True, "sent", sent_to), None


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    # The results given may hold secrets (return_secret, consumers); the output echoes the arguments (invocation).
    module.no_log_values.update(secret_values(params["accounts"]))
    errors = input_errors(params)
    if errors:
        module.fail_json(msg="; ".join(errors), changed=False)
    now = datetime.now(timezone.utc)
    accounts = [AccountResults.from_option(entry, params["account_owner_tag"]) for entry in params["accounts"]]
    try:
        user_owners = read_user_owners(params, accounts, params["accounts"], now)
        connection = connect(params)
    except (AWSConnectionError, RotationError) as exc:
        module.fail_json(msg="reading the owners failed: %s; nothing was sent" % exc, changed=False)
    digests, unowned = build_digests(accounts, user_owners, params["default_owner"], now, params["due_within_days"],
                                     params["exemption_warning_days"])
    channels = [CHANNELS[name](params, connection) for name in dict.fromkeys(params["channels"])]
    problems = channel_problems(channels, digests)
    if problems:
        module.fail_json(msg="%s; nothing was sent" % "; ".join(problems), changed=False)
    if unowned:
        module.warn("%d item(s) have no owner (no tag %s, no account owner, no default_owner) and are sent to nobody"
                    % (len(unowned), params["owner_tag"] or "read"))
    store = None
    if params["only_when_changed"]:
        store = FingerprintStore(connection.client("ssm"), params["fingerprint_prefix"],
                                 [account_key(account.account_id, account.host) for account in accounts])
    results, failures = [], []
    for digest in digests:
        entry, failure = tell_owner(digest, channels, store, module.check_mode)
        results.append(entry)
        if failure:
            failures.append(failure)
    result = dict(changed=any(entry["sent_to"] for entry in results), digests=results, unowned=unowned)
    if failures:
        module.fail_json(msg="sending the owners' digests failed: %s" % "; ".join(failures), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the rotation modules share: choosing users, checking input, connecting, shaping the result."""

from __future__ import annotations

import contextlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import (
    CONNECTION_ARGSPEC,
    AWSConnectionError,
    connect,
    connection_errors,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.exemption import tag_key_problem
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.selection import UserFilter, select_in_account
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.registry import (
    SECRET_ARGSPEC,
    DestinationFactory,
    secret_errors,
)

USER_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
USER_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):user/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,64})$", re.ASCII)
# A botocore client keeps at most 10 connections; more threads than that would
# open and drop a connection per call instead of reusing them.
MAX_CONCURRENCY = 10


def rotation_argument_spec(**module_options):
    """The connection options, the user selection and the secret destination, plus the module's own."""
    spec = dict(CONNECTION_ARGSPEC)
    spec.update(
        user_name=dict(type="str"),
        users=dict(type="list", elements="str"),
        secret=dict(type="dict", options=SECRET_ARGSPEC, default={"type": "secretsmanager"}, no_log=False),
        return_secret=dict(type="bool", default=False),
        concurrency=dict(type="int", default=8),
    )
    spec.update(SELECTION_ARGSPEC)
    spec.update(module_options)
    return spec


# Choosing the users in the same call that rotates them: one module run, one
# connection and one ListUsers per account (doc fragment rotator.aws_iam.selection).
SELECTION_ARGSPEC = dict(
    path_prefix=dict(type="str"),
    tags=dict(type="dict", default={}),
    groups=dict(type="list", elements="str", default=[]),
    exclude_users=dict(type="list", elements="str", default=[]),
    exempt_tag=dict(type="str"),
    only_users=dict(type="list", elements="str", default=[]),
    fail_on_unresolved_users=dict(type="bool", default=True),
)

MODULE_KWARGS = dict(
    mutually_exclusive=[("user_name", "users")],
    required_one_of=[("user_name", "users", "path_prefix", "tags", "groups")],
    supports_check_mode=True,
)


def selection_asked(params):
    """Whether the users are chosen from the account (any selection option) rather than only named."""
    return (params.get("path_prefix") is not None or bool(params.get("tags")) or bool(params.get("groups"))
            or bool(params.get("exclude_users")) or params.get("exempt_tag") is not None
            or bool(params.get("only_users")))


def parse_user(entry):
    """(account id or None, user name) from a user name or a user ARN; None if it is neither."""
    match = USER_ARN.match(entry)
    if match:
        return match.group(1), match.group(2)
    if USER_NAME.match(entry):
        return None, entry
    return None


def selected_users(params):
    if params["user_name"] is not None:
        return [params["user_name"]]
    return params["users"] or []


def input_errors(module, non_negative, secret_kind=None, users=None, allow_empty=False):
    """Everything wrong with the parameters, found before any AWS call."""
    params = module.params
    errors = connection_errors(params)
    for option in non_negative:
        if params[option] is not None and params[option] < 0:
            errors.append("%s must be 0 or more, got %d" % (option, params[option]))
    users = selected_users(params) if users is None else users
    if not users and not allow_empty and not selection_asked(params):
        errors.append("users must name at least one user")
    if params.get("path_prefix") is not None and not params["path_prefix"].startswith("/"):
        errors.append("path_prefix must start with /")
    problem = tag_key_problem(params["exempt_tag"]) if params.get("exempt_tag") else None
    if problem:
        errors.append("exempt_tag %r is not an IAM tag key (1 to 128 letters, digits, spaces and _.:/=+-@): %s"
                      % (params["exempt_tag"], problem))
    for entry in params.get("only_users") or []:
        if parse_user(entry) is None:
            errors.append("only_users: %r is neither an IAM user name nor a user ARN" % entry)
    seen = set()
    for entry in users:
        parsed = parse_user(entry)
        if parsed is None:
            errors.append("%r is neither an IAM user name (1-64 of letters, digits and _+=,.@-) nor a user ARN "
                          "(arn:aws:iam::123456789012:user/Name)" % entry)
            continue
        if parsed[1] in seen:
            errors.append("user %s is listed more than once" % parsed[1])
        seen.add(parsed[1])
    concurrency = params.get("concurrency")
    if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
        errors.append("concurrency must be between 1 and %d, got %d" % (MAX_CONCURRENCY, concurrency))
    if secret_kind is None:
        return errors
    errors.extend(secret_errors(params["secret"], secret_kind))
    if params["return_secret"] and not module.no_log:
        errors.append("return_secret requires no_log: true on the task, so the secret stays out of the output")
    return errors


def user_names_in_account(users, account_id):
    """User names, once ARNs are checked against the account the session is in."""
    names, errors = [], []
    for entry in users:
        arn_account, name = parse_user(entry)
        if arn_account is not None and arn_account != account_id:
            errors.append("user ARN %s is in account %s, but the credentials are for account %s; "
                          "use assume_role_arn to reach that account" % (entry, arn_account, account_id))
        names.append(name)
    return names, errors


def connect_checked(module, errors, users):
    """Fail on the input errors, else connect and resolve the users (names or ARNs) in the caller's account.

    Returns (connection, account id, user names); fails the module, changing nothing, on any problem.
    """
    if errors:
        module.fail_json(msg="; ".join(errors), changed=False)
    try:
        connection = connect(module.params)
        account_id = connection.account_id
    except AWSConnectionError as exc:
        module.fail_json(msg=str(exc), changed=False)
    names, errors = user_names_in_account(users, account_id)
    if errors:
        module.fail_json(msg="; ".join(errors), changed=False)
    return connection, account_id, names


@dataclass
class Prepared:
    """What a rotation module works with once its input is checked: the connection, the users, their destinations.

    ``selection`` is what the module returns about the choice of users:
    ``selected``, ``exempted_users``, ``unresolved_users`` (``{user_name, msg}``:
    named users that do not exist, users whose tags could not be read),
    ``without_console`` (filled by the password module) and, when the users
    are chosen from the account, ``exemptions`` (``{user, state, until,
    days_left, reason, msg}``: every chosen user's exemption tag, active,
    expired or malformed; owners' digests read them).
    """

    connection: object
    account_id: str
    users: list
    destinations: object
    selection: dict
    gateway: object


def only(names, entries):
    """The names among ``names`` that ``entries`` (user names or ARNs) name; all of them when it is empty."""
    wanted = {parse_user(entry)[1] for entry in entries}
    return [name for name in names if not wanted or name in wanted]


def choose_users(module, gateway, names):
    """(users to rotate, selection result) for the module's selection options; fails the module, changing nothing,
    when the account's users cannot be read."""
    params = module.params
    if not selection_asked(params):
        # No exemption tag is read: no ``exemptions`` either (the rotation modules' RETURN: "returned: when the users
        # are chosen from the account").
        return names, dict(selected=names, exempted_users=[], unresolved_users=[], without_console=[])
    try:
        # Choosing from the account exempts users as iam_rotation_info does, unless exempt_tag is "" (no exemption).
        found = select_in_account(gateway, UserFilter.from_params(names, params))
    except RotationError as exc:
        module.fail_json(msg="%s; nothing was changed" % exc, changed=False)
    chosen = only(found.selection.selected, params["only_users"])
    unresolved = [entry for entry in found.unresolved if only([entry["user_name"]], params["only_users"])]
    # A user only_users leaves out is not this run's: neither its exemption nor a warning that it "is rotated".
    exempted = only(found.selection.exempted, params["only_users"])
    exemptions = [exemption for exemption in found.selection.exemptions if only([exemption.user], params["only_users"])]
    warn_lapsed_exemptions(module, exemptions)
    return chosen, dict(selected=chosen, exempted_users=exempted, unresolved_users=unresolved,
                        without_console=[], exemptions=[exemption.as_result() for exemption in exemptions])


def warn_lapsed_exemptions(module, exemptions):
    """A warning per expired or malformed exemption: its user is rotated, and somebody should renew or remove it."""
    for exemption in exemptions:
        if not exemption.exempts:
            module.warn("user %s: %s" % (exemption.user, exemption.msg))


def prepare(module, non_negative, secret_kind, gateway_for, narrow=None):
    """Check input, connect, choose the users and make their destinations; fails the module, changing nothing,
    on any problem.

    ``gateway_for(connection)`` makes the IAMGateway the module uses; ``narrow(gateway, users, selection)``
    may leave users out (recording why in ``selection``).
    """
    params = module.params
    connection, account_id, names = connect_checked(module, input_errors(module, non_negative, secret_kind),
                                                    selected_users(params))
    gateway = gateway_for(connection)
    users, selection = choose_users(module, gateway, names)
    if narrow is not None:
        # Before the destinations are checked: a user the module leaves out needs none.
        users = narrow(gateway, users, selection)
    destinations = SerializedDestinations(DestinationFactory(params["secret"], connection, account_id, secret_kind,
                                                             module=module))
    # Made here, in one thread, for every user: this also makes the clients the
    # destinations use, which the worker threads then share.
    errors = destination_errors([destinations.for_user(user) for user in users], users)
    if errors:
        module.fail_json(msg="%s; nothing was changed" % "; ".join(errors), changed=False)
    return Prepared(connection, account_id, users, destinations, selection, gateway)


def destination_errors(destinations, users):
    """What keeps these users' destinations from being written, and destinations users would share.

    Each user needs its own: a secret, parameter or file (and its pending
    name, ``<name>-pending`` or ``<path>.pending``) that two users write
    would hand one user's consumers the other's credentials.  Distinct
    profiles of one credentials file are distinct destinations.
    """
    errors, writers = [], {}
    for user, destination in zip(users, destinations):
        problem = destination.problems()
        if problem:
            errors.append("%s (user %s)" % (problem, user))
        for slot in destination.slots():
            writers.setdefault(slot, []).append(user)
    for slot, names in writers.items():
        if len(names) > 1:
            errors.append("users %s would all write %s; give each user its own destination, with {user_name}"
                          % (", ".join(names), slot_text(slot)))
    return errors


def slot_text(slot):
    """A destination slot as the play names it: ``file <path> [profile <p>]`` or ``<type> <name>``."""
    if slot[0] == "file":
        return "file %s" % slot[1] + (" profile %s" % slot[2] if len(slot) > 2 else "")
    return "%s %s" % (slot[0], slot[-1])


class SerializedDestinations:
    """Hands out destinations whose writes never overlap when users share one resource.

    Users run in threads; two users writing one credentials file at once
    would each rewrite it from what they read, and one profile would be
    lost.  The lock is the resource's (a file's path, a secret's or
    parameter's name in its account and region), not the user's profile,
    and a whole store (snapshot, write, read-back and restore) holds it.
    """

    def __init__(self, factory):
        self.factory = factory
        self._guard = threading.Lock()
        self._locks = {}

    def _lock(self, destination):
        with self._guard:
            # Reentrant: a store holds it and then writes, or puts back, through the same destination.
            return self._locks.setdefault(destination.resource(), threading.RLock())

    def for_user(self, user_name):
        destination = self.factory.for_user(user_name)
        return _SerializedDestination(destination, self._lock(destination))


class _SerializedDestination:
    def __init__(self, destination, lock):
        self._destination = destination
        self._lock = lock

    def __getattr__(self, name):
        return getattr(self._destination, name)

    @contextlib.contextmanager
    def exclusive(self):
        # This process's threads first, then whatever the destination holds against other processes.
        with self._lock, self._destination.exclusive():
            yield

    def write(self, secret, pending=False):
        with self._lock:
            return self._destination.write(secret, pending=pending)

    def restore(self, snapshot, pending=False):
        with self._lock:
            return self._destination.restore(snapshot, pending=pending)

    def promote(self):
        with self._lock:
            return self._destination.promote()

    def discard_pending(self):
        with self._lock:
            return self._destination.discard_pending()


def run_concurrently(work, items, concurrency):
    """``[work(item) for item in items]``, with at most ``concurrency`` items under way at once.

    The results keep the order of ``items``.  ``work`` must not raise (the
    rotators' ``rotate_user`` turns every failure into an outcome); each
    worker only touches its own user's outcome, plus the thread-safe clients
    and the module's ``no_log_values`` set (``set.add`` is atomic).
    """
    items = list(items)
    if concurrency <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items)), thread_name_prefix="rotator") as pool:
        return list(pool.map(work, items))


def secret_hider(module):
    """A callback that masks a secret in everything the module returns, unless it is to be returned."""
    def hide(value):
        if not module.params["return_secret"]:
            module.no_log_values.add(value)
    return hide


def finish(module, outcomes, user_result, user_diff, what, prepared):
    """Exit with one entry per user; fail at the end, naming the users that failed and the users the selection
    could not resolve (after every other user was rotated)."""
    for outcome in outcomes:
        for warning in outcome.warnings:
            module.warn("user %s: %s" % (outcome.user_name, warning))
    result = dict(
        changed=any(outcome.changed for outcome in outcomes),
        users=[user_result(outcome, module.params["return_secret"]) for outcome in outcomes],
        failed_users=[outcome.user_name for outcome in outcomes if outcome.status == "failed"],
    )
    result.update(account_id=prepared.account_id, selection=prepared.selection)
    if module._diff:
        result["diff"] = [user_diff(outcome) for outcome in outcomes if outcome.changed]
    failures = ["%s: %s" % (outcome.user_name, outcome.msg) for outcome in outcomes if outcome.status == "failed"]
    if module.params["fail_on_unresolved_users"]:
        failures.extend(entry["msg"] for entry in prepared.selection["unresolved_users"])
    if failures:
        module.fail_json(msg="%s failed for %s" % (what, "; ".join(failures)), **result)
    module.exit_json(**result)

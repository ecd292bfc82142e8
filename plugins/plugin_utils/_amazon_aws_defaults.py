# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The connection options of ``module_defaults: group/amazon.aws.aws`` (and ``group/aws``), for our modules.

This is for the collection's own use; it may change in any release.

Users set their AWS connection once for every AWS module with
``module_defaults: {group/amazon.aws.aws: {...}}``, or with ansible-core's
``group/aws`` that extends it.  ansible-core gives a task the defaults of
the groups that hold its action, and a group holds only what its own
collection's ``meta/runtime.yml`` lists and the groups it extends list
(``Base._resolve_group``): amazon.aws's group can never hold our modules,
and our ``group/rotator.aws_iam.aws``, which extends amazon.aws's, only
helps a play that names ours.  So the action plugin of each of our modules,
which runs for every task (in-process or not), adds those groups' connection
options to the task's arguments itself.

What wins, highest first: the task's own arguments and our own
``module_defaults`` (the task executor already merged both into the task's
arguments), then ``group/amazon.aws.aws`` and ``group/aws`` (the entry set
last in the play, block or task wins, as ansible-core merges them), then the
environment variables.  Only amazon.aws's connection options that our
modules have are taken, under any of their names; an option the arguments
set under any of its names is left as it is.  A group's ``aws_config``
brings no ``retries`` key that the arguments set with our own
``max_attempts`` or ``retry_mode``.
"""

from __future__ import annotations

from ansible.errors import AnsibleError

# How ansible-core records the groups: ``group/aws`` is ansible.builtin's (it extends amazon.aws.aws).
AMAZON_AWS_GROUPS = ("group/amazon.aws.aws", "group/ansible.builtin.aws")

# The options of amazon.aws's doc fragments common and region that our modules have
# (debug_botocore_endpoint_logs is theirs alone).
AMAZON_AWS_OPTIONS = ("access_key", "secret_key", "session_token", "profile", "region", "endpoint_url",
                      "validate_certs", "aws_ca_bundle", "aws_config")
# amazon.aws's common options (its doc fragment common) that our modules do not have.  ansible-core gives a group's
# defaults to every module the group holds, so group/rotator.aws_iam.aws (amazon.aws's modules and ours) hands them
# to ours too, where they would fail the task as unsupported parameters.
AMAZON_AWS_ONLY_OPTIONS = ("debug_botocore_endpoint_logs",)
# Our own retry options (amazon.aws has none) and the keys of aws_config's retries that set the same thing.
RETRY_OPTIONS = {"max_attempts": ("max_attempts", "total_max_attempts"), "retry_mode": ("mode",)}


def option_names(argument_spec):
    """Each name (option or alias) of amazon.aws's connection options in ``argument_spec``, to its option."""
    names = {}
    for option in AMAZON_AWS_OPTIONS:
        if option in argument_spec:
            for name in [option] + list(argument_spec[option].get("aliases", [])):
                names[name] = option
    return names


def amazon_aws_group_defaults(module_defaults, templar):
    """What amazon.aws's groups set in the task's ``module_defaults`` (a list of dicts), templated; later wins."""
    merged = {}
    for entry in module_defaults or []:
        merged.update(entry)
    found = {}
    for key, value in merged.items():
        if key not in AMAZON_AWS_GROUPS:
            continue
        value = templar.template(value)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise AnsibleError("module_defaults %s must be a dictionary of module options" % key)
        found.update(value)
    return found


def without_amazon_aws_only_options(args):
    """``args`` without amazon.aws's common options that our modules do not have (see AMAZON_AWS_ONLY_OPTIONS)."""
    return {name: value for name, value in args.items() if name not in AMAZON_AWS_ONLY_OPTIONS}


def without_retries_set_by(aws_config, args):
    """The group's ``aws_config`` less the ``retries`` keys that ``args`` set with our own retry options.

    In a module's arguments ``aws_config``'s retries replace ``max_attempts`` and ``retry_mode``; from a group
    they rank below the task's arguments, so the task's own options keep their say.
    """
    retries = aws_config.get("retries") if isinstance(aws_config, dict) else None
    if not isinstance(retries, dict):
        return aws_config
    set_by_args = {key for option, keys in RETRY_OPTIONS.items() if args.get(option) is not None for key in keys}
    if not set_by_args.intersection(retries):
        return aws_config
    return dict(aws_config, retries={key: value for key, value in retries.items() if key not in set_by_args})


def with_group_defaults(args, defaults, names, omit=None):
    """``args`` plus each default whose option ``args`` does not set under any of its names, under the option's name.

    ``omit`` is the play's omit placeholder (ansible-core before 2.19 leaves it in templated values).
    """
    taken = {names[name] for name in args if name in names}
    applied = dict(args)
    for name, value in defaults.items():
        option = names.get(name)
        if option is None or option in taken or (omit is not None and value == omit):
            continue
        applied[option] = without_retries_set_by(value, args) if option == "aws_config" else value
    return applied

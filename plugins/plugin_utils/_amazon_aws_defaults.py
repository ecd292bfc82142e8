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
set under any of its names is left as it is.
"""

from __future__ import annotations

from ansible.errors import AnsibleError

# How ansible-core records the groups: ``group/aws`` is ansible.builtin's (it extends amazon.aws.aws).
AMAZON_AWS_GROUPS = ("group/amazon.aws.aws", "group/ansible.builtin.aws")

# The options of amazon.aws's doc fragments common and region that our modules have
# (debug_botocore_endpoint_logs is theirs alone).
AMAZON_AWS_OPTIONS = ("access_key", "secret_key", "session_token", "profile", "region", "endpoint_url",
                      "validate_certs", "aws_ca_bundle", "aws_config")


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
        applied[option] = value
    return applied

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The secret destinations, and the ``secret`` option built from what each declares.

Each destination class holds its name (``type``), its ``options``, their
checks (``option_errors``), its ``default_names`` and how it is made for a
user (``for_user``).  This file only lists the classes; a new destination is
a new file and one more entry in :data:`DESTINATIONS`.
"""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import ACCESS_KEY, expand
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.file import FileDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.none import NoDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.secretsmanager import SecretsManagerDestination
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.ssm import SSMParameterDestination

# In the order their options appear in the ``secret`` option; the first is the default type.
DESTINATIONS = (SecretsManagerDestination, SSMParameterDestination, FileDestination, NoDestination)


class DestinationRegistry:
    """The destination classes by type, and the ``secret`` option's argument spec and checks made of them."""

    def __init__(self, destinations):
        self.destinations = {destination.type: destination for destination in destinations}
        self.argspec = _argspec(destinations)

    def destination(self, secret_type):
        return self.destinations[secret_type]

    def secret_errors(self, options, secret_kind=ACCESS_KEY) -> list:
        """Problems with the ``secret`` option, found before anything changes.

        Options that only other types take are refused; the chosen type
        checks its own.
        """
        secret_type = options["type"]
        destination = self.destination(secret_type)
        errors = []
        for option in sorted(set(self.argspec) - {"type"} - set(destination.options)):
            if options.get(option) is not None:
                errors.append("secret.%s does not apply to secret type %s" % (option, secret_type))
        errors.extend(destination.option_errors(options, secret_kind))
        return errors


def _argspec(destinations):
    spec = dict(type=dict(type="str", choices=[destination.type for destination in destinations],
                          default=destinations[0].type))
    for destination in destinations:
        for name, option in destination.options.items():
            # Types may share an option (Secrets Manager and SSM both take a name); it must mean one thing.
            if spec.setdefault(name, option) != option:
                raise ValueError("secret.%s of secret type %s differs from the one another type declares"
                                 % (name, destination.type))
    return spec


REGISTRY = DestinationRegistry(DESTINATIONS)
SECRET_ARGSPEC = REGISTRY.argspec


def secret_errors(options, secret_kind=ACCESS_KEY) -> list:
    """Problems with the ``secret`` option, found before anything changes."""
    return REGISTRY.secret_errors(options, secret_kind)


class DestinationFactory:
    """Makes the destination of each user from the ``secret`` option.

    What every user's destination shares (the connection to a central
    secrets account) is made once, by :meth:`once`, when a destination
    first needs it.  Files are written through the module (``atomic_move``,
    file attributes) when there is one.
    """

    def __init__(self, options, connection, account_id, kind=ACCESS_KEY, module=None, registry=REGISTRY):
        self.options = options
        self.connection = connection
        self.account_id = account_id
        self.kind = kind
        self.module = module
        self.registry = registry
        self._shared = {}

    def expand(self, template, user_name):
        return expand(template, user_name, self.account_id)

    def once(self, key, make):
        """What ``make()`` returns, made on the first call with ``key`` and kept for every user after."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]

    def for_user(self, user_name):
        return self.registry.destination(self.options["type"]).for_user(self, user_name)

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""No destination: the secret lives only in this run's result (``return_secret``)."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import SecretDestination


class NoDestination(SecretDestination):
    type = "none"

    @classmethod
    def for_user(cls, factory, user_name):
        return cls()

    def __init__(self):
        self._secrets = {False: None, True: None}

    def write(self, secret, pending=False):
        self._secrets[pending] = secret

    def read(self, pending=False):
        return self._secrets[pending]

    def promote(self):
        self._secrets[False], self._secrets[True] = self._secrets[True], None

    def discard_pending(self):
        self._secrets[True] = None

    def describe(self):
        return {"type": self.type}

    def resource(self):
        return (self.type, id(self))

    def slots(self):
        return ()

    def snapshot(self, pending=False):
        return self._secrets[pending]

    def restore(self, snapshot, pending=False):
        self._secrets[pending] = snapshot

# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""No destination: the secret lives only in this run's result (``return_secret``)."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils.secret_destination import SecretDestination


class NoDestination(SecretDestination):
    type = "none"

    def __init__(self):
        self._secret = None

    def write(self, secret):
        self._secret = secret

    def read(self):
        return self._secret

    def describe(self):
        return {"type": self.type}

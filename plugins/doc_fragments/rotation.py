# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options every rotating module shares.
    DOCUMENTATION = r"""
options:
  concurrency:
    description:
      - How many users are handled at once, each in its own thread; V(1) handles them one after the other.
      - This also bounds the AWS calls under way at once for the account. With many accounts, the play's forks
        multiply it.
      - Throttling is retried with botocore's retry mode (O(retry_mode), V(adaptive) also slows the client down).
      - From V(1) to V(10), the number of connections a botocore client keeps.
    type: int
    default: 8
"""

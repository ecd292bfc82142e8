# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Telling the owners of IAM credentials what a run did and what is due: digests, their channels, their fingerprints.

For this collection's own use; its names may change in any release.
"""

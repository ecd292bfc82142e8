# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Choosing the users of the account in the rotating call itself (iam_access_key_rotate, iam_password_rotate).
    DOCUMENTATION = r"""
options:
  path_prefix:
    description:
      - Choose the users under this IAM path (V(/) for all), instead of, or together with, naming them in
        O(users). Users are then read with C(ListUsers) in the same call that rotates them.
      - Any of O(path_prefix), O(tags), O(groups), O(exclude_users), O(exempt_tag) and O(only_users) makes the
        module choose its users from the account, as M(rotator.aws_iam.iam_rotation_info) does; the choice is
        returned in RV(selection).
      - Named users that do not exist under the path are reported in RV(selection.unresolved_users).
    type: str
  tags:
    description:
      - Only users that carry every one of these tags with this value.
    type: dict
    default: {}
  groups:
    description:
      - Only users that are members of at least one of these IAM groups.
    type: list
    elements: str
    default: []
  exclude_users:
    description:
      - User names never chosen.
    type: list
    elements: str
    default: []
  exempt_tag:
    description:
      - The key of the exemption tag. Its value is C(until=YYYY-MM-DD reason=<text>) (words separated by spaces, since IAM
        tag values allow no C(;) or C(,)), for example C(until=2027-03-31 reason=SEC-123 break-glass account).
      - A user whose exemption tag holds an end date that has not passed is not rotated; it is named in
        RV(selection.exempted_users). The end date is a UTC day and is included; the user is rotated from the next day.
      - An expired exemption, and a malformed value (no C(until=), a day that does not exist, an unknown field, a bare
        value such as C(true)), no longer exempts. The user is rotated as usual, the module warns, and every
        exemption is listed with its state, end date, days left and reason in RV(selection.exemptions).
      - Must be a valid IAM tag key (1 to 128 letters, digits, spaces and C(_.:/=+-@)); otherwise the module fails
        before any AWS call.
      - When the module chooses its users (any of the options above), it defaults to C(rotator:exempt), as in
        M(rotator.aws_iam.iam_rotation_info); an empty string turns exemption off. A call that only names its
        users in O(users) or O(user_name) rotates them all unless this is set.
      - A user whose tags cannot be read is neither rotated nor taken as exempt; it is reported in
        RV(selection.unresolved_users).
    type: str
  only_users:
    description:
      - Narrow the chosen users to these (names or ARNs), for a run that handles a few users of a wider choice.
      - The users it leaves out are not this run's, so they are in neither C(selection.exempted_users) nor
        RV(selection.exemptions).
    type: list
    elements: str
    default: []
  fail_on_unresolved_users:
    description:
      - Fail, after every other user was handled, when a named user does not exist or a user's tags could not
        be read. V(false) only reports them in RV(selection.unresolved_users).
    type: bool
    default: true
"""

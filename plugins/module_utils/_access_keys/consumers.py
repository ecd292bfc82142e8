# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Consumers of a user's access key: who must confirm the new key before the old one is deactivated.

A consumer is a name (the role runs its task file with the new key); the
module only needs the names each user has, and the names that confirmed the
user's current new key.  Confirmations are recorded as one tag on the user,
bound to the key they confirmed, so a confirmation of an earlier rotation
never counts for a later one.  The tag holds names and a time, never a secret.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    StateFormatError,
    decode_state,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.errors import RotationError, call
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam_users import MAX_USER_TAGS, room_for_tag
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.times import format_time, parse_time

CONSUMERS_TAG = "rotator:consumers"
_VERSION = "v1"
# Characters IAM allows in a tag value, without the "/" that separates names and the "=" of fields.
CONSUMER_NAME = re.compile(r"^[A-Za-z0-9_.:+@-]{1,48}$", re.ASCII)
# IAM tag values hold at most 256 characters ("IAM and AWS STS quotas", IAM User Guide).
MAX_TAG_VALUE = 256


@dataclass(frozen=True)
class Confirmations:
    """The consumers that confirmed ``access_key_id`` (the user's new key), and when the last one did."""

    access_key_id: str | None = None
    names: tuple = ()
    at: object = None

    def for_key(self, access_key_id):
        """The names that confirmed ``access_key_id``; none when they confirmed another key."""
        return self.names if access_key_id and access_key_id == self.access_key_id else ()


def encode_confirmations(confirmations: Confirmations) -> str:
    fields = [_VERSION, "key=" + confirmations.access_key_id, "done=" + "/".join(confirmations.names)]
    if confirmations.at is not None:
        fields.append("at=" + format_time(confirmations.at))
    return " ".join(fields)


class ConsumerTagError(ValueError):
    """A consumers tag that cannot be read (edited by hand?): no confirmation is taken from it."""


def decode_confirmations(value) -> Confirmations:
    if value is None:
        return Confirmations()
    parts = value.split()
    if not parts or parts[0] != _VERSION:
        raise ConsumerTagError("unsupported value of tag %s: %r" % (CONSUMERS_TAG, value))
    fields = dict(part.partition("=")[::2] for part in parts[1:])
    try:
        return Confirmations(access_key_id=fields["key"], names=tuple(name for name in fields.get("done", "").split("/")
                                                                      if name),
                             at=parse_time(fields["at"]) if "at" in fields else None)
    except (KeyError, ValueError) as exc:
        raise ConsumerTagError("malformed value of tag %s: %r (%s)" % (CONSUMERS_TAG, value, exc)) from None


def confirm(confirmations: Confirmations, access_key_id, name, now) -> Confirmations:
    """The confirmations once ``name`` confirmed ``access_key_id``; those of another key are dropped."""
    names = confirmations.for_key(access_key_id)
    if name not in names:
        names = names + (name,)
    return Confirmations(access_key_id=access_key_id, names=names, at=now)


@dataclass(frozen=True)
class Consumer:
    name: str
    users: tuple = ("*",)

    def serves(self, user_name):
        # IAM user names are unique regardless of case ("Users", IAM API reference), so a pattern written in
        # another case than IAM's still names the user, and must hold its old key.
        return any(fnmatch.fnmatchcase(user_name.casefold(), pattern.casefold()) for pattern in self.users)


class Consumers:
    """The consumers of the run, and which of them each user has."""

    def __init__(self, consumers=()):
        self.consumers = tuple(consumers)

    @classmethod
    def from_params(cls, entries):
        # Only a missing list means every user: an empty one is refused (consumer_errors).
        return cls(Consumer(entry["name"], ("*",) if entry.get("users") is None else tuple(entry["users"]))
                   for entry in entries or ())

    def __bool__(self):
        return bool(self.consumers)

    def names_for(self, user_name):
        return tuple(consumer.name for consumer in self.consumers if consumer.serves(user_name))

    def pending(self, user_name, confirmations: Confirmations, new_key_id):
        """Names of the user's consumers that did not confirm ``new_key_id`` yet, in the order given."""
        done = confirmations.for_key(new_key_id)
        return tuple(name for name in self.names_for(user_name) if name not in done)


def consumer_errors(entries):
    """Everything wrong with the consumer definitions, found before any AWS call."""
    errors = []
    seen = set()
    for number, entry in enumerate(entries or (), start=1):
        name = entry.get("name")
        if not name or not CONSUMER_NAME.match(name):
            errors.append("consumers[%d]: name %r must be 1-48 of letters, digits and _.:+@- (it is recorded in the "
                          "user tag %s)" % (number, name, CONSUMERS_TAG))
            continue
        if name in seen:
            errors.append("consumers[%d]: name %s is used more than once" % (number, name))
        seen.add(name)
        if entry.get("users") is not None and not entry["users"]:
            errors.append("consumers[%d] (%s): users is empty, so it would serve no user; name its users or patterns, "
                          "or leave users out for every user" % (number, name))
        for pattern in entry.get("users") or ():
            if not pattern:
                errors.append("consumers[%d] (%s): users holds an empty pattern" % (number, name))
    # The most a tag could hold: every name confirmed for a 128-character key id, with a time.
    longest = Confirmations("A" * 128, tuple(seen), parse_time("20000101T000000Z"))
    if seen and len(encode_confirmations(longest)) > MAX_TAG_VALUE:
        errors.append("consumers: the names of all consumers together are too long to be recorded in the user tag %s "
                      "(at most %d characters); use shorter names" % (CONSUMERS_TAG, MAX_TAG_VALUE))
    return errors


def record_confirmation(gateway, user_name, access_key_id, name, now, check_mode=False):
    """Record that consumer ``name`` confirmed ``access_key_id``; returns whether the tag changed.

    Refused, recording nothing, unless ``access_key_id`` is the new key of the user's rotation state: a
    confirmation of a key that is no longer the new one would release the wrong old key.
    """
    tags = gateway.user_tags(user_name)
    try:
        state = decode_state(tags.get(ACCESS_KEY_STATE_TAG))
    except StateFormatError as exc:
        raise RotationError("tag %s of user %s: %s" % (ACCESS_KEY_STATE_TAG, user_name, exc)) from None
    if state.new_key != access_key_id or state.creating is not None:
        raise RotationError("consumer %s confirmed key %s, which is not the new key of %s's rotation (%s); nothing was "
                            "recorded" % (name, access_key_id, user_name, state.new_key or "no rotation recorded"))
    try:
        confirmations = decode_confirmations(tags.get(CONSUMERS_TAG))
    except ConsumerTagError:
        confirmations = Confirmations()  # rewritten whole below, from this confirmation on
    if name in confirmations.for_key(access_key_id):
        return False
    if not room_for_tag(tags, CONSUMERS_TAG):
        raise RotationError("user %s has %d tags, the most IAM allows, and none is %s, so consumer %s's confirmation "
                            "cannot be recorded; the old key stays active. Remove one tag"
                            % (user_name, MAX_USER_TAGS, CONSUMERS_TAG, name))
    if not check_mode:
        value = encode_confirmations(confirm(confirmations, access_key_id, name, now))
        call("recording consumer %s of %s" % (name, user_name), gateway.iam.tag_user, UserName=user_name,
             Tags=[{"Key": CONSUMERS_TAG, "Value": value}])
    return True

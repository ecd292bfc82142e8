# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Console passwords that satisfy an account's password policy.

Pure: the policy comes from ``GetAccountPasswordPolicy`` (or AWS's default
policy when the account has none); randomness comes from :mod:`secrets`.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

# The symbols IAM counts as "non-alphanumeric" in a password policy.
SYMBOLS = "!@#$%^&*()_+-=[]{}|'"
CLASSES = {
    "uppercase": string.ascii_uppercase,
    "lowercase": string.ascii_lowercase,
    "numbers": string.digits,
    "symbols": SYMBOLS,
}
# Characters easy to misread, and characters a shell or a config file treats specially.
AMBIGUOUS = "Il1O0o|'`"
SHELL_SPECIAL = "!$&*()|'\"`\\;<>?{}[]#~^"
MAX_PASSWORD_LENGTH = 128
DEFAULT_LENGTH = 20


@dataclass(frozen=True)
class PasswordPolicy:
    minimum_length: int = 8
    require_uppercase: bool = False
    require_lowercase: bool = False
    require_numbers: bool = False
    require_symbols: bool = False
    # AWS's default policy (no policy set): at least three of the four classes.
    min_classes: int = 0
    is_default: bool = False
    # What the account does to old passwords: expiry after max_password_age days (None: never),
    # a lock-out at expiry (hard_expiry), and how many previous passwords cannot be set again.
    max_password_age: int | None = None
    hard_expiry: bool = False
    reuse_prevention: int = 0

    @property
    def required_classes(self):
        return tuple(name for name, flag in (("uppercase", self.require_uppercase), ("lowercase", self.require_lowercase),
                                             ("numbers", self.require_numbers), ("symbols", self.require_symbols)) if flag)


AWS_DEFAULT_POLICY = PasswordPolicy(minimum_length=8, min_classes=3, is_default=True)


def policy_from_api(answer):
    """A PasswordPolicy from GetAccountPasswordPolicy's ``PasswordPolicy``, or AWS's default for None."""
    if answer is None:
        return AWS_DEFAULT_POLICY
    return PasswordPolicy(
        minimum_length=answer.get("MinimumPasswordLength", 6),
        require_uppercase=answer.get("RequireUppercaseCharacters", False),
        require_lowercase=answer.get("RequireLowercaseCharacters", False),
        require_numbers=answer.get("RequireNumbers", False),
        require_symbols=answer.get("RequireSymbols", False),
        # 0 or absent: passwords never expire (ExpirePasswords is false).
        max_password_age=answer.get("MaxPasswordAge") or None,
        hard_expiry=answer.get("HardExpiry", False),
        reuse_prevention=answer.get("PasswordReusePrevention", 0),
    )


def expiry_problems(policy, rotate_after_days):
    """(error, warning) about rotating every ``rotate_after_days`` under the account's password expiry.

    A password older than MaxPasswordAge expires: at the next sign-in the
    user must choose a new one, and the destination no longer holds the
    password IAM has.  With HardExpiry the user cannot choose one and is
    locked out until an administrator sets a password: that input is refused.
    """
    if not policy.max_password_age or rotate_after_days < policy.max_password_age:
        return None, None
    text = ("rotate_after_days %s is not below the account's MaxPasswordAge of %d days: passwords expire before they "
            "are rotated" % (rotate_after_days, policy.max_password_age))
    if policy.hard_expiry:
        return ("%s, and with HardExpiry an expired password locks the user out; set rotate_after_days below %d"
                % (text, policy.max_password_age)), None
    return None, ("%s, and users must choose a new one at sign-in, which the secret destination will not hold; set "
                  "rotate_after_days below %d" % (text, policy.max_password_age))


class PasswordSpecError(ValueError):
    """The options and the policy cannot be satisfied together."""


def character_classes(policy, require=(), exclude=""):
    """The alphabet of each class after exclusions, and the classes every password must contain.

    All four classes are used whenever they have characters left, so a
    password is as strong as the exclusions allow; the required ones are
    guaranteed at least one character each.
    """
    alphabets = {name: "".join(ch for ch in chars if ch not in exclude) for name, chars in CLASSES.items()}
    required = set(policy.required_classes) | set(require)
    available = [name for name, chars in alphabets.items() if chars]
    if policy.min_classes > len(required):
        # Prefer the classes with the most characters left for the "any three of four" rule.
        extra = sorted((name for name in available if name not in required), key=lambda n: -len(alphabets[n]))
        required |= set(extra[:policy.min_classes - len(required)])
    for name in sorted(required):
        if not alphabets[name]:
            raise PasswordSpecError("the %s class is required but every one of its characters is excluded" % name)
    if len(required) < policy.min_classes:
        raise PasswordSpecError("the password policy needs %d character classes but only %d have characters left"
                                % (policy.min_classes, len(required)))
    return {name: alphabets[name] for name in available}, tuple(sorted(required))


def password_length(policy, requested=None):
    length = requested if requested is not None else max(DEFAULT_LENGTH, policy.minimum_length)
    if length < policy.minimum_length:
        raise PasswordSpecError("password_length %d is below the account's minimum of %d"
                                % (length, policy.minimum_length))
    if length > MAX_PASSWORD_LENGTH:
        raise PasswordSpecError("password_length %d is above IAM's maximum of %d" % (length, MAX_PASSWORD_LENGTH))
    return length


def generate_password(policy, length=None, require=(), exclude="", user_name=None):
    """A random password satisfying ``policy``, with at least one character of each required class."""
    length = password_length(policy, length)
    alphabets, required = character_classes(policy, require, exclude)
    if len(required) > length:
        raise PasswordSpecError("password_length %d cannot hold the %d required character classes"
                                % (length, len(required)))
    everything = "".join(alphabets.values())
    while True:
        chars = [secrets.choice(alphabets[name]) for name in required]
        chars += [secrets.choice(everything) for _index in range(length - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        if not password_violations(password, policy, user_name, require, exclude):
            return password


def password_violations(password, policy, user_name=None, require=(), exclude=""):
    """Every rule ``password`` breaks; empty when it satisfies all of them."""
    problems = []
    if len(password) < policy.minimum_length:
        problems.append("shorter than %d" % policy.minimum_length)
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append("longer than %d" % MAX_PASSWORD_LENGTH)
    present = {name for name, chars in CLASSES.items() if any(ch in chars for ch in password)}
    for name in set(policy.required_classes) | set(require):
        if name not in present:
            problems.append("no %s character" % name)
    if len(present) < policy.min_classes:
        problems.append("fewer than %d character classes" % policy.min_classes)
    allowed = set("".join(CLASSES.values()))
    if any(ch not in allowed for ch in password):
        problems.append("a character outside the allowed classes")
    if any(ch in exclude for ch in password):
        problems.append("an excluded character")
    if user_name and password.lower() == user_name.lower():
        problems.append("equal to the user name")
    return problems

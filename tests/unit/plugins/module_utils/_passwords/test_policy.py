"""The generator against many policies: every password satisfies every rule."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.policy import (
    AMBIGUOUS,
    AWS_DEFAULT_POLICY,
    CLASSES,
    SHELL_SPECIAL,
    SYMBOLS,
    PasswordPolicy,
    PasswordSpecError,
    expiry_problems,
    generate_password,
    password_violations,
    policy_from_api,
)

policies = st.builds(
    PasswordPolicy,
    minimum_length=st.integers(min_value=6, max_value=128),
    require_uppercase=st.booleans(),
    require_lowercase=st.booleans(),
    require_numbers=st.booleans(),
    require_symbols=st.booleans(),
)
class_names = st.sampled_from(sorted(CLASSES))


@settings(max_examples=300, deadline=None)
@given(policy=st.one_of(policies, st.just(AWS_DEFAULT_POLICY)),
       require=st.lists(class_names, unique=True, max_size=4),
       exclude=st.sampled_from(["", AMBIGUOUS, SHELL_SPECIAL, AMBIGUOUS + SHELL_SPECIAL]),
       extra=st.integers(min_value=0, max_value=20))
def test_every_generated_password_satisfies_every_rule(policy, require, exclude, extra):
    length = min(max(policy.minimum_length, 4) + extra, 128)
    password = generate_password(policy, length, require=require, exclude=exclude, user_name="alice")
    assert len(password) == length
    assert password_violations(password, policy, "alice", require, exclude) == []
    for name in set(policy.required_classes) | set(require):
        assert any(ch in CLASSES[name] for ch in password), name
    assert not set(password) & set(exclude)


def test_default_length_is_twenty_or_the_policy_minimum():
    assert len(generate_password(AWS_DEFAULT_POLICY)) == 20
    assert len(generate_password(PasswordPolicy(minimum_length=32))) == 32


def test_aws_default_policy_gets_three_classes_at_least():
    for _index in range(200):
        password = generate_password(AWS_DEFAULT_POLICY, 8)
        present = [name for name, chars in CLASSES.items() if any(ch in chars for ch in password)]
        assert len(present) >= 3, password


def test_policy_from_api_none_is_the_aws_default():
    assert policy_from_api(None) == AWS_DEFAULT_POLICY
    policy = policy_from_api({"MinimumPasswordLength": 14, "RequireSymbols": True, "RequireNumbers": True,
                              "RequireUppercaseCharacters": False, "RequireLowercaseCharacters": True})
    assert policy.minimum_length == 14
    assert policy.required_classes == ("lowercase", "numbers", "symbols")


@pytest.mark.parametrize("policy, kwargs, message", [
    (PasswordPolicy(minimum_length=30), {"length": 20}, "below the account's minimum of 30"),
    (PasswordPolicy(), {"length": 129}, "above IAM's maximum"),
    (PasswordPolicy(require_symbols=True), {"exclude": SYMBOLS}, "symbols class is required"),
    (AWS_DEFAULT_POLICY, {"exclude": SYMBOLS + "0123456789" + "abcdefghijklmnopqrstuvwxyz"}, "needs 3 character classes"),
    (PasswordPolicy(minimum_length=1), {"length": 3, "require": ["uppercase", "lowercase", "numbers", "symbols"]},
     "cannot hold the 4 required"),
])
def test_impossible_specs_are_clear_errors(policy, kwargs, message):
    with pytest.raises(PasswordSpecError, match=message):
        generate_password(policy, **kwargs)


def test_violations_name_each_broken_rule():
    policy = PasswordPolicy(minimum_length=10, require_uppercase=True, require_numbers=True, require_symbols=True)
    assert set(password_violations("abc", policy)) == {
        "shorter than 10", "no numbers character", "no symbols character", "no uppercase character"}
    assert "a character outside the allowed classes" in password_violations("Abcdefgh1!é", policy)
    assert "equal to the user name" in password_violations("Alice", PasswordPolicy(minimum_length=1), "alice")


def test_passwords_differ():
    assert len({generate_password(AWS_DEFAULT_POLICY) for _index in range(50)}) == 50


# --- expiry and reuse (case 15) ---------------------------------------------


def test_policy_from_api_keeps_expiry_and_reuse():
    policy = policy_from_api({"MinimumPasswordLength": 14, "MaxPasswordAge": 90, "ExpirePasswords": True,
                              "HardExpiry": True, "PasswordReusePrevention": 24})
    assert (policy.max_password_age, policy.hard_expiry, policy.reuse_prevention) == (90, True, 24)
    assert policy_from_api({"MinimumPasswordLength": 14, "ExpirePasswords": False}).max_password_age is None
    assert (AWS_DEFAULT_POLICY.max_password_age, AWS_DEFAULT_POLICY.reuse_prevention) == (None, 0)


def test_rotating_before_expiry_is_fine():
    assert expiry_problems(PasswordPolicy(max_password_age=90, hard_expiry=True), 89) == (None, None)
    assert expiry_problems(PasswordPolicy(), 400) == (None, None)


def test_rotating_after_a_soft_expiry_warns():
    assert expiry_problems(PasswordPolicy(max_password_age=90), 90) == (None, (
        "rotate_after_days 90 is not below the account's MaxPasswordAge of 90 days: passwords expire before they are "
        "rotated, and users must choose a new one at sign-in, which the secret destination will not hold; set "
        "rotate_after_days below 90"))


def test_rotating_after_a_hard_expiry_is_refused():
    assert expiry_problems(PasswordPolicy(max_password_age=60, hard_expiry=True), 90) == ((
        "rotate_after_days 90 is not below the account's MaxPasswordAge of 60 days: passwords expire before they are "
        "rotated, and with HardExpiry an expired password locks the user out; set rotate_after_days below 60"), None)

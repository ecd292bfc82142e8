"""The access key rotation state tag: round trip, IAM's limits on tag values, and refusing what it cannot read."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    ACCESS_KEY_STATE_TAG,
    RotationState,
    StateFormatError,
    decode_state,
    encode_state,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._common.times import format_time, parse_time
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.state_tag import PASSWORD_STATE_TAG

TAG_VALUE = re.compile(r"^[A-Za-z0-9 _.:/=+\-@]*$")
TAG_KEY = re.compile(r"^[A-Za-z0-9 _.:/=+\-@]{1,128}$")
KEY_A = "AKIAAAAAAAAAAAAAAAAA"
KEY_B = "AKIABBBBBBBBBBBBBBBB"
WHEN = datetime(2024, 6, 1, 12, 30, 45, tzinfo=timezone.utc)

key_ids = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=16, max_size=16).map("AKIA".__add__)
times = st.datetimes(min_value=datetime(2006, 1, 1), max_value=datetime(2099, 12, 31),
                     timezones=st.just(timezone.utc)).map(lambda value: value.replace(microsecond=0))


@st.composite
def states(draw):
    new_key = draw(st.none() | key_ids)
    creating = draw(st.none() | st.lists(key_ids, max_size=2, unique=True).map(tuple))
    return RotationState(
        new_key=new_key,
        old_key=draw(st.none() | key_ids),
        # ``verified`` describes the new key; without one it is not recorded.
        verified=draw(st.booleans()) if new_key else False,
        rotated_at=draw(st.none() | times),
        deactivated_at=draw(st.none() | times),
        creating=creating,
        # The announcement's time is recorded with the announcement only.
        announced_at=draw(st.none() | times) if creating is not None else None,
        incident=draw(st.booleans()),
    )


@settings(max_examples=200, deadline=None)
@given(state=states())
def test_round_trip(state):
    assert decode_state(encode_state(state)) == state


@settings(max_examples=200, deadline=None)
@given(state=states())
def test_encoded_value_fits_an_iam_tag_value(state):
    value = encode_state(state)
    assert len(value) <= 256
    assert TAG_VALUE.match(value), value


def test_longest_state_fits_an_iam_tag_value():
    state = RotationState(new_key=KEY_A, old_key=KEY_B, verified=True, rotated_at=WHEN, deactivated_at=WHEN,
                          creating=(KEY_A, KEY_B))
    value = encode_state(state)
    assert len(value) <= 256 and TAG_VALUE.match(value)
    assert decode_state(value) == state


@pytest.mark.parametrize("tag", [ACCESS_KEY_STATE_TAG, PASSWORD_STATE_TAG])
def test_tag_keys_are_valid_iam_tag_keys(tag):
    assert TAG_KEY.match(tag)
    assert not tag.lower().startswith("aws:")
    assert ACCESS_KEY_STATE_TAG != PASSWORD_STATE_TAG


@pytest.mark.parametrize("state, value", [
    pytest.param(RotationState(), "v1", id="empty"),
    pytest.param(RotationState(new_key=KEY_A, old_key=KEY_B, verified=True, rotated_at=WHEN),
                 "v1 new=%s old=%s verified=1 rotated=20240601T123045Z" % (KEY_A, KEY_B), id="rotation"),
    pytest.param(RotationState(new_key=KEY_A, verified=False), "v1 new=%s verified=0" % KEY_A, id="unverified"),
    pytest.param(RotationState(old_key=KEY_B, deactivated_at=WHEN), "v1 old=%s deactivated=20240601T123045Z" % KEY_B,
                 id="deactivated"),
    pytest.param(RotationState(creating=()), "v1 creating=-", id="creating-with-no-keys"),
    pytest.param(RotationState(creating=(KEY_A, KEY_B)), "v1 creating=%s/%s" % (KEY_A, KEY_B), id="creating-two-keys"),
])
def test_encoding(state, value):
    assert encode_state(state) == value
    assert decode_state(value) == state


def test_empty_creating_differs_from_no_creating():
    assert decode_state(encode_state(RotationState(creating=()))).creating == ()
    assert decode_state(encode_state(RotationState())).creating is None


def test_missing_tag_is_empty_state():
    state = decode_state(None)
    assert state == RotationState()
    assert state.is_empty
    assert not RotationState(new_key=KEY_A).is_empty


def test_times_are_recorded_in_utc():
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2024, 6, 1, 14, 30, 45, tzinfo=plus_two)
    assert format_time(local) == "20240601T123045Z"
    assert parse_time("20240601T123045Z") == WHEN
    assert parse_time("20240601T123045Z").tzinfo == timezone.utc
    assert decode_state(encode_state(RotationState(rotated_at=local))).rotated_at == WHEN


def test_extra_whitespace_between_fields_is_accepted():
    assert decode_state("v1  new=%s   verified=1 " % KEY_A) == RotationState(new_key=KEY_A, verified=True)


@pytest.mark.parametrize("value", [
    pytest.param("", id="empty-string"),
    pytest.param("   ", id="blank"),
    pytest.param("v2 new=%s" % KEY_A, id="unknown-version"),
    pytest.param("new=%s" % KEY_A, id="no-version"),
    pytest.param("V1 new=%s" % KEY_A, id="version-wrong-case"),
    pytest.param("v1 new=%s new=%s" % (KEY_A, KEY_B), id="duplicate-field"),
    pytest.param("v1 new=%s verified=1 verified=0" % KEY_A, id="duplicate-verified"),
    pytest.param("v1 colour=blue", id="unknown-field"),
    pytest.param("v1 new=%s owner=alice" % KEY_A, id="unknown-field-after-known"),
    pytest.param("v1 new", id="field-without-value"),
    pytest.param("v1 rotated=2024-06-01", id="bad-time"),
    pytest.param("v1 deactivated=20241301T000000Z", id="impossible-date"),
    pytest.param("v1 rotated=", id="empty-time"),
])
def test_malformed_values_are_refused(value):
    with pytest.raises(StateFormatError):
        decode_state(value)


def test_malformed_value_error_quotes_the_value():
    with pytest.raises(StateFormatError, match="colour=blue"):
        decode_state("v1 colour=blue")
    assert issubclass(StateFormatError, ValueError)


def test_with_changes_leaves_the_original_alone():
    state = RotationState(new_key=KEY_A)
    changed = state.with_changes(old_key=KEY_B)
    assert state.old_key is None
    assert changed == RotationState(new_key=KEY_A, old_key=KEY_B)

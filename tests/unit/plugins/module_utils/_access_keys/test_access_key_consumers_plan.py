"""The planner with consumers and a restore's hold: pure cases, no AWS."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.consumers import (
    Confirmations,
    Consumers,
    confirm,
    consumer_errors,
    decode_confirmations,
    encode_confirmations,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import (
    ACTIVE,
    DEACTIVATE,
    DELETE,
    INACTIVE,
    AccessKey,
    RotationPolicy,
    plan_access_key_rotation,
)
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.state_tag import (
    RotationState,
    decode_state,
    encode_state,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
OLD = AccessKey("AKIAOLDOLDOLDOLD0001", ACTIVE, NOW - timedelta(days=100))
NEW = AccessKey("AKIANEWNEWNEWNEW0002", ACTIVE, NOW - timedelta(days=10))
STATE = RotationState(new_key=NEW.access_key_id, old_key=OLD.access_key_id, verified=True,
                      rotated_at=NEW.create_date)
POLICY = RotationPolicy(deactivate_after_days=7, delete_after_days=7, in_use_guard=False, consumers_deadline_days=14)


def test_pending_consumers_hold_a_deactivation_that_is_due():
    plan = plan_access_key_rotation([OLD, NEW], STATE, POLICY, NOW, consumers_pending=("web",))
    assert (plan.status, plan.steps) == ("waiting_for_consumers", ())
    assert plan.message == ("old key AKIAOLDOLDOLDOLD0001 stays active until consumers web confirm the new key "
                            "AKIANEWNEWNEWNEW0002 (by 2026-12-02T12:00:00+00:00)")


def test_past_the_deadline_the_user_fails_and_the_old_key_stays():
    plan = plan_access_key_rotation([OLD, NEW], STATE, POLICY, NOW + timedelta(days=5), consumers_pending=("web",))
    assert (plan.status, plan.steps) == ("failed", ())
    assert plan.message.startswith("consumers web did not confirm the new key AKIANEWNEWNEWNEW0002 within 14 days")


def test_once_confirmed_the_old_key_is_deactivated():
    plan = plan_access_key_rotation([OLD, NEW], STATE, POLICY, NOW, consumers_pending=())
    assert [step.action for step in plan.steps] == [DEACTIVATE]


def test_a_revoke_does_not_wait_for_consumers():
    plan = plan_access_key_rotation([OLD, NEW], STATE, POLICY, NOW, consumers_pending=("web",),
                                    revoke=frozenset([OLD.access_key_id]))
    assert [step.action for step in plan.steps] == [DEACTIVATE]


def test_a_held_old_key_is_neither_deactivated_nor_deleted():
    held = STATE.with_changes(restored_at=NOW - timedelta(days=30))
    assert plan_access_key_rotation([OLD, NEW], held, POLICY, NOW).status == "held"
    inactive = AccessKey(OLD.access_key_id, INACTIVE, OLD.create_date)
    plan = plan_access_key_rotation([inactive, NEW], held.with_changes(deactivated_at=NOW - timedelta(days=30)),
                                    POLICY, NOW)
    assert (plan.status, plan.steps) == ("held", ())
    resumed = held.with_changes(restored_at=None, deactivated_at=NOW - timedelta(days=30))
    assert [step.action for step in plan_access_key_rotation([inactive, NEW], resumed, POLICY, NOW).steps] == [DELETE]


def test_the_hold_is_recorded_in_the_state_tag():
    held = STATE.with_changes(restored_at=datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc))
    assert encode_state(held).endswith(" restored=20261128T093000Z")
    assert decode_state(encode_state(held)) == held


def test_confirmations_count_only_for_the_key_they_confirmed():
    recorded = confirm(Confirmations(), NEW.access_key_id, "web", NOW)
    assert encode_confirmations(recorded) == "v1 key=AKIANEWNEWNEWNEW0002 done=web at=20261128T120000Z"
    assert decode_confirmations(encode_confirmations(recorded)) == recorded
    consumers = Consumers.from_params([{"name": "web"}, {"name": "batch", "users": ["app-*"]}])
    assert consumers.pending("app-1", recorded, NEW.access_key_id) == ("batch",)
    assert consumers.pending("app-1", recorded, "AKIAOTHEROTHEROTH03") == ("web", "batch")
    assert consumers.pending("db", recorded, NEW.access_key_id) == ()


def test_consumer_names_that_cannot_all_fit_in_one_tag_are_refused():
    names = [{"name": "consumer-%02d-%s" % (number, "x" * 30)} for number in range(6)]
    assert consumer_errors(names) == [
        "consumers: the names of all consumers together are too long to be recorded in the user tag "
        "rotator:consumers (at most 256 characters); use shorter names"]

"""Which connection options of amazon.aws's groups an action adds to a task's arguments, and under which name."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleError

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import CONNECTION_ARGSPEC
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._amazon_aws_defaults import (
    amazon_aws_group_defaults,
    option_names,
    with_group_defaults,
)

NAMES = option_names(CONNECTION_ARGSPEC)


class UpperTemplar:
    """Stands for the task's templar: templates every string by upper-casing it, so a test sees what was templated."""

    def template(self, value):
        if isinstance(value, dict):
            return {key: self.template(item) for key, item in value.items()}
        return value.upper() if isinstance(value, str) else value


def test_amazon_aws_names_and_aliases_map_to_our_options_and_ours_alone_are_not_taken():
    assert NAMES["aws_access_key_id"] == "access_key"
    assert NAMES["aws_secret_access_key"] == "secret_key"
    assert NAMES["aws_session_token"] == "session_token"
    assert NAMES["aws_endpoint_url"] == "endpoint_url"
    assert NAMES["aws_region"] == "region"
    assert NAMES["aws_config"] == "aws_config"
    assert NAMES["validate_certs"] == "validate_certs"
    assert NAMES["aws_ca_bundle"] == "aws_ca_bundle"
    # Ours only: amazon.aws's modules would refuse them, so a user never sets them in amazon.aws's group.
    assert "assume_role_arn" not in NAMES
    assert "max_attempts" not in NAMES


def test_the_group_fills_only_options_the_task_does_not_set_under_any_name():
    args = {"users": ["alice"], "aws_endpoint_url": "http://task", "access_key": "task-key"}
    defaults = {"endpoint_url": "http://group", "aws_access_key_id": "group-key", "aws_secret_access_key": "group",
                "aws_region": "eu-west-1"}
    assert with_group_defaults(args, defaults, NAMES) == {
        "users": ["alice"], "aws_endpoint_url": "http://task", "access_key": "task-key",
        "secret_key": "group", "region": "eu-west-1"}


def test_options_our_modules_lack_and_omitted_values_are_left_out():
    defaults = {"debug_botocore_endpoint_logs": True, "purge_tags": False, "region": "__omit_place_holder__x",
                "profile": "ops"}
    assert with_group_defaults({}, defaults, NAMES, omit="__omit_place_holder__x") == {"profile": "ops"}


def test_later_entries_win_and_values_are_templated_as_module_defaults_are():
    module_defaults = [
        {"group/amazon.aws.aws": {"region": "eu-west-1", "profile": "play"}},
        {"group/ansible.builtin.aws": {"profile": "block"}, "rotator.aws_iam.iam_access_key_rotate": {"x": "y"}},
        {"group/rotator.aws_iam.aws_iam": {"profile": "ours, already in the task's arguments"}},
    ]
    assert amazon_aws_group_defaults(module_defaults, UpperTemplar()) == {"region": "EU-WEST-1", "profile": "BLOCK"}


def test_no_module_defaults_add_nothing():
    assert amazon_aws_group_defaults(None, UpperTemplar()) == {}


def test_a_group_that_is_not_a_dictionary_fails_with_its_name():
    with pytest.raises(AnsibleError, match="module_defaults group/amazon.aws.aws must be a dictionary"):
        amazon_aws_group_defaults([{"group/amazon.aws.aws": ["region"]}], UpperTemplar())

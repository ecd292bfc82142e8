"""The RETURN documentation of the rotating modules describes the structure they return, as ansible-doc shows it."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_password_rotate

MODULES = [iam_access_key_rotate, iam_password_rotate]


def nested(entries, path=""):
    """(path, entry) of every documented value, depth first."""
    for name, entry in entries.items():
        yield path + name, entry
        yield from nested(entry.get("contains", {}), path + name + ".")


def holds_dicts(entry):
    return entry["type"] == "dict" or (entry["type"] == "list" and entry.get("elements") == "dict")


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__.rsplit(".", 1)[-1])
def test_every_nested_dict_says_what_it_contains_with_a_sample(module):
    entries = list(nested(yaml.safe_load(module.RETURN)))
    without = [path for path, entry in entries if holds_dicts(entry) and not ("contains" in entry and "sample" in entry)]
    assert without == []
    assert [path for path, entry in entries if "returned" not in entry] == []


def documented_keys(entries):
    return {name: documented_keys(entry.get("contains", {})) for name, entry in entries.items()}


def shape(value, documented):
    """The keys of ``value`` (nested dicts and lists of dicts), restricted to where the documentation has keys."""
    if isinstance(value, list):
        value = value[0] if value else {}
    if not isinstance(value, dict) or not documented:
        return {}
    return {key: shape(item, documented.get(key, {})) for key, item in value.items()}


def within(actual, documented):
    """Keys of ``actual`` that the documentation lacks, as paths."""
    missing = []
    for key, inner in actual.items():
        if key not in documented:
            missing.append(key)
        else:
            missing.extend("%s.%s" % (key, path) for path in within(inner, documented[key]))
    return missing


def test_a_rotation_returns_only_documented_fields(aws, connection_args, run_module):
    aws.user("alice", keys=1)
    failed, result = run_module(iam_access_key_rotate, dict(connection_args, users=["alice"], rotate_after_days=0,
                                                            secret={"type": "none"}, verify=False))
    assert failed is False
    assert [user["status"] for user in result["users"]] == ["rotated"]
    documented = documented_keys(yaml.safe_load(iam_access_key_rotate.RETURN))
    returned = {key: value for key, value in result.items() if key not in ("changed", "invocation", "diff")}
    assert within(shape(returned, documented), documented) == []

"""Check what the owners were sent in one stage of the owner_digests target.

Usage: python check.py STAGE WORK_DIR INTEGRATION_CONFIG

STAGE is ``check`` (--check: nothing sent), ``first`` (one digest per owner on SNS and on the webhook, exactly
what each lists) or ``again`` (only_when_changed, nothing new: nothing more sent).  Every stage searches every
digest sent, the module's result and the playbook's -vvvv log for every secret the stub saw.
"""

from __future__ import annotations

import json
import sys
import urllib.request

import yaml

OWNERS = ["alice@example.com", "dev-team@example.com", "platform@example.com"]
TOKEN = "owner-digests-hook-token"


def stubctl(config):
    sys.path.insert(0, config["stubctl"].rsplit("/", 1)[0])
    import stubctl as module  # pylint: disable=import-outside-toplevel,import-error
    return module


def sns_sent(config):
    state = stubctl(config).read_state(config["stub_state_file"])
    with urllib.request.urlopen(state["moto_url"] + "/moto-api/data.json") as answer:
        topics = json.load(answer)["sns"]["Topic"]
    return sorted((note[3]["owner"]["Value"], note[2], note[1]) for topic in topics
                  for note in topic["sent_notifications"])


def posts(work):
    try:
        with open("%s/bodies.jsonl" % work, encoding="utf-8") as record:
            return [json.loads(line) for line in record]
    except FileNotFoundError:
        return []


def lines_of(message, title):
    lines = message.splitlines()
    start = lines.index(title)
    # A section ends at an empty line, the last one at the end of the message.
    end = lines.index("", start) if "" in lines[start:] else len(lines)
    return lines[start + 1:end]


def check_first(sent, bodies, seeded, result):
    assert [owner for owner, _subject, _message in sent] == OWNERS, sent
    assert [json.loads(post["body"])["owner"] for post in bodies] == OWNERS, bodies
    assert [(d["owner"], d["reason"]) for d in result["digests"]] == [(owner, "sent") for owner in OWNERS]
    messages = {owner: message for owner, _subject, message in sent}
    rotated = "Rotated: pick the new secret up from its destination (%d):"
    alice = lines_of(messages["alice@example.com"], rotated % 2)
    assert [line.split(":")[0] for line in alice] == ["  - alice in 123456789012 (access key)",
                                                      "  - dave in 222222222222 (access key)"], alice
    assert alice[0].endswith("new secret in secretsmanager rotator/123456789012/alice/access-key us-east-1"), alice
    assert alice[1].endswith("new secret in secretsmanager rotator/222222222222/dave/access-key us-east-1"), alice
    carol = lines_of(messages["dev-team@example.com"], rotated % 1)
    assert [line.split(":")[0] for line in carol] == ["  - carol in 222222222222 (access key)"], carol
    failed = lines_of(messages["platform@example.com"], "Rotation failed (1):")
    assert [line.split(":")[0] for line in failed] == ["  - bob in 123456789012 (access key)"], failed
    for (owner, _subject, message), body in zip(sent, bodies):
        assert json.loads(body["body"])["text"] == message, owner
        assert body["authorization"] == "Bearer %s" % TOKEN
    new_keys = {user: [key for key in result_keys(result, user) if key not in seeded[user]]
                for user in ("alice", "carol", "dave")}
    assert all(len(keys) == 1 for keys in new_keys.values()), new_keys


def result_keys(result, user):
    return [item["access_key_id"] for digest in result["digests"] for item in digest["sections"]["rotated"]
            if item["user_name"] == user]


def main(stage, work, config_path):
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    with open("%s/seed.json" % work, encoding="utf-8") as handle:
        seeded = json.load(handle)
    with open("%s/%s.json" % (work, stage), encoding="utf-8") as handle:
        result = json.load(handle)
    sent, bodies = sns_sent(config), posts(work)
    if stage == "check":
        assert (sent, bodies) == ([], []), (sent, bodies)
        assert [(d["owner"], d["reason"]) for d in result["digests"]] == [(owner, "check mode") for owner in OWNERS]
    elif stage == "first":
        check_first(sent, bodies, seeded, result)
    else:
        assert len(sent) == 3 and len(bodies) == 3, (sent, bodies)
        assert [(d["owner"], d["reason"]) for d in result["digests"]] == [("platform@example.com", "no news")]
        assert result["changed"] is False
    secrets = stubctl(config).control(config["stub_state_file"], "GET", "secrets")["secrets"]
    assert secrets, "the stub saw no secret"
    with open("%s/%s.log" % (work, stage), encoding="utf-8") as handle:
        texts = [json.dumps(sent), json.dumps(bodies), json.dumps(result), handle.read()]
    leaked = [index for index, secret in enumerate(secrets) for text in texts if secret in text]
    assert leaked == [], "secrets %s leaked" % leaked
    assert all(TOKEN not in text for text in texts[2:]), "the webhook token is in the result or the log"
    counts = (stage, len(sent), len(bodies), len(secrets))
    print("%s: %d digests on SNS, %d on the webhook, %d secrets searched for" % counts)


if __name__ == "__main__":
    main(*sys.argv[1:4])

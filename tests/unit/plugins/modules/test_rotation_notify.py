"""rotation_notify against moto on loopback: who gets a digest, what it lists, on SNS, SES and a webhook.

The rotation results are those of the real ``iam_access_key_rotate`` in two
accounts (the second through an assumed role); moto's SNS and SES record what
was sent (read from moto's ``/moto-api/data.json``), and the webhook is a
receiver process on 127.0.0.1 that records every body.  No secret the stub
saw may be in any digest or in the module's output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from ansible_collections.rotator.aws_iam.plugins.modules import iam_access_key_rotate, iam_password_rotate, rotation_notify

SHARED_ROLE = "arn:aws:iam::222222222222:role/iam-rotator"
ROTATE_NOW = dict(rotate_after_days=0, verify=False, force=True, deactivate_after_days=7)
OWNERS = ["alice-team@example.com", "dave@example.com", "platform@example.com"]
EXPIRED = {"user": "dave", "state": "expired", "until": "2026-10-01", "days_left": -58, "reason": "SEC-3"}


def moto_data(aws):
    with open(aws.state_file, encoding="utf-8") as state:
        moto_url = json.load(state)["moto_url"]
    with urllib.request.urlopen(moto_url + "/moto-api/data.json") as answer:
        return json.load(answer)


def sns_sent(aws):
    """(owner attribute, subject, message) of every notification moto's topics hold."""
    return sorted((note[3]["owner"]["Value"], note[2], note[1])
                  for topic in moto_data(aws)["sns"]["Topic"] for note in topic["sent_notifications"])


def ses_sent(aws):
    return sorted((message["source"], message["destinations"]["ToAddresses"], message["subject"], message["body"])
                  for message in moto_data(aws)["ses"]["Message"])


def rotated_accounts(aws, connection_args, run_module):
    """Rotate in two accounts and return the module's ``accounts`` for them.

    prod: alice (owner tag alice-team) is rotated; bob (no tag) has two active keys and fails, so the account's
    owner (platform) is told; dave's exemption expired (the result carries ``selection.exemptions``).
    shared (assumed role): carol (owner tag alice-team) is rotated.
    """
    aws.user("alice", keys=1, tags={"rotator:owner": "alice-team@example.com"})
    aws.user("bob", keys=2)
    aws.user("dave", keys=1, tags={"rotator:owner": "dave@example.com"})
    shared = aws.connect(assume_role_arn=SHARED_ROLE).client("iam")
    shared.create_user(UserName="carol", Tags=[{"Key": "rotator:owner", "Value": "alice-team@example.com"}])
    shared.create_access_key(UserName="carol")
    _failed, prod = run_module(iam_access_key_rotate, dict(connection_args, users=["alice", "bob"], **ROTATE_NOW))
    assert [(user["user_name"], user["status"]) for user in prod["users"]] == [("alice", "rotated"), ("bob", "failed")]
    prod["selection"]["exemptions"] = [EXPIRED]
    failed, other = run_module(iam_access_key_rotate, dict(connection_args, users=["carol"],
                                                           assume_role_arn=SHARED_ROLE, **ROTATE_NOW))
    assert failed is False
    return [
        dict(host="prod", owner="platform@example.com", access_keys=prod),
        dict(host="shared", assume_role_arn=SHARED_ROLE, tags={"rotator:owner": "shared@example.com"},
             access_keys=other),
    ]


def assert_no_secret(aws, *texts):
    secrets = aws.secrets()
    assert len(secrets) >= 2
    assert [secret for secret in secrets for text in texts if secret in text] == []


def expected_lines(owner, alice_key, carol_key):
    return {
        "alice-team@example.com": [
            "Rotated: pick the new secret up from its destination (2):",
            "  - alice in 123456789012 (access key): new key %s, new secret in secretsmanager "
            "rotator/123456789012/alice/access-key us-east-1" % alice_key,
            "  - carol in 222222222222 (access key): new key %s, new secret in secretsmanager "
            "rotator/222222222222/carol/access-key us-east-1" % carol_key],
        "dave@example.com": [
            "Exemptions expired or ending soon (1):",
            "  - dave in 123456789012 (access key): exemption expired until 2026-10-01, -58 days left (reason SEC-3)"],
        "platform@example.com": ["Rotation failed (1):"],
    }[owner]


def new_key(accounts, host, user_name):
    users = {user["user_name"]: user for user in next(a for a in accounts if a["host"] == host)["access_keys"]["users"]}
    return next(action["access_key_id"] for action in users[user_name]["actions"] if action["action"] == "create")


def notify(run_module, connection_args, accounts, **options):
    return run_module(rotation_notify, dict(connection_args, accounts=accounts, **options))


def test_sns_publishes_one_digest_per_owner_across_accounts(aws, connection_args, run_module):
    accounts = rotated_accounts(aws, connection_args, run_module)
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    aws.control("POST", "calls/reset")
    failed, result = notify(run_module, connection_args, accounts, channels=["sns"], sns_topic_arn=topic)
    assert failed is False, result["msg"]
    assert result["changed"] is True
    assert [(d["owner"], d["count"], d["sent"], d["reason"], d["sent_to"]) for d in result["digests"]] == [
        ("alice-team@example.com", 2, True, "sent", [topic]),
        ("dave@example.com", 1, True, "sent", [topic]),
        ("platform@example.com", 1, True, "sent", [topic])]
    sent = sns_sent(aws)
    assert [owner for owner, _subject, _message in sent] == OWNERS
    alice_key, carol_key = new_key(accounts, "prod", "alice"), new_key(accounts, "shared", "carol")
    for owner, subject, message in sent:
        lines = message.splitlines()
        assert lines[0] == "Credential rotation digest for %s" % owner
        expected = expected_lines(owner, alice_key, carol_key)
        assert lines[2:2 + len(expected)] == expected
    platform = next(message for owner, _subject, message in sent if owner == "platform@example.com")
    bob = accounts[0]["access_keys"]["users"][1]["msg"]
    assert platform.splitlines()[3] == "  - bob in 123456789012 (access key): %s" % bob
    assert [subject for _owner, subject, _message in sent] == [
        "IAM credential rotation: 2 rotated", "IAM credential rotation: 1 exemptions",
        "IAM credential rotation: 1 failed"]
    # One ListUserTags per user with something to tell (alice, bob, dave; carol in the other account).
    assert sorted(call["user"] for call in aws.calls("ListUserTags")) == ["alice", "bob", "carol", "dave"]
    assert_no_secret(aws, json.dumps(sent), json.dumps(result))


def test_one_topic_per_owner_from_the_template(aws, connection_args, run_module):
    accounts = rotated_accounts(aws, connection_args, run_module)
    sns = aws.client("sns")
    arns = [sns.create_topic(Name="owner-" + owner.replace("@", "-").replace(".", "-"))["TopicArn"] for owner in OWNERS]
    failed, result = notify(run_module, connection_args, accounts, channels=["sns"],
                            sns_topic_arn="arn:aws:sns:us-east-1:123456789012:owner-{owner_id}")
    assert failed is False, result["msg"]
    assert [d["sent_to"] for d in result["digests"]] == [[arn] for arn in arns]
    topics = {topic["arn"]: [note[3]["owner"]["Value"] for note in topic["sent_notifications"]]
              for topic in moto_data(aws)["sns"]["Topic"]}
    assert topics == {arn: [owner] for arn, owner in zip(arns, OWNERS)}


def test_ses_emails_each_owner_from_the_verified_sender(aws, connection_args, run_module):
    accounts = rotated_accounts(aws, connection_args, run_module)
    aws.client("ses").verify_email_identity(EmailAddress="iam-rotation@example.com")
    failed, result = notify(run_module, connection_args, accounts, channels=["ses"],
                            ses_sender="iam-rotation@example.com")
    assert failed is False, result["msg"]
    sent = ses_sent(aws)
    assert [(source, to) for source, to, _subject, _body in sent] == [
        ("iam-rotation@example.com", [owner]) for owner in OWNERS]
    alice_key, carol_key = new_key(accounts, "prod", "alice"), new_key(accounts, "shared", "carol")
    for _source, (owner,), _subject, body in sent:
        expected = expected_lines(owner, alice_key, carol_key)
        assert body.splitlines()[2:2 + len(expected)] == expected
    assert_no_secret(aws, json.dumps(sent), json.dumps(result))


def test_a_console_password_rotation_tells_where_the_password_is_never_the_password(aws, connection_args, run_module):
    iam = aws.client("iam")
    iam.create_user(UserName="erin")
    iam.create_login_profile(UserName="erin", Password="Initial-Passw0rd!")
    failed, passwords = run_module(iam_password_rotate, dict(connection_args, users=["erin"], force=True))
    assert failed is False
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    failed, result = notify(run_module, connection_args, [dict(host="prod", passwords=passwords)], channels=["sns"],
                            sns_topic_arn=topic, default_owner="cloud@example.com")
    assert failed is False, result["msg"]
    [(owner, _subject, message)] = sns_sent(aws)
    assert owner == "cloud@example.com"
    assert message.splitlines()[2:4] == [
        "Rotated: pick the new secret up from its destination (1):",
        "  - erin in 123456789012 (console password): new secret in secretsmanager "
        "rotator/123456789012/erin/console-password us-east-1"]
    assert [item["rotated_at"] for item in result["digests"][0]["sections"]["rotated"]] == [
        passwords["users"][0]["rotated_at"]]
    assert_no_secret(aws, message, json.dumps(result))


def test_an_unverified_ses_sender_fails_naming_each_owner_and_sends_nothing(aws, connection_args, run_module):
    accounts = [dict(host="prod", owner="o@example.com", access_keys={"account_id": "123456789012", "users": [
        {"user_name": "bob", "status": "failed", "msg": "boom"}]})]
    failed, result = notify(run_module, connection_args, accounts, channels=["ses"], owner_tag="",
                            ses_sender="unverified@example.com")
    assert failed is True
    assert result["msg"].startswith("sending the owners' digests failed: emailing the digest to o@example.com "
                                    "failed: MessageRejected: ")
    assert [(d["owner"], d["sent"], d["sent_to"]) for d in result["digests"]] == [("o@example.com", False, [])]
    assert result["changed"] is False
    assert ses_sent(aws) == []


def test_an_owner_that_is_not_an_email_fails_ses_before_anything_is_sent(aws, connection_args, run_module):
    accounts = rotated_accounts(aws, connection_args, run_module)
    accounts[0]["owner"] = "platform team"
    aws.client("ses").verify_email_identity(EmailAddress="iam-rotation@example.com")
    failed, result = notify(run_module, connection_args, accounts, channels=["sns", "ses"],
                            sns_topic_arn="arn:aws:sns:us-east-1:123456789012:owners",
                            ses_sender="iam-rotation@example.com")
    assert failed is True
    assert result["msg"] == ("owner 'platform team' is not an email address, which channel ses needs; "
                             "nothing was sent")
    assert ses_sent(aws) == []
    assert aws.calls("Publish") == [] and aws.calls("SendEmail") == []


@pytest.mark.parametrize("options, msg", [
    (dict(channels=["webhook"], webhook_url="ftp://hooks.example.com/x"),
     "webhook_url 'ftp://hooks.example.com/x' is not an http(s) URL; nothing was sent"),
    (dict(channels=["sns"]), "channel sns needs sns_topic_arn; nothing was sent"),
    (dict(channels=["sns"], sns_topic_arn="owners"),
     "sns_topic_arn 'owners' for owner alice-team@example.com is not an SNS topic ARN; "
     "sns_topic_arn 'owners' for owner dave@example.com is not an SNS topic ARN; "
     "sns_topic_arn 'owners' for owner platform@example.com is not an SNS topic ARN; nothing was sent"),
    (dict(channels=["ses"], ses_sender="nobody"),
     "channel ses needs ses_sender, an email address (got 'nobody'); nothing was sent"),
])
def test_bad_settings_fail_before_anything_is_sent(aws, connection_args, run_module, options, msg):
    accounts = rotated_accounts(aws, connection_args, run_module)
    failed, result = notify(run_module, connection_args, accounts, **options)
    assert (failed, result["msg"]) == (True, msg)
    assert aws.calls("Publish") == [] and aws.calls("SendEmail") == []


def test_an_unknown_channel_fails_before_anything_is_sent(aws, connection_args, run_module):
    failed, result = notify(run_module, connection_args, [dict(host="prod", owner="o@example.com")],
                            channels=["pager"])
    assert failed is True
    assert "value of channels must be one or more of: ses, sns, webhook. Got no match for: pager" in result["msg"]


def test_only_when_changed_sends_nothing_when_nothing_is_news(aws, connection_args, run_module):
    accounts = rotated_accounts(aws, connection_args, run_module)
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    options = dict(channels=["sns"], sns_topic_arn=topic, only_when_changed=True)
    failed, first = notify(run_module, connection_args, accounts, **options)
    assert failed is False
    assert [d["sent"] for d in first["digests"]] == [True, True, True]
    failed, second = notify(run_module, connection_args, accounts, **options)
    assert failed is False
    assert second["changed"] is False
    assert [(d["owner"], d["sent"], d["reason"]) for d in second["digests"]] == [
        (owner, False, "no news") for owner in OWNERS]
    assert len(sns_sent(aws)) == 3
    # A new failure for one owner's user: that owner alone is told again.
    prod = accounts[0]["access_keys"]
    prod["users"][0] = dict(prod["users"][0], status="failed", msg="StoreFailed: AccessDenied")
    failed, third = notify(run_module, connection_args, accounts, **options)
    assert failed is False
    assert [(d["owner"], d["reason"]) for d in third["digests"]] == [
        ("alice-team@example.com", "sent"), ("dave@example.com", "no news"), ("platform@example.com", "no news")]
    assert [owner for owner, _subject, _message in sns_sent(aws)] == [
        "alice-team@example.com", "alice-team@example.com", "dave@example.com", "platform@example.com"]
    names = [p["Name"] for p in aws.client("ssm").describe_parameters()["Parameters"]]
    assert len(names) == 3 and all(name.startswith("/rotator/owner-digests/") for name in names)


def test_check_mode_sends_and_records_nothing(aws, connection_args, run_module):
    accounts = rotated_accounts(aws, connection_args, run_module)
    topic = aws.client("sns").create_topic(Name="owners")["TopicArn"]
    failed, result = notify(run_module, connection_args, accounts, channels=["sns"], sns_topic_arn=topic,
                            only_when_changed=True, _ansible_check_mode=True)
    assert failed is False
    assert [(d["sent"], d["reason"]) for d in result["digests"]] == [(False, "check mode")] * 3
    assert result["changed"] is False
    assert sns_sent(aws) == []
    assert aws.client("ssm").describe_parameters()["Parameters"] == []


RECEIVER = textwrap.dedent("""
    import http.server, json, sys
    record, port_file, failures = sys.argv[1], sys.argv[2], int(sys.argv[3])

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            global failures
            body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
            with open(record, "a", encoding="utf-8") as out:
                out.write(json.dumps({"authorization": self.headers.get("Authorization"), "body": body,
                                      "refused": failures > 0}) + "\\n")
            status = 503 if failures > 0 else 200
            failures -= 1
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    with open(port_file + ".tmp", "w") as out:
        out.write(str(server.server_address[1]))
    import os
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()
""")


@pytest.fixture
def receiver(tmp_path):
    """Start a webhook receiver process on 127.0.0.1 that refuses its first ``failures`` posts with 503."""
    started = []

    def start(failures=0):
        record, port_file = tmp_path / "bodies.jsonl", tmp_path / "port"
        process = subprocess.Popen([sys.executable, "-c", RECEIVER, str(record), str(port_file), str(failures)])
        started.append(process)
        deadline = time.monotonic() + 10
        while not port_file.exists():
            assert time.monotonic() < deadline, "the receiver did not start"
            time.sleep(0.05)
        url = "http://127.0.0.1:%s/hooks/rotation" % port_file.read_text()

        def received():
            if not record.exists():
                return []
            return [json.loads(line) for line in record.read_text().splitlines()]
        return url, received

    yield start
    for process in started:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def test_the_webhook_gets_one_json_digest_per_owner(aws, connection_args, run_module, receiver):
    accounts = rotated_accounts(aws, connection_args, run_module)
    url, received = receiver()
    failed, result = notify(run_module, connection_args, accounts, channels=["webhook"], webhook_url=url,
                            webhook_token="hook-token-3141", webhook_retries=0)
    assert failed is False, result["msg"]
    posts = received()
    assert [post["authorization"] for post in posts] == ["Bearer hook-token-3141"] * 3
    bodies = [json.loads(post["body"]) for post in posts]
    assert [body["owner"] for body in bodies] == OWNERS
    alice = bodies[0]["digest"]
    assert alice["count"] == 2
    assert [(item["account_id"], item["user_name"], item["destination"]["name"])
            for item in alice["sections"]["rotated"]] == [
        ("123456789012", "alice", "rotator/123456789012/alice/access-key"),
        ("222222222222", "carol", "rotator/222222222222/carol/access-key")]
    assert [body["subject"] for body in bodies] == [
        "IAM credential rotation: 2 rotated", "IAM credential rotation: 1 exemptions",
        "IAM credential rotation: 1 failed"]
    assert [item["user_name"] for item in bodies[2]["digest"]["sections"]["failed"]] == ["bob"]
    assert "hook-token-3141" not in json.dumps(result)
    assert_no_secret(aws, json.dumps(posts), json.dumps(result))


def test_the_webhook_is_tried_again_after_a_5xx(aws, connection_args, run_module, receiver, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    url, received = receiver(failures=1)
    accounts = [dict(host="prod", owner="o@example.com", access_keys={"account_id": "123456789012", "users": [
        {"user_name": "bob", "status": "failed", "msg": "boom"}]})]
    failed, result = notify(run_module, connection_args, accounts, channels=["webhook"], webhook_url=url,
                            webhook_retries=1, owner_tag="")
    assert failed is False, result["msg"]
    assert [post["refused"] for post in received()] == [True, False]
    assert [(d["owner"], d["sent"]) for d in result["digests"]] == [("o@example.com", True)]

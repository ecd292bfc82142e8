# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a digest goes: one class per channel (SNS topic, SES email, JSON webhook), chosen by name.

Each channel checks every digest it is to send (``problems``) before the
module sends any, so a bad owner or setting changes nothing; ``send`` then
delivers one digest and returns where it went.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.connection import AWS_ERRORS, error_message
from ansible_collections.rotator.aws_iam.plugins.module_utils._notify.digest import digest_text, subject

# An address SES can send to: one @, a dotted domain, no spaces or angle brackets (no display name).
EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
# SNS: "Subject ... must be less than 100 characters".
SNS_SUBJECT_LENGTH = 99
# Answers worth another attempt: throttled, or the receiver failed.
RETRY_STATUSES = (429, 500, 502, 503, 504)


class NotifyError(Exception):
    """A digest could not be sent; the message names the owner and the channel, never a secret."""


def owner_id(owner):
    """The owner in the characters an SNS topic name allows (``{owner_id}`` in O(sns_topic_arn))."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", owner)


class SNSChannel:
    NAME = "sns"

    def __init__(self, params, connection):
        self.template = params["sns_topic_arn"] or ""
        self.connection = connection

    def topic_arn(self, owner):
        return self.template.replace("{owner_id}", owner_id(owner))

    def problems(self, digests):
        if not self.template:
            return ["channel sns needs sns_topic_arn"]
        problems = ["sns_topic_arn %r for owner %s is not an SNS topic ARN" % (self.topic_arn(digest["owner"]),
                                                                               digest["owner"])
                    for digest in digests if not TOPIC_ARN.match(self.topic_arn(digest["owner"]))]
        return problems + self.shared_topics(digests)

    def shared_topics(self, digests):
        """A topic per owner must be that owner's alone: ``{owner_id}`` can make two owners one topic."""
        if "{owner_id}" not in self.template:
            return []
        owners = {}
        for digest in digests:
            owners.setdefault(self.topic_arn(digest["owner"]), []).append(digest["owner"])
        return ["sns_topic_arn %s is the topic of more than one owner (%s): each would read the others' digests"
                % (arn, ", ".join(sorted(names))) for arn, names in owners.items() if len(names) > 1]

    def send(self, digest):
        arn = self.topic_arn(digest["owner"])
        client = self.connection.client("sns", region=arn.split(":")[3])
        try:
            client.publish(TopicArn=arn, Subject=subject(digest)[:SNS_SUBJECT_LENGTH], Message=digest_text(digest),
                           MessageAttributes={"owner": {"DataType": "String", "StringValue": digest["owner"]}})
        except AWS_ERRORS as exc:
            problem = error_message(exc)
            raise NotifyError("publishing the digest of %s to %s failed: %s" % (digest["owner"], arn, problem)) from None
        return arn


class SESChannel:
    NAME = "ses"

    def __init__(self, params, connection):
        self.sender = params["ses_sender"] or ""
        self.connection = connection

    def problems(self, digests):
        if not EMAIL.match(self.sender):
            return ["channel ses needs ses_sender, an email address (got %r)" % self.sender]
        return ["owner %r is not an email address, which channel ses needs" % digest["owner"]
                for digest in digests if not EMAIL.match(digest["owner"])]

    def send(self, digest):
        try:
            self.connection.client("ses").send_email(
                Source=self.sender, Destination={"ToAddresses": [digest["owner"]]},
                Message={"Subject": {"Data": subject(digest), "Charset": "UTF-8"},
                         "Body": {"Text": {"Data": digest_text(digest), "Charset": "UTF-8"}}})
        except AWS_ERRORS as exc:
            raise NotifyError("emailing the digest to %s failed: %s" % (digest["owner"], error_message(exc))) from None
        return "mailto:%s" % digest["owner"]


class WebhookChannel:
    """An HTTPS POST of the digest as JSON (``owner``, ``subject``, ``text``, ``digest``), for chat tools."""

    NAME = "webhook"

    def __init__(self, params, connection, sleep=time.sleep):
        self.url = params["webhook_url"] or ""
        self.token = params["webhook_token"]
        self.validate_certs = params["webhook_validate_certs"]
        self.timeout = params["webhook_timeout"]
        self.retries = params["webhook_retries"]
        self.sleep = sleep

    def problems(self, digests):
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return ["webhook_url %r is not an http(s) URL" % self.url]
        return []

    def body(self, digest):
        return json.dumps({"owner": digest["owner"], "subject": subject(digest), "text": digest_text(digest),
                           "digest": {"sections": digest["sections"], "count": digest["count"]}}, sort_keys=True)

    def send(self, digest):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer %s" % self.token
        for attempt in range(self.retries + 1):
            try:
                open_url(self.url, data=self.body(digest), headers=headers, method="POST",
                         validate_certs=self.validate_certs, timeout=self.timeout, follow_redirects="none",
                         http_agent="rotator.aws_iam").read()
                return self.url
            except HTTPError as exc:
                problem = "HTTP %s" % exc.code
                if exc.code not in RETRY_STATUSES:
                    break
            except (URLError, OSError) as exc:
                problem = str(getattr(exc, "reason", exc))
            if attempt < self.retries:
                self.sleep(2 ** attempt)
        raise NotifyError("posting the digest of %s to the webhook failed: %s" % (digest["owner"], problem))


CHANNELS = {channel.NAME: channel for channel in (SNSChannel, SESChannel, WebhookChannel)}

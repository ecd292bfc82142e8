"""The audit report lists exemptions with their days left; expired and malformed ones are flagged (issue 14, part 3).

``iam_rotation_info`` returns ``exemptions`` (user, state, until, days_left,
reason, msg); the report copies those fields only, counts them per account,
says them in the summary line and lists them in a table of the page.
"""

from __future__ import annotations

from html.parser import HTMLParser

from ansible_collections.rotator.aws_iam.plugins.filter.rotation_report import report_data, report_html, report_summary

NOW = "2027-03-21T12:00:00Z"


def exemption(user, state, until=None, days_left=None, reason=None, msg=""):
    return {"user": user, "state": state, "until": until, "days_left": days_left, "reason": reason, "msg": msg,
            "value": "never copied"}


EXEMPTIONS = [
    exemption("bob", "active", "2027-03-31", 10, "SEC-123", "exempt until 2027-03-31 (10 days left): SEC-123"),
    exemption("carol", "expired", "2027-03-01", -20, "SEC-99", "the exemption ended on 2027-03-01 (20 days ago)"),
    exemption("dave", "malformed", msg="the exemption tag's value 'true' is malformed: <b>'true'</b>"),
    exemption("erin", "active", "2027-12-31", 285, None, "exempt until 2027-12-31 (285 days left)"),
]


def hosts():
    info = {"account_id": "123456789012", "user_names": ["carol", "dave"], "exempted_users": ["bob", "erin"],
            "exemptions": EXEMPTIONS, "users": []}
    return {"prod": {"rotation_report_info": info},
            "dev": {"rotation_report_info": {"account_id": "222222222222", "exempted_users": [], "users": []}}}


def report():
    return report_data(["prod", "dev"], hosts(), now=NOW)


def test_the_document_copies_each_exemption_s_known_fields():
    prod, dev = report()["accounts"]
    assert prod["exemptions"] == [
        {"user": "bob", "state": "active", "until": "2027-03-31", "days_left": 10, "reason": "SEC-123",
         "msg": "exempt until 2027-03-31 (10 days left): SEC-123", "ending_soon": True},
        {"user": "carol", "state": "expired", "until": "2027-03-01", "days_left": -20, "reason": "SEC-99",
         "msg": "the exemption ended on 2027-03-01 (20 days ago)", "ending_soon": False},
        {"user": "dave", "state": "malformed", "until": None, "days_left": None, "reason": None,
         "msg": "the exemption tag's value 'true' is malformed: <b>'true'</b>", "ending_soon": False},
        {"user": "erin", "state": "active", "until": "2027-12-31", "days_left": 285, "reason": None,
         "msg": "exempt until 2027-12-31 (285 days left)", "ending_soon": False},
    ]
    assert dev["exemptions"] == []


def test_the_summary_counts_exemptions_by_state():
    document = report()
    prod = document["accounts"][0]["summary"]
    assert (prod["exempted_users"], prod["exemptions_ending_soon"], prod["exemptions_expired"],
            prod["exemptions_malformed"]) == (2, 1, 1, 1)
    totals = document["totals"]
    assert (totals["exempted_users"], totals["exemptions_ending_soon"], totals["exemptions_expired"],
            totals["exemptions_malformed"]) == (2, 1, 1, 1)


def test_the_summary_line_says_the_exemptions_of_accounts_that_have_some():
    lines = report_summary(report())
    assert lines[0].endswith("; exemptions: 2 active (1 ending within 14 days), 1 expired, 1 malformed")
    assert "exemptions" not in lines[1]
    assert lines[2].endswith("; exemptions: 2 active (1 ending within 14 days), 1 expired, 1 malformed")


class Table(HTMLParser):
    """The text of each cell and the classes of each badge in the table with id ``exemptions-table``."""

    def __init__(self):
        super().__init__()
        self.inside, self.in_cell, self.rows, self.badges = False, False, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.inside = attrs.get("id") == "exemptions-table"
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self.rows[-1].append("")
            self.in_cell = True
        elif self.inside and tag == "span" and "b" in attrs.get("class", "").split():
            self.badges.append(attrs["class"])

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif tag == "td":
            self.in_cell = False

    def handle_data(self, data):
        if self.inside and self.in_cell:
            self.rows[-1][-1] += data


def test_the_page_lists_exemptions_with_days_left_and_flags_expired_and_malformed_ones():
    page = report_html(report())
    table = Table()
    table.feed(page)
    assert table.rows[1:] == [
        ["prod123456789012", "bob", "active", "2027-03-31", "10 d", "SEC-123"],
        ["prod123456789012", "carol", "expired", "2027-03-01", "ended 20 d ago", "SEC-99"],
        ["prod123456789012", "dave", "malformed", "", "",
         "the exemption tag's value 'true' is malformed: <b>'true'</b>"],
        ["prod123456789012", "erin", "active", "2027-12-31", "285 d", ""],
    ]
    assert table.badges == ["b soon", "b overdue", "b overdue", "b ok"]
    assert "<b>'true'</b>" not in page
    assert "never copied" not in page


def test_a_page_of_accounts_reported_before_exemptions_expired_renders_without_them():
    # A sliced job's report merged from a slice made by an earlier release: its accounts have no "exemptions".
    document = report()
    for account in document["accounts"]:
        del account["exemptions"]
    page = report_html(document)
    assert "<p>No chosen user carries an exemption tag.</p>" in page
    assert 'id="exemptions-table"' not in page

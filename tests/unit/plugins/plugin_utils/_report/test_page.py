"""The report page: the version, identity and scope it names, and the parts the narrow and printed layouts rely on."""

from __future__ import annotations

import re

from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.model import read_collection_version, report_data
from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.page import _asset, report_html

NOW = "2025-06-01T12:00:00Z"
SCOPE = {"users": [], "path_prefix": "/service/", "tags": {"team": "ops", "env": "prod"}, "groups": ["deployers", "ci"],
         "exclude_users": ["break-glass"], "exempt_tag": "rotator:exempt"}


def text(page):
    """What the page says: a line break or a cell's end is a space, other markup nothing."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", re.sub(r"<br>|</t[dh]>", " ", page)))


def hosts(**info):
    result = {"account_id": "123456789012", "exempted_users": [], "users": [
        {"user_name": "alice", "path": "/service/", "arn": "arn:aws:iam::123456789012:user/service/alice",
         "access_keys": [], "access_key_rotation": {"status": "compliant"}, "console_access": False}]}
    result.update(info)
    return {"prod": {"rotation_report_info": result}}


def page_of(host_vars, **options):
    return report_html(report_data(list(host_vars), host_vars, now=NOW, **options))


def test_the_page_names_the_collection_version_that_made_it():
    assert "Generated 2025-06-01 12:00 UTC by rotator.aws_iam 1.2.3." in text(
        page_of(hosts(), collection_version="1.2.3"))


def test_without_a_version_given_the_page_names_the_collections_own():
    assert "by rotator.aws_iam %s." % read_collection_version() in text(page_of(hosts()))


def test_each_account_says_who_read_it_and_which_users_were_chosen():
    page = text(page_of(hosts(caller_arn="arn:aws:sts::123456789012:assumed-role/audit/rotator-aws-iam",
                              scope=SCOPE), collection_version="1.2.3"))
    assert ("prod 123456789012 arn:aws:sts::123456789012:assumed-role/audit/rotator-aws-iam "
            "every user under path /service/ tagged env=prod, team=ops in group deployers or ci except break-glass "
            "users tagged rotator:exempt are exempt 1.2.3") in page


def test_named_users_and_no_exemption_are_said_as_such():
    scope = dict(SCOPE, users=["alice", "bob"], tags={}, groups=[], exclude_users=[], exempt_tag=None, path_prefix="/")
    page = text(page_of(hosts(caller_arn="arn:aws:iam::123456789012:user/auditor", scope=scope)))
    assert "named users: alice, bob under path / no exemption tag" in page


def test_an_account_that_says_nothing_of_its_reader_or_scope_says_they_are_not_known():
    assert "prod 123456789012 not known not known" in text(page_of(hosts()))


def test_the_users_table_scrolls_in_its_own_box_with_user_and_status_first():
    page = page_of(hosts())
    assert re.search(r'<div class="scroll" role="region" aria-label="Users" tabindex="0">\s*<table id="users">', page)
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", page.split('<table id="users">')[1].split("</thead>")[0])
    assert heads[:3] == ["Account", "User", "Key rotation"]


def test_the_style_has_a_print_layout_that_shows_every_row_and_no_controls():
    style = _asset("report.css")
    printed = style[style.index("@media print{"):]
    assert ".controls{display:none!important}" in printed
    assert "#users tbody tr[hidden]{display:table-row!important}" in printed
    assert "print-color-adjust:exact" in printed and "thead{display:table-header-group}" in printed

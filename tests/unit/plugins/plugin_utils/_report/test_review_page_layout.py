"""Review: the report page in headless Chromium with the longest names IAM and an inventory allow, at 800 px and in print.

IAM user names are up to 64 characters of letters, digits and ``+=,.@_-``; an inventory host name (the
account's name on the page) may be as long.  The checks are check_page.py's: at 800 px the page never scrolls
sideways, in print no table is wider than the paper.
"""

from __future__ import annotations

import importlib.util
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ansible_collections.rotator.aws_iam.plugins.filter.rotation_report import report_data, report_html

REPO = Path(__file__).resolve().parents[5]
CHECK_PAGE = REPO / "tests" / "integration" / "targets" / "playbook_report" / "check_page.py"
OUTPUT = REPO / "tests" / "output" / "report-browser"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
LONG_USER = "ServiceAccountForTheNightlyDataWarehouseExportToTheAuditBucket01"  # 64 characters, no break
LONG_ACCOUNT = "production_payments_platform_eu_central_1_shared_services_account"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _host():
    created = (NOW - timedelta(days=120)).isoformat()
    key = {"access_key_id": KEY_ID, "status": "Active", "create_date": created, "age_days": 120,
           "last_used_date": None, "last_used_service": None, "retiring": None}
    user = {"user_name": LONG_USER, "path": "/", "arn": "arn:aws:iam::123456789012:user/" + LONG_USER,
            "access_keys": [key],
            "access_key_rotation": {"status": "failed", "due_actions": [], "message": "a rotation failed"}}
    info = {"account_id": "123456789012", "caller_arn": "arn:aws:sts::123456789012:assumed-role/reader/report",
            "users": [user], "exempted_users": []}
    change = {"user_name": LONG_USER, "status": "failed", "changed": False, "actions": [],
              "msg": "a rotation failed"}
    return {"rotation_report_info": info, "rotator_access_keys": {"users": [change]}}


def test_the_longest_names_at_800_px_and_in_print():
    check_page = _load("check_page", CHECK_PAGE)
    if importlib.util.find_spec("playwright") is None or check_page.chromium_path() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the browser check must run in CI")
        pytest.skip("Chromium or Playwright is not installed")
    report = report_data([LONG_ACCOUNT], {LONG_ACCOUNT: _host()}, now=NOW.isoformat(), collection_version="0.1.0")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = OUTPUT / "review-long-names.html"
    page.write_text(report_html(report), encoding="utf-8")
    check_page.check_page(page, OUTPUT, name="review-long-names")


def test_in_print_a_row_shows_what_its_tooltips_hold_on_screen():
    # Paper has no tooltips: the full key IDs, when each key was made and last used, and why a rotation waits or
    # failed must be printed with the row.
    check_page = _load("check_page", CHECK_PAGE)
    if importlib.util.find_spec("playwright") is None or check_page.chromium_path() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the browser check must run in CI")
        pytest.skip("Chromium or Playwright is not installed")
    from playwright.sync_api import sync_playwright  # pylint: disable=import-outside-toplevel,import-error

    report = report_data(["prod"], {"prod": _host()}, now=NOW.isoformat(), collection_version="0.1.0")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page_file = OUTPUT / "review-print-details.html"
    page_file.write_text(report_html(report), encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=check_page.chromium_path(),
                                             args=list(check_page.CHROMIUM_FLAGS))
        try:
            page = browser.new_page(viewport={"width": check_page.PRINT_WIDTH, "height": 900})
            page.goto(page_file.resolve().as_uri())
            page.emulate_media(media="print")
            printed = page.evaluate("document.querySelector('#users tbody tr').innerText")
        finally:
            browser.close()
    assert [KEY_ID in printed, "created 2025-02-01" in printed, "a rotation failed" in printed] == [True, True, True]

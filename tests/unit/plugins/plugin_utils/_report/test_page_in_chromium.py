"""The example report page in headless Chromium at 1400 and 800 px and in print, with screenshots in tests/output.

The checks are those of tests/integration/targets/playbook_report/check_page.py
(which runme.sh also runs on the page of a real rotation): at 800 px the page
never scrolls sideways and the User and Key rotation columns are in the window;
in print the filter controls are hidden and every row is shown; alice's and
frank's old keys say "retiring" with the day of each step.

Without Chromium or Playwright the test is skipped on a workstation, and fails
in CI (CI=true), where tests/run.sh installs both.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[5]
CHECK_PAGE = REPO / "tests" / "integration" / "targets" / "playbook_report" / "check_page.py"
SCRIPT = REPO / "scripts" / "example_report.py"
OUTPUT = REPO / "tests" / "output" / "report-browser"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _missing(check_page):
    """Why the browser check cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install playwright)"
    if check_page.chromium_path() is None:
        return "Chromium is not installed (apt-get install chromium)"
    return None


def test_the_example_page_reads_at_1400_and_800_px_and_in_print():
    check_page = _load("check_page", CHECK_PAGE)
    missing = _missing(check_page)
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the browser check must run in CI: %s" % missing)
        pytest.skip(missing)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = OUTPUT / "example-report.html"
    page.write_text(_load("example_report", SCRIPT).example_page(), encoding="utf-8")
    written = check_page.check_page(page, OUTPUT, retiring=["alice", "frank"], name="example")
    assert [path.name for path in written] == ["example-1400.png", "example-800.png", "example-print.png",
                                               "example.pdf"]
    assert all(path.stat().st_size > 10000 for path in written)

"""The report page in headless Chromium, through Playwright: wide, narrow and printed, with screenshots.

    check_page.py PAGE.html OUTPUT_DIR [--retiring USER ...] [--name NAME]

At 1400 and 800 px wide and in print media (A4 landscape), it checks what a
reader relies on, writes a full-page screenshot of each to OUTPUT_DIR
(NAME-1400.png, NAME-800.png, NAME-print.png) and a PDF of the printed page
(NAME.pdf):

- 800 px: the page never scrolls sideways (document.documentElement.scrollWidth
  <= 800); the users table's User and Key rotation columns are inside the window;
- print: the filter controls are hidden and every user row is shown, also the
  rows a filter hid on screen; no table is wider than the paper;
- the rows of the users named by --retiring say "retiring" with the day each
  step is due.

It uses the system's Chromium (/usr/bin/chromium, or CHROMIUM): Playwright
cannot download browsers here. tests/unit/plugins/plugin_utils/_report/
test_page_in_chromium.py runs it on the example page; runme.sh on the page of
a real rotation.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
WIDE, NARROW = 1400, 800
# A4 landscape less the page's 12 mm margins, in CSS pixels (96 per inch): what a printed table must fit.
PRINT_WIDTH = round((297 - 2 * 12) / 25.4 * 96)
HEIGHT = 900
USER_COLUMN, STATUS_COLUMN = 2, 3


def chromium_path():
    """The Chromium to drive: $CHROMIUM, else chromium on the PATH; None when there is none."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def _column_box(page, index):
    """The window-relative box of the users table's header cell ``index`` (1-based) and its text."""
    return page.evaluate("""(index) => {
        const cell = document.querySelector('#users thead th:nth-child(' + index + ')');
        const box = cell.getBoundingClientRect();
        return {left: box.left, right: box.right, width: box.width, text: cell.textContent.trim()};
    }""", index)


def _user_rows(page):
    """Per row of the users table: its user, whether it is displayed, and its text."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('#users tbody tr')).map((row) => ({
        user: row.cells[1].querySelector('b').textContent,
        shown: getComputedStyle(row).display !== 'none' && row.getClientRects().length > 0,
        text: row.innerText}))""")


def _wait_for_count(page, prefix, seconds=5):
    """Wait for the page's row count to start with ``prefix`` (its filter waits for typing to pause).

    Polled from here: Playwright's wait_for_function evaluates a string in the page, which the page's
    Content-Security-Policy rightly forbids.
    """
    for _attempt in range(int(seconds * 10)):
        if page.evaluate("document.getElementById('count').textContent").startswith(prefix):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page's count never said %r" % prefix)


def _check_wide(page, out, name):
    page.set_viewport_size({"width": WIDE, "height": HEIGHT})
    width = page.evaluate("document.documentElement.scrollWidth")
    expect(width <= WIDE, "at %d px the page is %d px wide" % (WIDE, width))
    shot = out / ("%s-%d.png" % (name, WIDE))
    page.screenshot(path=str(shot), full_page=True)
    return shot


def _check_narrow(page, out, name):
    page.set_viewport_size({"width": NARROW, "height": HEIGHT})
    width = page.evaluate("document.documentElement.scrollWidth")
    expect(width <= NARROW, "at %d px the page scrolls sideways: it is %d px wide" % (NARROW, width))
    for index, label in ((USER_COLUMN, "User"), (STATUS_COLUMN, "Key rotation")):
        box = _column_box(page, index)
        expect(box["text"].startswith(label), "column %d is %r, not %s" % (index, box["text"], label))
        expect(box["width"] > 0 and box["left"] >= 0 and box["right"] <= NARROW,
               "at %d px the %s column is not in the window: %s" % (NARROW, label, box))
    shot = out / ("%s-%d.png" % (name, NARROW))
    page.screenshot(path=str(shot), full_page=True)
    return shot


def _check_print(page, out, name):
    # A reader filtered the list on screen (no user matches), then prints.
    page.set_viewport_size({"width": WIDE, "height": HEIGHT})
    page.fill("#q", "no user is called this")
    _wait_for_count(page, "showing 0 of")
    rows = _user_rows(page)
    expect(rows and not any(row["shown"] for row in rows), "the filter hid no row on screen: %s" % rows)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": PRINT_WIDTH, "height": HEIGHT})
    controls = page.evaluate("getComputedStyle(document.querySelector('.controls')).display")
    expect(controls == "none", "in print the filter controls are shown (display: %s)" % controls)
    rows = _user_rows(page)
    expect(all(row["shown"] for row in rows), "in print rows are missing: %s" % [
        row["user"] for row in rows if not row["shown"]])
    overflowing = page.evaluate("""(limit) => Array.from(document.querySelectorAll('table'))
        .filter((table) => table.getBoundingClientRect().right > limit).map((table) => table.id)""", PRINT_WIDTH)
    expect(overflowing == [], "in print these tables are wider than the paper: %s" % overflowing)
    width = page.evaluate("document.documentElement.scrollWidth")
    expect(width <= PRINT_WIDTH, "in print the page is %d px wide, the paper %d" % (width, PRINT_WIDTH))
    shot = out / ("%s-print.png" % name)
    page.screenshot(path=str(shot), full_page=True)
    pdf = out / ("%s.pdf" % name)
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    expect(pdf.read_bytes()[:5] == b"%PDF-", "no PDF was printed")
    page.emulate_media(media="screen")
    return [shot, pdf], rows


def _check_retiring(rows, retiring):
    by_user = {row["user"]: row["text"] for row in rows}
    for user in retiring:
        text = by_user.get(user, "")
        expect("retiring" in text and "deactivate on " in text and "delete on " in text,
               "the row of %s does not say its old key is retiring and when: %r" % (user, text))
        expect("overdue" not in text, "the row of %s still says overdue: %r" % (user, text))


def check_page(html, out_dir, retiring=(), name="report"):
    """Check the page at ``html`` (a path); returns the screenshots and PDF written to ``out_dir``."""
    from playwright.sync_api import sync_playwright  # pylint: disable=import-outside-toplevel,import-error

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=list(CHROMIUM_FLAGS))
        try:
            page = browser.new_page(viewport={"width": WIDE, "height": HEIGHT})
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.goto(Path(html).resolve().as_uri())
            expect("js" in page.evaluate("document.documentElement.className").split(),
                   "the page's script did not run (its Content-Security-Policy hash?)")
            written.append(_check_wide(page, out, name))
            written.append(_check_narrow(page, out, name))
            printed, rows = _check_print(page, out, name)
            written.extend(printed)
            _check_retiring(rows, retiring)
            expect(errors == [], "the page reported errors: %s" % errors)
        finally:
            browser.close()
    return written


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page")
    parser.add_argument("output_dir")
    parser.add_argument("--retiring", nargs="*", default=[], help="users whose old key is retiring")
    parser.add_argument("--name", default="report", help="the prefix of the files written")
    args = parser.parse_args(argv)
    for path in check_page(args.page, args.output_dir, args.retiring, args.name):
        print("wrote %s" % path)
    print("page checked at %d and %d px and in print" % (WIDE, NARROW))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

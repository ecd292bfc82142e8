"""Checks of the audit report that runme.sh makes of the seeded fleet.

    check_report.py files report|rotated DIR [--secrets STUB_SECRETS_JSON]
    check_report.py browser DOM DOM_FILTERED_SORTED SCREENSHOT_PNG

``files`` reads report.json, users.csv, keys.csv and report.html of one run;
``browser`` reads what headless Chromium made of the page of the second run.
Only counts are printed of the secrets: never a secret.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import struct
import sys
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

FILES = ("report.json", "users.csv", "keys.csv", "report.html")
ACCOUNTS = {"prod": "123456789012", "dev": "222222222222"}
USERS = {"prod": ["+ops@example.com", "alice", "bob", "dana"], "dev": ["frank", "grace"]}
# The age of each seeded user's key (and console password, where it has one), in days.
SEEDED_AGE = {"alice": 120, "frank": 120, "dana": 80, "bob": 30, "grace": 30}
AGE_CLASS = {"alice": "overdue", "frank": "overdue", "dana": "soon", "bob": "ok", "grace": "ok"}
# Rotated with a 7-day deactivation window: their old keys are retiring, not overdue; the new keys are in service.
ROTATED = ("alice", "frank")
OK_COLOR = (0x2D, 0xA4, 0x4E)
RETIRING_COLOR = (0x8C, 0x95, 0x9F)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


class Page(HTMLParser):
    """The parts of the report page the checks look at: tables' rows, the chart, the CSP, outside references."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables = {}
        self.rows = []
        self.table = None
        self.row = None
        self.cell = None
        self.svg = False
        self.bars = []
        self.csp = None
        self.outside = []
        self.ids = {}
        self.html_class = ""
        self.text_of = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "action", "xlink:href"):
            if name in attrs:
                self.outside.append((tag, name, attrs[name]))
        if tag in ("link", "iframe", "img", "object", "embed"):
            self.outside.append((tag, "", ""))
        if tag == "html":
            self.html_class = attrs.get("class") or ""
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = attrs.get("content")
        if "id" in attrs:
            self.ids[attrs["id"]] = ""
            if tag == "span":
                self.text_of = attrs["id"]
        if tag == "table":
            self.table = attrs.get("id")
            self.tables[self.table] = []
        elif tag == "tr" and self.table is not None:
            self.row = {"attrs": attrs, "cells": [], "classes": [], "head": False}
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
            self.row["head"] = self.row["head"] or tag == "th"
        elif tag == "svg" and attrs.get("id") == "age-chart":
            self.svg = True
        elif tag == "rect" and self.svg and attrs.get("class") == "bar":
            self.bars.append(attrs)
        if tag == "span" and self.cell is not None and "class" in attrs:
            self.row["classes"].append(attrs["class"])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row["cells"].append(" ".join(" ".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if not self.row["head"]:
                self.tables[self.table].append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None
        elif tag == "svg":
            self.svg = False
        elif tag == "span":
            self.text_of = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.text_of is not None:
            self.ids[self.text_of] += data


def parse_page(text):
    page = Page()
    page.feed(text)
    page.close()
    return page


def user_rows(page):
    return [row for row in page.tables.get("users", []) if "data-account" in row["attrs"]]


def row_user(row):
    """The user name in a row of the users table: its second cell is 'name path'."""
    return row["cells"][1].rsplit(" /", 1)[0]


def by_user(report):
    return {(account["name"], user["user_name"]): user for account in report["accounts"] for user in account["users"]}


def close_to(iso, days, slack=1):
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    target = datetime.now(timezone.utc) + timedelta(days=days)
    return abs((moment - target).total_seconds()) <= slack * 86400


def check_json(stage, report):
    names = [account["name"] for account in report["accounts"]]
    expect(names == (["prod", "dev", "unreadable"] if stage == "report" else ["prod", "dev"]), names)
    accounts = {account["name"]: account for account in report["accounts"]}
    for name, account_id in ACCOUNTS.items():
        account = accounts[name]
        expect(account["account_id"] == account_id and account["error"] is None, account)
        expect(sorted(user["user_name"] for user in account["users"]) == USERS[name], account["users"])
    expect(accounts["prod"]["exempted_users"] == ["erin"], accounts["prod"]["exempted_users"])
    exemptions = [(entry["user"], entry["state"], entry["until"], entry["reason"], entry["days_left"] is None)
                  for entry in accounts["prod"]["exemptions"]]
    expect(exemptions == [("+ops@example.com", "malformed", None, None, True),
                          ("erin", "active", "2099-12-31", "SEC-123 vendor audit", False)], exemptions)
    expect(accounts["prod"]["exemptions"][1]["days_left"] > 25000, accounts["prod"]["exemptions"])
    expect(accounts["dev"]["exemptions"] == [], accounts["dev"]["exemptions"])
    users = by_user(report)
    for (account, name), user in users.items():
        if name not in SEEDED_AGE:
            expect(user["access_keys"] == [] and user["oldest_active_key_age_days"] is None, user)
            continue
        rotated = stage == "rotated" and name in ROTATED
        seeded = [key for key in user["access_keys"] if key["age_days"] == SEEDED_AGE[name]]
        expect(len(seeded) == 1 and seeded[0]["status"] == "Active"
               and seeded[0]["age_class"] == ("retiring" if rotated else AGE_CLASS[name]),
               (account, name, user["access_keys"]))
        expect(user["oldest_active_key_age_days"] == (0 if rotated else SEEDED_AGE[name]), user)
        expect(user["key_age_class"] == ("ok" if rotated else AGE_CLASS[name]), user)
    for name, account_id in ACCOUNTS.items():
        scope = accounts[name]["scope"]
        expect(scope == {"users": [], "path_prefix": "/", "tags": {}, "groups": [], "exclude_users": [],
                         "exempt_tag": "rotator:exempt"}, scope)
        expect(accounts[name]["collection_version"], accounts[name])
    expect(accounts["prod"]["caller_arn"].startswith("arn:aws:") and ":123456789012:" in accounts["prod"]["caller_arn"],
           accounts["prod"]["caller_arn"])
    expect(accounts["dev"]["caller_arn"].startswith("arn:aws:sts::222222222222:assumed-role/rotator/"),
           accounts["dev"]["caller_arn"])
    expect(users[("prod", "bob")]["path"] == "/ops&<team>/", users[("prod", "bob")]["path"])
    for key in ("bob", "dana"):
        rotation = users[("prod", key)]["access_key_rotation"]
        expect(rotation["status"] == "compliant" and rotation["next_action"] == "create", rotation)
        expect(close_to(rotation["next_action_at"], 90 - SEEDED_AGE[key]), rotation)
    bob, grace, dana = users[("prod", "bob")]["password"], users[("dev", "grace")]["password"], users[("prod", "dana")]
    expect(bob["status"] == "compliant" and bob["age_days"] == 30 and bob["age_class"] == "ok", bob)
    expect(grace["status"] == "compliant" and grace["age_days"] == 30, grace)
    expect(dana["console_access"] is False and dana["password"]["status"] == "no_console_access"
           and dana["password"]["age_days"] is None, dana)
    alice, frank = users[("prod", "alice")], users[("dev", "frank")]
    totals = report["totals"]
    if stage == "report":
        expect("user nobody does not exist" in accounts["unreadable"]["error"], accounts["unreadable"])
        for user in (alice, frank):
            rotation = user["access_key_rotation"]
            expect(rotation["status"] == "due" and rotation["due_actions"] == ["create"], rotation)
            expect(len(user["access_keys"]) == 1, user["access_keys"])
        password = alice["password"]
        expect(password["status"] == "due" and password["age_days"] == 120 and password["age_class"] == "overdue",
               password)
        expect(not report["rotation_ran"] and totals["changes"] == 0, totals)
        expected = dict(accounts=3, accounts_failed=1, users=6, access_keys=5, active_access_keys=5, keys_overdue=2,
                        keys_due_soon=1, key_rotations_due=2, passwords_overdue=1, console_users=3, exempted_users=1,
                        exemptions_ending_soon=0, exemptions_expired=0, exemptions_malformed=1)
    else:
        for user in (alice, frank):
            rotation = user["access_key_rotation"]
            expect(rotation["status"] == "pending" and rotation["next_action"] == "deactivate", rotation)
            expect(close_to(rotation["next_action_at"], 7), rotation)
            ages = sorted((key["age_days"], key["status"], key["age_class"]) for key in user["access_keys"])
            expect(ages == [(0, "Active", "ok"), (120, "Active", "retiring")], ages)
            old, new = sorted(user["access_keys"], key=lambda key: -key["age_days"])
            expect(old["retiring"]["replaced_by"] == new["access_key_id"] and old["retiring"]["deactivated_at"] is None
                   and close_to(old["retiring"]["deactivate_at"], 7) and close_to(old["retiring"]["delete_at"], 14),
                   old)
            # The new key's only use is the rotation's verification (STS GetCallerIdentity).
            expect(new["last_used_service"] == "sts" and new["last_used_by_verification"] is True, new)
            expect(user["key_verified_at"] == new["last_used_date"] and user["key_last_used_date"] is None, user)
        password = alice["password"]
        expect(password["status"] == "compliant" and password["age_days"] == 0 and password["age_class"] == "ok",
               password)
        expect(close_to(password["next_rotation_at"], 90), password)
        changes = sorted((account["name"], change["user_name"], change["kind"], change["status"])
                         for account in report["accounts"] for change in account["changes"])
        expect(changes == [("dev", "frank", "access_keys", "rotated"), ("prod", "alice", "access_keys", "rotated"),
                           ("prod", "alice", "password", "rotated")], changes)
        key_change = [change for change in accounts["prod"]["changes"] if change["kind"] == "access_keys"][0]
        new_key = [key["access_key_id"] for key in alice["access_keys"] if key["age_days"] == 0][0]
        expect(key_change["actions"][:3] == ["create " + new_key, "store " + new_key, "verify " + new_key],
               key_change)
        expect(report["rotation_ran"], report["rotation_ran"])
        expected = dict(accounts=2, accounts_failed=0, users=6, access_keys=7, active_access_keys=7, keys_overdue=0,
                        keys_retiring=2, keys_due_soon=1, key_rotations_due=0, passwords_overdue=0, console_users=3,
                        changes=3)
    for key, value in expected.items():
        expect(totals[key] == value, "totals[%s] is %s, not %s" % (key, totals[key], value))


def check_csv(stage, users_csv, keys_csv):
    users = list(csv.DictReader(io.StringIO(users_csv)))
    expect(len(users) == 6, users)
    rows = {row["user_name"]: row for row in users}
    # A spreadsheet shows a name that starts with + as text, not as a formula.
    expect("'+ops@example.com" in rows and "+ops@example.com" not in rows, sorted(rows))
    alice = rows["alice"]
    expect(alice["account"] == "prod" and alice["account_id"] == "123456789012", alice)
    expect(alice["console_access"] == "true", alice)
    if stage == "report":
        expect(alice["oldest_active_key_age_days"] == "120" and alice["key_age_class"] == "overdue", alice)
        expect(alice["key_rotation_status"] == "due" and alice["password_status"] == "due", alice)
        expect(alice["password_age_days"] == "120" and alice["active_access_keys"] == "1", alice)
    else:
        expect(alice["oldest_active_key_age_days"] == "0" and alice["key_age_class"] == "ok", alice)
        expect(len(alice["retiring_access_key_ids"].split()) == 1 and alice["key_verified_at"], alice)
        expect(alice["key_rotation_status"] == "pending" and alice["key_next_action"] == "deactivate", alice)
        expect(alice["password_status"] == "compliant" and alice["password_age_days"] == "0", alice)
        expect(alice["active_access_keys"] == "2" and len(alice["access_key_ids"].split()) == 2, alice)
    expect(rows["dana"]["key_age_class"] == "soon" and rows["dana"]["password_status"] == "no_console_access",
           rows["dana"])
    expect(rows["bob"]["path"] == "/ops&<team>/" and rows["bob"]["password_age_days"] == "30", rows["bob"])
    keys = list(csv.DictReader(io.StringIO(keys_csv)))
    seeded = sorted((row["user_name"], int(row["age_days"]), row["age_class"]) for row in keys if row["age_days"] != "0")
    expect(seeded == sorted((name, age, "retiring" if stage == "rotated" and name in ROTATED else AGE_CLASS[name])
                            for name, age in SEEDED_AGE.items()), seeded)
    expect(len(keys) == (5 if stage == "report" else 7), keys)
    expect(all(row["access_key_id"].startswith("AKIA") and row["status"] == "Active" for row in keys), keys)


def check_html(stage, text):
    page = parse_page(text)
    expect(page.csp and "default-src 'none'" in page.csp and "script-src 'sha256-" in page.csp, page.csp)
    expect(page.outside == [], "the page refers to something outside it: %s" % page.outside)
    rows = user_rows(page)
    expect(sorted((row["attrs"]["data-account"], row_user(row)) for row in rows)
           == sorted((account, user) for account, names in USERS.items() for user in names),
           [(row["attrs"]["data-account"], row_user(row)) for row in rows])
    cells = {row_user(row): row for row in rows}
    alice = cells["alice"]
    # Columns: account, user, key rotation, access keys, oldest key, last used, next key step, password age, password.
    if stage == "report":
        expect("120 d" in alice["cells"][3] and "b overdue" in alice["classes"], alice)
        expect(alice["attrs"]["data-overdue"] == "1", alice["attrs"])
    else:
        expect("120 d retiring" in alice["cells"][3] and "retiring: deactivate on " in alice["cells"][3]
               and "b retiring" in alice["classes"] and "b overdue" not in alice["classes"], alice)
        expect("verified by rotation " in alice["cells"][5], alice["cells"][5])
        expect(alice["attrs"]["data-overdue"] == "0", alice["attrs"])
    expect("b soon" in cells["dana"]["classes"] and cells["dana"]["attrs"]["data-overdue"] == "0", cells["dana"])
    expect(cells["dana"]["cells"][7] == "no console", cells["dana"])
    expect(cells["bob"]["cells"][1] == "bob /ops&<team>/", cells["bob"]["cells"][1])
    expect("/ops&amp;&lt;team&gt;/" in text and "<team>" not in text, "the path is not escaped")
    active = 5 if stage == "report" else 7
    expect(sum(int(rect["data-count"]) for rect in page.bars) == active, page.bars)
    by_class = Counter()
    for rect in page.bars:
        by_class[rect["data-class"]] += int(rect["data-count"])
    expect(by_class == (Counter(ok=active - 3, soon=1, overdue=2) if stage == "report"
                        else Counter(ok=active - 3, soon=1, retiring=2)), by_class)
    exemptions = [row["cells"][1:] for row in page.tables["exemptions-table"]]
    expect(len(exemptions) == 2 and exemptions[0][:2] == ["+ops@example.com", "malformed"]
           and exemptions[1][:3] == ["erin", "active", "2099-12-31"] and exemptions[1][3].endswith(" d")
           and exemptions[1][4] == "SEC-123 vendor audit", exemptions)
    expect([row["classes"] for row in page.tables["exemptions-table"]] == [["b overdue"], ["b ok"]],
           page.tables["exemptions-table"])
    accounts = [row["cells"][0] for row in page.tables["accounts"]]
    if stage == "report":
        expect(accounts == ["prod", "dev", "unreadable"], accounts)
        expect("changes" not in page.ids, "a changes section without a rotation")
    else:
        changes = [row["cells"][:4] for row in page.tables["changes-table"]]
        expect(sorted(change[1:4] for change in changes) == [
            ["alice", "access keys", "rotated"], ["alice", "console password", "rotated"],
            ["frank", "access keys", "rotated"]], changes)


def check_secrets(directory, secrets_file):
    secrets = [secret for secret in json.loads(Path(secrets_file).read_text())["secrets"] if secret]
    expect(len(secrets) >= 8, "the stub saw only %d secrets" % len(secrets))
    found = 0
    for path in sorted(directory.iterdir()):
        text = path.read_text(errors="replace")
        found += sum(1 for secret in secrets if secret in text)
    print("secrets: %d seen by the stub, %d found in %s" % (len(secrets), found, directory))
    expect(found == 0, "a secret is in the report")


def files(args):
    directory = Path(args.directory)
    for name in FILES:
        path = directory / name
        # rotator_report_mode, the role's default: the report names every user and key of the fleet.
        expect(path.is_file() and (path.stat().st_mode & 0o777) == 0o640, "%s missing or not 0640" % path)
    report = json.loads((directory / "report.json").read_text())
    check_json(args.stage, report)
    check_csv(args.stage, (directory / "users.csv").read_text(), (directory / "keys.csv").read_text())
    check_html(args.stage, (directory / "report.html").read_text())
    if args.secrets:
        check_secrets(directory, args.secrets)
    print("%s: report.json, users.csv, keys.csv and report.html checked" % args.stage)


# --- the browser ------------------------------------------------------------------------------------------------


def read_png(path):
    """(width, height, bytes per pixel, rows of pixel bytes) of an 8-bit RGB(A) PNG, with the stdlib only."""
    data = Path(path).read_bytes()
    expect(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, color, _compression, _filter, interlace = header
    expect(depth == 8 and interlace == 0 and color in (2, 6), "unexpected PNG format %s" % (header,))
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def near(pixel, color, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color))


def check_screenshot(path):
    width, height, bpp, rows = read_png(path)
    colors = Counter()
    for row in rows:
        for i in range(0, len(row), bpp):
            colors[row[i:i + 3]] += 1
    white = colors.get(b"\xff\xff\xff", 0)
    grey = sum(count for color, count in colors.items() if near(color, RETIRING_COLOR, 4))
    green = sum(count for color, count in colors.items() if near(color, OK_COLOR))
    print("screenshot %dx%d: %d colours, %.1f%% not white, %d pixels of the retiring grey, %d of the green" % (
        width, height, len(colors), 100.0 * (width * height - white) / (width * height), grey, green))
    expect(len(colors) >= 50, "the screenshot has only %d colours: blank?" % len(colors))
    expect(width * height - white >= width * height // 20, "the screenshot is nearly all white")
    expect(grey >= 500 and green >= 500, "the chart's bars are not in the screenshot")


def browser(args):
    page = parse_page(Path(args.dom).read_text())
    # The inline script ran (the CSP let it): it marks the page and counts the rows it shows.
    expect("js" in page.html_class.split(), "the page's script did not run: html class %r" % page.html_class)
    rows = user_rows(page)
    expect(len(rows) == 6 and not any("hidden" in row["attrs"] for row in rows), rows)
    expect(page.ids.get("count") == "showing 6 of 6 users", page.ids.get("count"))
    expect(len(page.bars) >= 3, page.bars)
    expect(len(page.tables["changes-table"]) == 3, page.tables.get("changes-table"))
    # An address with #account=prod&sort=user&dir=desc opens that view.
    page = parse_page(Path(args.dom_filtered).read_text())
    shown = [row_user(row) for row in user_rows(page) if "hidden" not in row["attrs"]]
    expect(shown == ["dana", "bob", "alice", "+ops@example.com"], shown)
    expect(page.ids.get("count") == "showing 4 of 6 users", page.ids.get("count"))
    check_screenshot(args.screenshot)
    print("browser: rows, chart, script, filtered and sorted view and screenshot checked")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    files_cmd = sub.add_parser("files")
    files_cmd.add_argument("stage", choices=["report", "rotated"])
    files_cmd.add_argument("directory")
    files_cmd.add_argument("--secrets")
    browser_cmd = sub.add_parser("browser")
    browser_cmd.add_argument("dom")
    browser_cmd.add_argument("dom_filtered")
    browser_cmd.add_argument("screenshot")
    args = parser.parse_args(argv)
    if args.command == "files":
        files(args)
    else:
        browser(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

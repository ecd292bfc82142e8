# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The audit report as one self-contained HTML page, rendered by Jinja2 from ``templates/``.

For the collection's own use (the ``report_html`` filter): it may change in any release.

The markup is ``templates/report.html.j2``; its style and script are
``templates/report.css`` and ``templates/report.js``, put into the page as
they are and pinned by the page's Content-Security-Policy by their SHA-256.
This module only works out what the template shows: the chart's geometry,
each user row's filter flags, the heading's policy and time.

Why ``plugins/plugin_utils/``: it is the collection directory for code that
runs on the controller only, next to the plugins that use it (ansible-test
knows it and imports it with the controller's packages, Jinja2 included, and
``ansible-galaxy collection build`` packs the whole ``plugins/`` tree, data
files too).  ``module_utils`` would be the wrong place: it is code that
AnsiballZ ships to managed hosts, and ansible-test's import check of it runs
without Jinja2.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from collections import Counter

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ansible_collections.rotator.aws_iam.plugins.plugin_utils._report.model import (
    ATTENTION_KEY_STATUSES,
    DEFAULT_ROTATE_AFTER_DAYS,
    NOTABLE_OUTCOMES,
    OK,
    OVERDUE,
    RETIRING,
    SOON,
    read_collection_version,
)

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
PAGE_TEMPLATE = "report.html.j2"
STYLE_FILE = "report.css"
SCRIPT_FILE = "report.js"

# The chart's canvas (SVG user units) and its margins.
CHART_WIDTH, CHART_HEIGHT, CHART_LEFT, CHART_BOTTOM, CHART_TOP = 720, 250, 48, 40, 30
CHART_RIGHT_MARGIN = 10
# Stacking order of a column, from the axis up.
CHART_CLASSES = (OK, SOON, OVERDUE, RETIRING)


def _nothing_for_none(value):
    """What ``{{ value }}`` prints: nothing for None, as an absent field is shown, never the word None."""
    return "" if value is None else value


def _day(value):
    """The day of an ISO timestamp, or the text as it is."""
    return value[:10] if isinstance(value, str) and len(value) >= 10 else value


@functools.lru_cache(maxsize=None)
def _environment():
    # autoescape=True: every template here is HTML, and every value in it comes from AWS or the inventory.
    # trim_blocks/lstrip_blocks: a line holding only a {% tag %} leaves nothing in the page.
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
        finalize=_nothing_for_none,
    )
    environment.filters["day"] = _day
    return environment


@functools.lru_cache(maxsize=None)
def _asset(name):
    """The text of a style or script file, as it is: it is not a template, and its hash must match it exactly."""
    environment = _environment()
    source, _filename, _uptodate = environment.loader.get_source(environment, name)
    return source


def _csp_hash(text):
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _buckets(limit):
    """Age buckets for the chart: thirds of the policy, then one, two and four times it."""
    edges = [0, limit // 3, 2 * limit // 3, limit, 2 * limit, 4 * limit] if limit >= 3 else [0, 30, 90, 180, 365]
    bounds = list(zip(edges, edges[1:])) + [(edges[-1], None)]
    return [(low, high, "%d\u2013%d" % (low, high - 1) if high is not None else "%d+" % low) for low, high in bounds]


def _chart_limit(report):
    """The policy most accounts have: the chart is drawn against one."""
    limits = Counter(account["policy"]["rotate_after_days"] for account in report["accounts"])
    return limits.most_common(1)[0][0] if limits else DEFAULT_ROTATE_AFTER_DAYS


def _active_key_counts(report, buckets):
    """Per bucket, the active keys of each age class."""
    counts = [Counter() for _bucket in buckets]
    for account in report["accounts"]:
        for user in account["users"]:
            for key in user["access_keys"]:
                if key["status"] != "Active" or key["age_days"] is None:
                    continue
                for index, (low, high, _label) in enumerate(buckets):
                    if key["age_days"] >= low and (high is None or key["age_days"] < high):
                        counts[index][key["age_class"]] += 1
    return counts


def _chart(report):
    """The age chart's geometry: ticks, one stacked column per bucket, and where the policy line falls."""
    limit = _chart_limit(report)
    buckets = _buckets(limit)
    counts = _active_key_counts(report, buckets)
    baseline = CHART_HEIGHT - CHART_BOTTOM
    plot = baseline - CHART_TOP
    step = max(-(-max([sum(count.values()) for count in counts] + [1]) // 4), 1)
    peak = step * 4
    slot = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT_MARGIN) / len(buckets)
    columns = []
    for index, (bucket, count) in enumerate(zip(buckets, counts)):
        x = CHART_LEFT + index * slot + slot * 0.15
        top = baseline
        bars = []
        for name in CHART_CLASSES:
            if not count[name]:
                continue
            height = plot * count[name] / peak
            top -= height
            bars.append({"age_class": name, "count": count[name], "y": top, "height": height})
        columns.append({"label": bucket[2], "x": x, "width": slot * 0.7, "center": x + slot * 0.35, "bars": bars,
                        "total": sum(count.values()), "top": top})
    at_policy = [index for index, bucket in enumerate(buckets) if bucket[0] == limit]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH - CHART_RIGHT_MARGIN,
        "baseline": baseline,
        "limit": limit,
        "ticks": [{"y": baseline - plot * tick / 4.0, "value": step * tick} for tick in range(5)],
        "columns": columns,
        "policy_x": CHART_LEFT + at_policy[0] * slot if at_policy else None,
    }


def _flags(user):
    """The row's flags the page's filter selects on (1 or 0)."""
    rotation, password = user["access_key_rotation"], user.get("password") or {}
    overdue = user["key_age_class"] == OVERDUE or password.get("age_class") == OVERDUE or password.get("status") == "due"
    failed = rotation["status"] in ("failed", "interrupted")
    attention = overdue or failed or rotation["status"] in ATTENTION_KEY_STATUSES or user["key_age_class"] == SOON
    return {"overdue": int(overdue), "failed": int(failed), "attention": int(attention)}


def _search_text(account, user):
    """What the page's search box matches: account, user, path and key IDs, in lower case."""
    words = [account["name"], account["account_id"], user["user_name"], user["path"]]
    words += [key["access_key_id"] for key in user["access_keys"]]
    return " ".join(word or "" for word in words).lower()


def _user_rows(report):
    return [{"account": account, "user": user, "search": _search_text(account, user), "flags": _flags(user)}
            for account in report["accounts"] for user in account["users"]]


def _exemption_rows(report):
    """(account, exemption) of every account's exemptions; none for an account reported by a release before them
    (a sliced job's merged report may hold one)."""
    return [{"account": account, "exemption": exemption}
            for account in report["accounts"] for exemption in account.get("exemptions") or []]


def _versions(report):
    """The versions of the collection that made the report's accounts (one, unless slices ran different ones)."""
    versions = sorted({account.get("collection_version") for account in report["accounts"]} - {None})
    return versions or [read_collection_version() or "(version unknown)"]


def report_html(report):
    """One self-contained HTML page: no external asset, a CSP that allows only its own style and script."""
    style, script = _asset(STYLE_FILE), _asset(SCRIPT_FILE)
    limits = sorted({account["policy"]["rotate_after_days"] for account in report["accounts"]}) or [
        DEFAULT_ROTATE_AFTER_DAYS]
    return _environment().get_template(PAGE_TEMPLATE).render(
        report=report,
        style_hash=_csp_hash(style),
        script_hash=_csp_hash(script),
        style=style,
        script=script,
        generated=(report["generated_at"] or "").replace("T", " ").replace("Z", "")[:16],
        policy=" / ".join("%d" % limit for limit in limits),
        versions=_versions(report),
        chart=_chart(report),
        user_rows=_user_rows(report),
        exemption_rows=_exemption_rows(report),
        notable_outcomes=NOTABLE_OUTCOMES,
    )

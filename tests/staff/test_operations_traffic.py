"""The Operations page's traffic of the last hour: requests, server errors and the 95th
percentile latency, from the minutes every web process wrote (US-72)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from funnel.accounts.models import User
from funnel.core import clock, request_minutes
from funnel.core.request_minutes import MinuteTotals

pytestmark = pytest.mark.story("US-72")

PAGE = "/staff/operations"
NOW = datetime(2026, 3, 10, 12, 30, 40, tzinfo=UTC)


def traffic(page: str) -> dict[str, str]:
    section = page.split('<dl id="traffic">')[1].split("</dl>")[0]
    terms = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", section, re.S)
    return {
        html.unescape(term): html.unescape(re.sub(r"<[^>]+>", "", value)).strip()
        for term, value in terms
    }


def minute(
    requests: int, *, server_errors: int = 0, client_errors: int = 0, buckets: list[int]
) -> MinuteTotals:
    assert sum(buckets) == requests
    return MinuteTotals(
        requests=requests,
        client_errors=client_errors,
        server_errors=server_errors,
        total_ms=requests * 40,
        buckets=buckets + [0] * (len(request_minutes.BUCKET_COLUMNS) - len(buckets)),
    )


def write(process: str, at: datetime, totals: MinuteTotals) -> None:
    request_minutes.write_minutes({request_minutes.minute_of(at): totals}, process)


def test_with_no_counted_minute_the_page_says_so(
    admin_user: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)

    page = signed_in(admin_user).get(PAGE).text

    assert "No request was answered in the finished minutes of the last hour." in page


def test_the_last_hour_sums_every_process_and_leaves_out_older_and_unfinished_minutes(
    admin_user: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two workers' minutes within the hour: 200 requests, 4 of them 5xx, 189 within 25 ms
    # (one short of 95 %: the 95th percentile is in the next bucket)
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    write(
        "web-1:10",
        NOW - timedelta(minutes=60),
        minute(100, server_errors=1, client_errors=3, buckets=[94, 6]),
    )
    write(
        "web-2:11",
        NOW - timedelta(minutes=1),
        minute(100, server_errors=3, buckets=[95, 0, 0, 0, 0, 0, 0, 5]),
    )
    # and minutes the hour leaves out: before it, and the one in progress
    write(
        "web-1:10",
        NOW - timedelta(minutes=61),
        minute(50, server_errors=50, buckets=[0] * 7 + [50]),
    )
    write("web-1:10", NOW, minute(7, server_errors=7, buckets=[7]))

    page = signed_in(admin_user).get(PAGE).text

    assert traffic(page) == {
        "Requests answered": "200 from 11:30 to 12:30 UTC (3 refused with a 4xx)",
        "Server errors (5xx)": "4, 2.0 %",
        "95th percentile of the time taken": "at most 50 ms; mean 40 ms",
    }


def test_an_hour_past_the_alerts_thresholds_is_flagged(
    admin_user: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given 20 requests of which 2 failed (10 %) and 2 took over 2.5 s (past the 95th)
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    write(
        "web-1:10",
        NOW - timedelta(minutes=5),
        minute(20, server_errors=2, buckets=[17, 0, 0, 0, 0, 0, 0, 3]),
    )

    page = signed_in(admin_user).get(PAGE).text

    assert traffic(page) == {
        "Requests answered": "20 from 11:30 to 12:30 UTC (0 refused with a 4xx)",
        "Server errors (5xx)": "2, 10.0 % (above the 5 % alert)",
        "95th percentile of the time taken": "over 2500 ms (above the 1 s alert); mean 40 ms",
    }

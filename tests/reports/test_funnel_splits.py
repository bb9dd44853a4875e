"""US-64: the funnel split by where visitors came from, their landing page or device — each
visitor in the group of their first visit of the period, so the groups add up to the whole —
on the page, in its CSV and in the staff API."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.core import clock
from funnel.extensions import db
from funnel.reports.queries import funnel_report
from funnel.reports.splits import Split, SplitGroup, split_groups
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer

pytestmark = pytest.mark.story("US-64")
NOW = datetime(2026, 4, 15, 10, tzinfo=UTC)
PERIOD = {"from": "2026-04-01", "to": "2026-04-15"}


def visit(visitor: str, at: datetime, source: str, device: str = "desktop") -> None:
    db.session.add(
        FunnelEvent(
            stage=FunnelStage.VISIT,
            visitor_id=visitor,
            occurred_at=at,
            source=source,
            medium="referral" if "." in source else "(none)",
            landing_path="/",
            device=device,
        )
    )
    db.session.commit()


def stages(visitor: str, at: datetime, *reached: FunnelStage) -> None:
    for stage in reached:
        db.session.add(FunnelEvent(stage=stage, visitor_id=visitor, occurred_at=at))
    db.session.commit()


def _visitors_from_three_sources() -> None:
    """April: ann (search, phone) pays; bob (search, desktop) views; cat (newsletter, phone)
    adds to cart and comes back on another day from search, still counted under newsletter;
    dan is an app's shopper with no visit who views a product; eve visited in March only."""
    day, later = datetime(2026, 4, 10, 9, tzinfo=UTC), datetime(2026, 4, 12, 9, tzinfo=UTC)
    visit("ann", day, "search.example", "phone")
    stages("ann", day, *list(FunnelStage)[1:])
    visit("bob", day, "search.example")
    stages("bob", day, FunnelStage.PRODUCT_VIEW)
    visit("cat", day, "newsletter", "phone")
    stages("cat", day, FunnelStage.PRODUCT_VIEW, FunnelStage.ADD_TO_CART)
    visit("cat", later, "search.example", "phone")
    stages("dan", day, FunnelStage.PRODUCT_VIEW)
    visit("eve", datetime(2026, 3, 20, 9, tzinfo=UTC), "newsletter")


def test_each_visitor_counts_in_the_group_of_their_first_visit(app: object) -> None:
    _visitors_from_three_sources()

    report = funnel_report(date(2026, 4, 1), date(2026, 4, 15), "UTC", Split.SOURCE)

    groups = {group.label: group.visitors for group in report.groups}
    assert groups == {
        "search.example": (2, 2, 1, 1, 1, 1),
        "newsletter": (1, 1, 1, 0, 0, 0),
        "(not recorded)": (0, 1, 0, 0, 0, 0),
    }
    # the groups add up to the whole funnel
    whole = tuple(row.visitors for row in report.stages)
    assert tuple(map(sum, zip(*groups.values(), strict=True))) == whole
    by_device = funnel_report(date(2026, 4, 1), date(2026, 4, 15), "UTC", Split.DEVICE)
    assert [(group.label, group.visitors[0]) for group in by_device.groups] == [
        ("phone", 2),
        ("desktop", 1),
        ("(not recorded)", 0),
    ]


def test_past_the_largest_groups_the_rest_are_other() -> None:
    counts = {
        f"site-{number}": {FunnelStage.VISIT: number, FunnelStage.ORDER_PAID: 1}
        for number in range(1, 6)
    }

    groups = split_groups(counts, shown=3)

    assert [group.label for group in groups] == ["site-5", "site-4", "Other"]
    assert groups[-1] == SplitGroup("Other", (6, 0, 0, 0, 0, 3), is_other=True)
    assert groups[0].visitors[0] == 5


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)


def test_the_page_csv_and_api_show_the_split(
    client: FlaskClient, admin_user: User, signed_in: Any, bearer: Bearer, frozen: None
) -> None:
    _visitors_from_three_sources()
    browser = signed_in(admin_user)

    page = browser.get("/staff/reports/funnel", query_string={**PERIOD, "split": "source"})

    assert page.status_code == 200
    assert '<option value="source" selected>Source</option>' in page.text
    row = re.search(r'<th scope="row">search.example</th>(.*?)</tr>', page.text, re.S)
    assert row
    cells = [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    ]
    assert cells == ["2", "2", "1", "1", "1", "1", "50.0 %"]
    assert (
        'href="/staff/reports/funnel.csv?from=2026-04-01&amp;to=2026-04-15&amp;split=source"'
        in page.text
    )

    download = browser.get("/staff/reports/funnel.csv", query_string={**PERIOD, "split": "source"})
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).removeprefix("\ufeff"))))
    assert download.headers["Content-Disposition"].startswith(
        'attachment; filename="sales-funnel-by-source-'
    )
    assert rows[0][:3] == ["split_by", "group", "visit_visitors"]
    assert rows[1] == ["source", "search.example", "2", "2", "1", "1", "1", "1", "50.0"]
    assert rows[3] == ["source", "(not recorded)", "0", "1", "0", "0", "0", "0", ""]

    answer = client.get(
        f"{STAFF}/reports/funnel",
        query_string={**PERIOD, "split": "device"},
        headers=bearer(admin_user),
    )
    body = answer.get_json()
    assert body["split"] == "device"
    assert body["groups"][0] == {
        "group": "phone",
        "visitors": {
            "visit": 2,
            "product_view": 2,
            "add_to_cart": 2,
            "checkout_started": 1,
            "payment_attempted": 1,
            "order_paid": 1,
        },
        "conversion": 50.0,
    }
    plain = client.get(f"{STAFF}/reports/funnel", query_string=PERIOD, headers=bearer(admin_user))
    assert (plain.get_json()["split"], plain.get_json()["groups"]) == (None, [])


def test_an_unknown_split_is_refused_beside_its_field(
    client: FlaskClient, admin_user: User, signed_in: Any, bearer: Bearer, frozen: None
) -> None:
    page = signed_in(admin_user).get("/staff/reports/funnel", query_string={"split": "weather"})

    assert page.status_code == 422
    assert 'aria-describedby="report-split-error"' in page.text
    assert "Split by source, medium, campaign, landing page or device." in page.text
    problem(
        client.get(
            f"{STAFF}/reports/funnel", query_string={"split": "weather"}, headers=bearer(admin_user)
        ),
        422,
        "validation_failed",
    )

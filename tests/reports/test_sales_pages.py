"""US-39 in the staff pages and the staff API: who may read the sales and product reports, what
the pages show, the CSV downloads (the page's numbers, safe for a spreadsheet) and the API."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.accounts.models import Role, User
from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.catalog.models import Variant
from funnel.core import clock
from funnel.extensions import db
from tests.factories.accounts import UserFactory
from tests.factories.catalog import ProductFactory
from tests.factories.orders import pay_by_card, place
from tests.reports.helpers import row_of, text_of
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer

pytestmark = [pytest.mark.story("US-39"), pytest.mark.config(CURRENCY="GBP")]
NOW = datetime(2026, 4, 15, 10, tzinfo=UTC)
PAGES = [
    "/staff/reports/sales",
    "/staff/reports/sales.csv",
    "/staff/reports/products",
    "/staff/reports/products.csv",
    "/staff/reports/funnel.csv",
]
APIS = [f"{STAFF}/reports/sales", f"{STAFF}/reports/products"]
WHO = [
    (Role.CUSTOMER, None, 403),
    (Role.STAFF, None, 403),
    (Role.STAFF, "catalogue,stock,orders,refunds,customers,settings,staff,audit", 403),
    (Role.STAFF, "reports", 200),
    (Role.ADMIN, None, 200),
]
PERIOD = {"from": "2026-04-01", "to": "2026-04-15"}


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    return NOW


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


def _shop_with_sales(monkeypatch: pytest.MonkeyPatch) -> None:
    """10 April: two orders (a shirt 2 at 12.50 + 5.00 shipping; a mug 7.99, no shipping), the
    shirt viewed by two visitors, one of whom bought it."""
    product = ProductFactory(
        title="=HYPERLINK(evil) Shirt",
        variants=[{"sku": "SHIRT", "price": 1250, "stock_quantity": 50}],
    )
    shirt = db.session.scalars(select(Variant).where(Variant.product_id == product.id)).one()
    mug_product = ProductFactory(
        title="Mug", variants=[{"sku": "MUG", "price": 799, "stock_quantity": 50}]
    )
    mug = db.session.scalars(select(Variant).where(Variant.product_id == mug_product.id)).one()
    for visitor in ("ann", "bob"):
        db.session.add(
            FunnelEvent(
                stage=FunnelStage.PRODUCT_VIEW,
                visitor_id=visitor,
                product_id=product.id,
                occurred_at=datetime(2026, 4, 10, 9, tzinfo=UTC),
            )
        )
    db.session.commit()
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 4, 10, 12, tzinfo=UTC))
    pay_by_card(place([(shirt, 2)], shipping=500, tax=0, visitor_id="ann"))
    pay_by_card(place([(mug, 1)], shipping=0, tax=0))
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)


# -- who may read them -------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(("role", "groups", "status"), WHO)
def test_who_may_read_the_pages_and_files(
    app: Flask, signed_in: Any, role: Role, groups: str | None, status: int, path: str
) -> None:
    user = UserFactory(role=role, permission_groups=groups)
    assert signed_in(user).get(path).status_code == status


@pytest.mark.parametrize("path", APIS)
@pytest.mark.parametrize(("role", "groups", "status"), WHO)
def test_who_may_call_the_api(
    client: FlaskClient,
    bearer: Bearer,
    role: Role,
    groups: str | None,
    status: int,
    path: str,
) -> None:
    user = UserFactory(email="caller@example.com", role=role, permission_groups=groups)
    response = client.get(path, headers=bearer(user))
    if status == 403:
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == 200
    problem(client.get(path), 401, "authentication_required")


def test_the_dashboard_and_the_funnel_page_link_to_the_reports(
    admin_user: User, signed_in: Any, frozen: datetime
) -> None:
    client = signed_in(admin_user)
    dashboard = client.get("/staff/").text
    assert 'href="/staff/reports/sales"' in dashboard
    assert 'href="/staff/reports/products"' in dashboard
    funnel = client.get("/staff/reports/funnel").text
    assert 'href="/staff/reports/sales"' in funnel
    assert 'href="/staff/reports/funnel.csv?from=2026-03-17&amp;to=2026-04-15"' in funnel


# -- what they show ----------------------------------------------------------------------------


def test_the_sales_page_and_its_csv_show_the_same_numbers(
    admin_user: User, signed_in: Any, frozen: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop_with_sales(monkeypatch)
    client = signed_in(admin_user)

    page = client.get("/staff/reports/sales", query_string={**PERIOD, "by": "week"})

    assert page.status_code == 200
    # the week of 6 April: 2 orders, 3 units, 30.00 + 7.99 = 37.99, average 19.00 (18.995)
    assert row_of(page.text, "2026-04-06 to 2026-04-12") == [
        "2",
        "3",
        "£37.99",
        "£5.00",
        "£0.00",
        "£0.00",
        "£37.99",
        "£19.00",
        "1",  # one customer (both orders are buyer@example.com's), new
        "0",
    ]
    assert row_of(page.text, "2026-04-01 to 2026-04-05")[:3] == ["0", "0", "£0.00"]
    assert row_of(page.text, "Total")[:3] == ["2", "3", "£37.99"]
    assert '<select id="report-by" name="by">' in page.text
    assert '<option value="week" selected>' in page.text

    rows = csv_rows(client.get("/staff/reports/sales.csv", query_string={**PERIOD, "by": "week"}))

    assert rows[0] == [
        "from",
        "to",
        "currency",
        "orders",
        "units",
        "gross",
        "shipping",
        "tax",
        "refunds",
        "net",
        "average_order",
        "new_customers",
        "returning_customers",
    ]
    assert rows[1:] == [
        [
            "2026-04-01",
            "2026-04-05",
            "GBP",
            "0",
            "0",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "",
            "0",
            "0",
        ],
        [
            "2026-04-06",
            "2026-04-12",
            "GBP",
            "2",
            "3",
            "37.99",
            "5.00",
            "0.00",
            "0.00",
            "37.99",
            "19.00",
            "1",
            "0",
        ],
        [
            "2026-04-13",
            "2026-04-15",
            "GBP",
            "0",
            "0",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "",
            "0",
            "0",
        ],
    ]


def test_the_product_page_and_its_csv_with_a_title_a_spreadsheet_would_run(
    admin_user: User, signed_in: Any, frozen: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop_with_sales(monkeypatch)
    client = signed_in(admin_user)

    page = client.get("/staff/reports/products", query_string=PERIOD)

    assert page.status_code == 200
    shirt = re.search(r"=HYPERLINK\(evil\) Shirt</a></th>(.*?)</tr>", page.text, re.S)
    assert shirt
    cells = [text_of(cell) for cell in re.findall(r"<td>(.*?)</td>", shirt.group(1), re.S)]
    # variants, units, revenue (no shipping), viewers, viewers who bought, conversion
    assert cells == ["Standard (SHIRT): 2 sold, £25.00", "2", "£25.00", "2", "1", "50.0 %"]

    rows = csv_rows(client.get("/staff/reports/products.csv", query_string=PERIOD))

    assert rows[0][:4] == ["product_id", "product", "variant", "sku"]
    by_sku = {row[3]: row for row in rows[1:]}
    # the title is written so that a spreadsheet shows it, never runs it
    assert by_sku["SHIRT"][1:] == [
        "'=HYPERLINK(evil) Shirt",
        by_sku["SHIRT"][2],
        "SHIRT",
        "GBP",
        "2",
        "25.00",
        "2",
        "1",
        "50.0",
    ]
    assert by_sku["MUG"][4:] == ["GBP", "1", "7.99", "0", "0", ""]


def test_the_funnel_csv_has_a_row_per_stage(
    admin_user: User, signed_in: Any, frozen: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop_with_sales(monkeypatch)

    rows = csv_rows(signed_in(admin_user).get("/staff/reports/funnel.csv", query_string=PERIOD))

    assert [row[0] for row in rows[1:]] == [stage.value for stage in FunnelStage]
    assert rows[2][1:4] == ["Viewed a product", "2", ""]  # nobody was counted visiting


@pytest.mark.parametrize(
    ("path", "query", "field", "message"),
    [
        ("/staff/reports/sales", {"by": "year"}, "by", "Group by day, week or month."),
        (
            "/staff/reports/sales.csv",
            {"from": "2026-04-15", "to": "2026-04-01"},
            "to",
            "The last day comes on or after the first day.",
        ),
        ("/staff/reports/products.csv", {"from": "15/04/2026"}, "from", "A day such as"),
    ],
)
def test_wrong_days_or_grouping_answer_422_with_the_message_beside_the_field(
    admin_user: User,
    signed_in: Any,
    frozen: datetime,
    path: str,
    query: dict,
    field: str,
    message: str,
) -> None:
    response = signed_in(admin_user).get(path, query_string=query)

    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("text/html")
    assert f'aria-describedby="report-{field}-error"' in response.text
    assert message in response.text


def test_the_api_gives_the_sales_and_products_with_exact_money(
    client: FlaskClient,
    bearer: Bearer,
    admin_user: User,
    frozen: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _shop_with_sales(monkeypatch)
    headers = bearer(admin_user)

    sales = client.get(
        f"{STAFF}/reports/sales", query_string={**PERIOD, "by": "month"}, headers=headers
    )
    products = client.get(f"{STAFF}/reports/products", query_string=PERIOD, headers=headers)

    assert sales.status_code == 200
    body = sales.get_json()
    assert (body["from"], body["to"], body["by"], body["time_zone"]) == (
        "2026-04-01",
        "2026-04-15",
        "month",
        "UTC",
    )
    (gbp,) = body["currencies"]
    (april,) = gbp["rows"]
    assert (april["from"], april["to"], april["orders"], april["units"]) == (
        "2026-04-01",
        "2026-04-15",
        2,
        3,
    )
    assert april["gross"] == {"amount": 3799, "currency": "GBP"}
    assert april["average_order"] == {"amount": 1900, "currency": "GBP"}
    assert gbp["total"]["net"] == {"amount": 3799, "currency": "GBP"}
    assert (april["new_customers"], april["returning_customers"]) == (1, 0)
    listed = products.get_json()["products"]
    assert [(row["title"], row["units"], row["revenue"]["amount"]) for row in listed] == [
        ("=HYPERLINK(evil) Shirt", 2, 2500),
        ("Mug", 1, 799),
    ]
    assert (listed[0]["viewers"], listed[0]["buyers_who_viewed"], listed[0]["conversion"]) == (
        2,
        1,
        50.0,
    )
    problem(
        client.get(f"{STAFF}/reports/sales", query_string={"by": "year"}, headers=headers),
        422,
        "validation_failed",
    )

"""US-64's product funnel on the staff pages (``/staff/reports/product-funnel`` and its CSV)
and over the staff API (``GET /api/v1/staff/reports/product-funnel``): who may read them, the
same figures in each, pages, and what is refused."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from tests.factories.accounts import UserFactory
from tests.reports.helpers import row_of
from tests.reports.test_product_funnel import shop  # noqa: F401 (a fixture)
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer

pytestmark = [
    pytest.mark.story("US-64"),
    pytest.mark.config(CURRENCY="GBP", PAGE_SIZE=2),
]
PAGES = ["/staff/reports/product-funnel", "/staff/reports/product-funnel.csv"]
API = f"{STAFF}/reports/product-funnel"
WHO = [
    (Role.CUSTOMER, None, 403),
    (Role.STAFF, None, 403),
    (Role.STAFF, "catalogue,stock,orders,refunds,customers,settings,staff,audit", 403),
    (Role.STAFF, "reports", 200),
    (Role.ADMIN, None, 200),
]
DAY = {"from": "2026-06-10", "to": "2026-06-10"}


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(("role", "groups", "status"), WHO)
def test_who_may_read_the_page_and_file(
    app: Flask, signed_in: Any, role: Role, groups: str | None, status: int, path: str
) -> None:
    user = UserFactory(role=role, permission_groups=groups)
    assert signed_in(user).get(path).status_code == status


@pytest.mark.parametrize(("role", "groups", "status"), WHO)
def test_who_may_call_the_api(
    client: FlaskClient, bearer: Bearer, role: Role, groups: str | None, status: int
) -> None:
    user = UserFactory(email="caller@example.com", role=role, permission_groups=groups)
    response = client.get(API, headers=bearer(user))
    if status == 403:
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == 200
    problem(client.get(API), 401, "authentication_required")


def test_the_reports_link_to_the_product_funnel(admin_user: User, signed_in: Any) -> None:
    page = signed_in(admin_user).get("/staff/reports/products").text
    assert '<a href="/staff/reports/product-funnel">Product funnel</a>' in page


def test_the_page_shows_each_products_funnel_in_pages(
    shop: None,  # noqa: F811
    admin_user: User,
    signed_in: Any,
) -> None:
    client = signed_in(admin_user)

    first = client.get("/staff/reports/product-funnel", query_string=DAY).text
    second = client.get("/staff/reports/product-funnel", query_string={**DAY, "page": 2}).text

    # viewers, added to cart, started checkout, paid, units paid, viewers to buyers
    assert row_of(first, r'<a href="/staff/products/\d+">Mug</a>') == [
        "2",
        "2",
        "2",
        "1",
        "2",
        "50.0 %",
    ]
    assert row_of(first, r'<a href="/staff/products/\d+">Shirt</a>') == [
        "1",
        "0",
        "0",
        "1",
        "3",
        "100.0 %",
    ]
    assert "Bowl" not in first
    assert "Page 1 of 2" in first
    assert (
        'href="/staff/reports/product-funnel?page=2&amp;from=2026-06-10&amp;to=2026-06-10"' in first
    )
    assert row_of(second, r'<a href="/staff/products/\d+">Bowl</a>')[:3] == ["1", "0", "1"]
    assert "Mug" not in second


def test_the_category_funnel_and_its_csv(
    shop: None,  # noqa: F811
    admin_user: User,
    signed_in: Any,
) -> None:
    client = signed_in(admin_user)

    page = client.get("/staff/reports/product-funnel", query_string={**DAY, "of": "category"})
    response = client.get(
        "/staff/reports/product-funnel.csv", query_string={**DAY, "of": "category"}
    )

    assert row_of(page.text, "Kitchen") == ["2", "2", "2", "1", "2", "50.0 %"]
    assert '<option value="category" selected>Category</option>' in page.text
    assert (
        'href="/staff/reports/product-funnel.csv?from=2026-06-10&amp;to=2026-06-10&amp;of=category"'
        in page.text
    )
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="category-funnel-2026-06-10-to-2026-06-10.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    assert rows[0] == [
        "of",
        "id",
        "name",
        "viewers",
        "adders",
        "checkout_visitors",
        "buyers",
        "paid_units",
        "conversion_percent",
    ]
    assert [row[2:] for row in rows[1:]] == [
        ["Kitchen", "2", "2", "2", "1", "2", "50.0"],
        ["Wear", "1", "0", "0", "1", "3", "100.0"],
    ]


def test_the_product_csv_holds_every_page(
    shop: None,  # noqa: F811
    admin_user: User,
    signed_in: Any,
) -> None:
    response = signed_in(admin_user).get("/staff/reports/product-funnel.csv", query_string=DAY)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    assert [(row[0], row[2]) for row in rows[1:]] == [
        ("product", "Mug"),
        ("product", "Shirt"),
        ("product", "Bowl"),
    ]


def test_the_api_gives_the_same_figures_in_pages(
    shop: None,  # noqa: F811
    client: FlaskClient,
    bearer: Bearer,
    admin_user: User,
) -> None:
    headers = bearer(admin_user)

    first = client.get(API, query_string=DAY, headers=headers).get_json()
    second = client.get(
        API, query_string={**DAY, "cursor": first["next_cursor"]}, headers=headers
    ).get_json()
    categories = client.get(
        API, query_string={**DAY, "of": "category", "limit": 10}, headers=headers
    ).get_json()

    assert (first["from"], first["to"], first["time_zone"], first["of"]) == (
        "2026-06-10",
        "2026-06-10",
        "UTC",
        "product",
    )
    mug = first["items"][0]
    assert {key: value for key, value in mug.items() if key != "id"} == {
        "name": "Mug",
        "viewers": 2,
        "adders": 2,
        "checkout_visitors": 2,
        "buyers": 1,
        "paid_units": 2,
        "conversion": 50.0,
    }
    assert [item["name"] for item in first["items"]] == ["Mug", "Shirt"]
    assert ([item["name"] for item in second["items"]], second["next_cursor"]) == (["Bowl"], None)
    assert [(item["name"], item["viewers"]) for item in categories["items"]] == [
        ("Kitchen", 2),
        ("Wear", 1),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"of": "brand"}, "of"),
        ({"from": "2026-06-11", "to": "2026-06-10"}, "to"),
        ({"from": "10/06/2026"}, "from"),
    ],
)
def test_what_is_not_right_is_refused(
    client: FlaskClient,
    bearer: Bearer,
    admin_user: User,
    signed_in: Any,
    query: dict[str, str],
    field: str,
) -> None:
    response = client.get(API, query_string=query, headers=bearer(admin_user))
    assert field in problem(response, 422, response.get_json()["code"])["fields"]
    for path in PAGES:
        page = signed_in(admin_user).get(path, query_string=query)
        assert page.status_code == 422
        assert re.search(rf'aria-describedby="report-{field}-error"', page.text)

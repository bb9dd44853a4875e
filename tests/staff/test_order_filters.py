"""The staff order list's filters (placing days, payment method, fulfilment state, search by
ship-to name), on the dashboard and in the staff API, through one query function."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.extensions import db
from funnel.orders import services
from funnel.orders.models import Order
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer

GATEWAYS = "test,manual"
NUMBER = re.compile(r'href="/staff/orders/(FN-[^"]+)"')


def _placed(name: str, day: datetime, *, gateway: str = "test", email: str = "") -> Order:
    order = place(
        [(stocked_variant(5), 1)],
        email=email or f"{name.split()[0].lower()}@example.com",
        gateway=gateway,
    )
    db.session.execute(
        sa.update(Order).where(Order.id == order.id).values(placed_at=day, ship_full_name=name)
    )
    db.session.commit()
    return order


def _orders(staff_id: int) -> dict[str, Order]:
    """Six orders, one a day from 2026-03-01 (the second at 23:59, the third at midnight):
    ann awaits a card payment, bob is paid, cat awaits a bank transfer, dan is shipped, eve
    delivered, fay cancelled."""
    orders = {
        "ann": _placed("Ann Smith", datetime(2026, 3, 1, 9, tzinfo=UTC)),
        "bob": _placed(
            "Bob Jones", datetime(2026, 3, 2, 23, 59, tzinfo=UTC), email="bob@shop.example"
        ),
        "cat": _placed("Cat 100%_Off", datetime(2026, 3, 3, tzinfo=UTC), gateway="manual"),
        "dan": _placed("DAN SMITHERS", datetime(2026, 3, 4, 12, tzinfo=UTC)),
        "eve": _placed("Ève Durand", datetime(2026, 3, 5, 12, tzinfo=UTC)),
        "fay": _placed("Fay Wong", datetime(2026, 3, 6, 12, tzinfo=UTC)),
    }
    for name in ("bob", "dan", "eve"):
        pay_by_card(orders[name])
    for name in ("dan", "eve"):
        services.fulfil_order(orders[name].number, actor_user_id=staff_id)
    services.mark_delivered(orders["eve"].number, actor_user_id=staff_id)
    services.cancel_order(orders["fay"].number, reason="changed my mind", actor_user_id=staff_id)
    return orders


# (query string, the orders it lists, newest first)
CASES = [
    ("", ["fay", "eve", "dan", "cat", "bob", "ann"]),
    ("placed_from=2026-03-02", ["fay", "eve", "dan", "cat", "bob"]),
    ("placed_to=2026-03-02", ["bob", "ann"]),
    ("placed_from=2026-03-02&placed_to=2026-03-02", ["bob"]),
    ("placed_from=2026-03-03&placed_to=2026-03-02", []),
    ("payment_method=manual", ["cat"]),
    ("payment_method=test", ["fay", "eve", "dan", "bob", "ann"]),
    ("fulfilment=unshipped", ["cat", "bob", "ann"]),
    ("fulfilment=shipped", ["dan"]),
    ("fulfilment=delivered", ["eve"]),
    ("fulfilment=unshipped&payment_method=test", ["bob", "ann"]),
    ("fulfilment=unshipped&status=paid", ["bob"]),
    ("fulfilment=shipped&status=paid", []),
    ("q=smith", ["dan", "ann"]),
    ("q=SMITHERS", ["dan"]),
    ("q=shop.EXAMPLE", ["bob"]),
    ("q=%25", ["cat"]),
    ("q=_", ["cat"]),
    ("q=0%25_o", ["cat"]),
    ("q=a%25", []),
    ("q=fay%40", ["fay"]),
]


@pytest.mark.story("US-30")
@pytest.mark.config(PAYMENT_GATEWAYS=GATEWAYS)
def test_each_filter_of_the_order_list_gives_exactly_its_orders(
    staff_user: User, signed_in
) -> None:
    # given six orders of every kind
    orders = _orders(staff_user.id)
    browser = signed_in(staff_user)

    for query, expected in CASES:
        # when staff filter the list
        response = browser.get(f"/staff/orders?{query}")

        # then exactly those orders show, newest first
        assert response.status_code == 200, query
        assert NUMBER.findall(response.text) == [orders[name].number for name in expected], query
        assert f"{len(expected)} order{'' if len(expected) == 1 else 's'}" in response.text


@pytest.mark.story("US-30")
@pytest.mark.config(PAYMENT_GATEWAYS=GATEWAYS)
def test_the_staff_api_filters_orders_the_same_way(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    orders = _orders(staff_user.id)
    headers = bearer(staff_user)

    for query, expected in CASES:
        response = client.get(f"{STAFF}/orders?{query}", headers=headers)

        assert response.status_code == 200, (query, response.get_data(as_text=True))
        numbers = [item["number"] for item in response.get_json()["items"]]
        assert numbers == [orders[name].number for name in expected], query


@pytest.mark.story("US-30")
@pytest.mark.config(PAYMENT_GATEWAYS=GATEWAYS)
def test_the_pages_of_a_filtered_list_keep_the_filters(staff_user: User, signed_in) -> None:
    variant = stocked_variant(60)
    for _ in range(51):
        place([(variant, 1)], gateway="manual")
    place([(variant, 1)])
    browser = signed_in(staff_user)

    first = browser.get("/staff/orders?payment_method=manual&fulfilment=unshipped").text
    second = browser.get("/staff/orders?payment_method=manual&fulfilment=unshipped&page=2").text

    assert "51 orders." in first
    assert "page=2&amp;payment_method=manual&amp;fulfilment=unshipped" in first
    assert len(NUMBER.findall(second)) == 1


@pytest.mark.story("US-30", "US-44")
@pytest.mark.config(PAYMENT_GATEWAYS=GATEWAYS)
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("placed_from=2026-02-30", "placed_from", "Give a date as YYYY-MM-DD"),
        ("placed_to=yesterday", "placed_to", "Give a date as YYYY-MM-DD"),
        ("placed_to=2026-3-1", "placed_to", "Give a date as YYYY-MM-DD"),
        ("placed_from=%00", "placed_from", "Give a date as YYYY-MM-DD"),
        ("placed_from=0999-12-31", "placed_from", "Give a date from 1970-01-01 to 9998-12-31"),
        ("placed_to=9999-12-31", "placed_to", "Give a date from 1970-01-01 to 9998-12-31"),
        ("payment_method=bitcoin", "payment_method", "Choose one of: test, manual."),
        ("fulfilment=lost", "fulfilment", "Choose one of: unshipped, shipped, delivered."),
        ("status=lost", "status", "Choose one of: pending_payment"),
    ],
)
def test_bad_filters_show_the_form_again_with_the_reason_beside_the_field(
    staff_user: User, signed_in, query: str, field: str, message: str
) -> None:
    place()

    response = signed_in(staff_user).get(f"/staff/orders?{query}")

    assert response.status_code == 422
    error = re.search(
        rf'<small id="order-{field}-error" class="field-error">([^<]*)</small>', response.text
    )
    assert error is not None
    assert error.group(1).startswith(message)
    assert f'aria-describedby="order-{field}-error"' in response.text
    assert NUMBER.findall(response.text) == []


@pytest.mark.story("US-30", "US-44")
@pytest.mark.config(PAYMENT_GATEWAYS=GATEWAYS)
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("payment_method=bitcoin", "payment_method"),
        ("payment_method=", "payment_method"),
        ("fulfilment=lost", "fulfilment"),
        ("placed_from=2026-02-30", "placed_from"),
    ],
)
def test_bad_api_filters_are_a_422_problem(
    client: FlaskClient, bearer: Bearer, staff_user: User, query: str, field: str
) -> None:
    response = client.get(f"{STAFF}/orders?{query}", headers=bearer(staff_user))

    assert list(problem(response, 422, "validation_failed")["fields"]) == [field]


def _statement_counts(load: Any, add_orders: Any, sql_statements: list[str]) -> list[int]:
    """Statements of ``load`` after each of two ``add_orders`` (a first load warms up what a
    session and a token write once)."""
    load()
    counts = []
    for _ in range(2):
        add_orders()
        sql_statements.clear()
        load()
        counts.append(len(sql_statements))
    return counts


@pytest.mark.story("US-30")
@pytest.mark.config(PAYMENT_GATEWAYS=GATEWAYS)
def test_a_filtered_page_costs_the_same_queries_for_1_or_11_orders(
    client: FlaskClient, bearer: Bearer, staff_user: User, signed_in, sql_statements: list[str]
) -> None:
    variant = stocked_variant(100)
    browser = signed_in(staff_user)
    headers = bearer(staff_user)
    query = (
        "q=ann&payment_method=test&fulfilment=unshipped&placed_from=2000-01-01&placed_to=2100-01-01"
    )
    batches = iter([1, 10])

    def add_orders() -> None:
        for _ in range(next(batches)):
            place([(variant, 1)], email="ann@example.com")

    def load() -> None:
        assert browser.get(f"/staff/orders?{query}").status_code == 200
        assert client.get(f"{STAFF}/orders?{query}", headers=headers).status_code == 200

    first, second = _statement_counts(load, add_orders, sql_statements)

    # the page (count and rows), the item counts for the API: the same however many orders
    assert first == second

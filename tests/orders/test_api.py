"""The caller's orders over the API: the list (newest first, by cursor) and one order in full,
the same as the customer's order pages; someone else's order is a 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.core import clock
from funnel.extensions import db
from funnel.orders import queries
from funnel.orders import services as orders
from funnel.orders.models import Order, OrderEvent
from tests.factories.accounts import UserFactory
from tests.factories.catalog import ProductFactory
from tests.factories.inventory import stocked_variant
from tests.factories.orders import paid_order, pay_by_card, place, start_bank_transfer
from tests.support.api import problem
from tests.support.api_carts import catalog_variants, usd

ORDERS = "/api/v1/orders"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

Bearer = Callable[..., dict[str, str]]


class Clock:
    now = START


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> type[Clock]:
    """``frozen_clock.now`` is the time everyone reads; tests move it."""
    Clock.now = START
    monkeypatch.setattr(clock, "utcnow", lambda: Clock.now)
    return Clock


def _state() -> tuple[list[tuple[str, str]], int]:
    """Every order's (number, status) and the count of order events: what a call could change."""
    rows = db.session.execute(sa.select(Order.number, Order.status).order_by(Order.id))
    events = db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent))
    return [(number, status.value) for number, status in rows], int(events or 0)


def _summary(order: Order, item_count: int) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status.value,
        "status_label": order.status.label,
        "placed_at": order.placed_at.isoformat(),
        "total": usd(order.total_minor),
        "item_count": item_count,
    }


# --- the list -------------------------------------------------------------------------------


@pytest.mark.story("US-43")
def test_the_caller_lists_their_own_orders_newest_first(
    client: FlaskClient, customer: User, bearer: Bearer, frozen_clock: type[Clock]
) -> None:
    shirt, mug = stocked_variant(10), stocked_variant(10)
    oldest = place([(shirt, 2), (mug, 1)], user_id=customer.id, email=customer.email)
    frozen_clock.now += timedelta(hours=1)
    paid = paid_order(lines=[(mug, 3)], user_id=customer.id, email=customer.email)
    frozen_clock.now += timedelta(hours=1)
    place([(shirt, 1)], user_id=UserFactory().id)  # another customer's
    place([(shirt, 1)], email=customer.email)  # a guest order with the same email

    response = client.get(ORDERS, headers=bearer(customer))

    assert response.status_code == 200
    assert response.get_json() == {
        "items": [_summary(paid, 3), _summary(oldest, 3)],
        "next_cursor": None,
    }
    assert response.get_json()["items"][0]["placed_at"] == "2026-03-01T10:00:00+00:00"
    assert response.get_json()["items"][0]["status"] == "paid"


def test_a_caller_without_orders_gets_an_empty_list(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    place(user_id=UserFactory().id)

    response = client.get(ORDERS, headers=bearer(customer))

    assert response.get_json() == {"items": [], "next_cursor": None}


@pytest.mark.story("US-43")
def test_the_list_is_paged_with_a_cursor(
    client: FlaskClient, customer: User, bearer: Bearer, frozen_clock: type[Clock]
) -> None:
    variant = stocked_variant(20)
    placed = []
    for _ in range(5):
        placed.append(place([(variant, 1)], user_id=customer.id))
        frozen_clock.now += timedelta(minutes=1)
    headers = bearer(customer)

    first = client.get(f"{ORDERS}?limit=2", headers=headers).get_json()
    second = client.get(f"{ORDERS}?cursor={first['next_cursor']}", headers=headers).get_json()
    third = client.get(f"{ORDERS}?cursor={second['next_cursor']}", headers=headers).get_json()

    newest_first = [order.number for order in reversed(placed)]
    assert [item["number"] for item in first["items"]] == newest_first[0:2]
    assert [item["number"] for item in second["items"]] == newest_first[2:4]
    assert [item["number"] for item in third["items"]] == newest_first[4:5]
    assert third["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=" + "A" * 201, "cursor"),
        ("cursor=eyJwYWdlIjowLCJsaW1pdCI6MTB9", "cursor"),  # page 0
    ],
)
def test_bad_paging_parameters_are_a_422(
    client: FlaskClient, customer: User, bearer: Bearer, query: str, field: str
) -> None:
    response = client.get(f"{ORDERS}?{query}", headers=bearer(customer))

    body = problem(response, 422, "validation_failed")
    assert list(body["fields"]) == [field]


# --- one order ------------------------------------------------------------------------------


@pytest.mark.story("US-43")
def test_the_caller_reads_their_paid_order_in_full(
    client: FlaskClient, customer: User, bearer: Bearer, frozen_clock: type[Clock]
) -> None:
    shirt = ProductFactory(
        title="Shirt",
        variants=[{"sku": "SHIRT-M", "price": 2500, "stock_quantity": 5, "title": "Medium"}],
    )
    [variant] = catalog_variants(shirt.id)
    order = place([(variant, 2)], user_id=customer.id, email=customer.email)
    frozen_clock.now += timedelta(minutes=5)
    pay_by_card(order)
    order = db.session.get(Order, order.id)
    assert order is not None

    response = client.get(f"{ORDERS}/{order.number}", headers=bearer(customer))

    assert response.status_code == 200
    assert response.get_json() == {
        "number": order.number,
        "status": "paid",
        "status_label": "Paid",
        "placed_at": "2026-03-01T09:00:00+00:00",
        "total": usd(5000 + 500 + 300),
        "item_count": 2,
        "email": "customer@example.com",
        "currency": "USD",
        "lines": [
            {
                "id": queries.order_lines(order)[0].id,
                "sku": "SHIRT-M",
                "product_title": "Shirt",
                "variant_label": "Medium",
                "unit_price": usd(2500),
                "quantity": 2,
                "line_total": usd(5000),
                "refunded_quantity": 0,
            }
        ],
        "subtotal": usd(5000),
        "shipping": usd(500),
        "tax": usd(300),
        "tax_rate_basis_points": 2000,
        "shipping_address": {
            "full_name": "Ann Smith",
            "company": None,
            "line1": "1 High Street",
            "line2": "Flat 2",
            "city": "Bristol",
            "region": None,
            "postal_code": "BS1 4DJ",
            "country_code": "GB",
            "phone": "+44 117 496 0000",
        },
        "shipping_method": {"code": "standard", "name": "Standard delivery"},
        "payment": {
            "gateway": "test",
            "method": "Card (test gateway)",
            "status": "succeeded",
            "card_brand": "visa",
            "card_last4": "4242",
            "refunded": usd(0),
            "paid_so_far": usd(5800),
            "still_due": usd(0),
        },
        "paid_at": "2026-03-01T09:05:00+00:00",
        "fulfilled_at": None,
        "delivered_at": None,
        "cancelled_at": None,
        "refunded_at": None,
        "events": [
            {
                "from_status": None,
                "to_status": "pending_payment",
                "note": "placed",
                "created_at": "2026-03-01T09:00:00+00:00",
            },
            {
                "from_status": "pending_payment",
                "to_status": "paid",
                "note": "payment received",
                "created_at": "2026-03-01T09:05:00+00:00",
            },
        ],
        "shipments": [],
        "refunds": [],
    }


def test_an_order_awaiting_a_bank_transfer_shows_its_pending_payment(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    order = place(user_id=customer.id, gateway="manual")
    start_bank_transfer(order)

    body = client.get(f"{ORDERS}/{order.number}", headers=bearer(customer)).get_json()

    assert (body["status"], body["status_label"]) == ("pending_payment", "Awaiting payment")
    assert body["payment"] == {
        "gateway": "manual",
        "method": "Bank transfer",
        "status": "pending",
        "card_brand": None,
        "card_last4": None,
        "refunded": usd(0),
        "paid_so_far": usd(0),
        "still_due": usd(2800),
    }


def test_an_order_without_a_payment_yet_says_so(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    order = place(user_id=customer.id)

    body = client.get(f"{ORDERS}/{order.number}", headers=bearer(customer)).get_json()

    assert body["payment"]["status"] is None
    assert body["paid_at"] is None


def test_a_cancelled_order_shows_the_reason_in_its_history(
    client: FlaskClient, customer: User, bearer: Bearer, staff_user: User
) -> None:
    order = place(user_id=customer.id)
    orders.cancel_order(order.number, actor_user_id=staff_user.id, reason="Out of stock")

    body = client.get(f"{ORDERS}/{order.number}", headers=bearer(customer)).get_json()

    assert body["status"] == "cancelled"
    assert [(event["from_status"], event["to_status"], event["note"])
            for event in body["events"]] == [
        (None, "pending_payment", "placed"),
        ("pending_payment", "cancelled", "Out of stock"),
    ]  # fmt: skip


def test_the_number_may_be_typed_loosely(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    order = place(user_id=customer.id)
    loose = order.number.lower().removeprefix("fn-")

    response = client.get(f"{ORDERS}/{loose}", headers=bearer(customer))

    assert response.get_json()["number"] == order.number


@pytest.mark.parametrize(
    "number", ["FN-00000000", "nothing", "x" * 300, "%00", "FN-%E2%82%AC", "1%20OR%201=1"]
)
def test_an_unknown_number_is_a_404(
    client: FlaskClient, customer: User, bearer: Bearer, number: str
) -> None:
    place(user_id=customer.id)

    response = client.get(f"{ORDERS}/{number}", headers=bearer(customer))

    problem(response, 404, "order_not_found")


# --- who may read an order ------------------------------------------------------------------


@pytest.mark.story("US-43")
@pytest.mark.parametrize("path", ["", "/{number}"])
@pytest.mark.parametrize(
    "caller", ["anonymous", "expired token", "owner", "other customer", "staff", "admin"]
)
def test_orders_authorisation_matrix(
    client: FlaskClient, customer: User, bearer: Bearer, caller: str, path: str
) -> None:
    order = place(user_id=customer.id)
    before = _state()
    callers = {
        "anonymous": {},
        "expired token": bearer(customer, days=-1),
        "owner": bearer(customer),
        "other customer": bearer(UserFactory()),
        "staff": bearer(UserFactory(role=Role.STAFF)),
        "admin": bearer(UserFactory(role=Role.ADMIN)),
    }

    response = client.get(ORDERS + path.format(number=order.number), headers=callers[caller])

    if caller == "anonymous":
        problem(response, 401, "authentication_required")
    elif caller == "expired token":
        problem(response, 401, "token_invalid_or_expired")
    elif caller == "owner":
        assert response.status_code == 200
        listed = response.get_json()["items"] if not path else [response.get_json()]
        assert [item["number"] for item in listed] == [order.number]
    elif path:  # someone else's order, staff included: here it does not exist for them
        problem(response, 404, "order_not_found")
    else:
        assert response.get_json() == {"items": [], "next_cursor": None}
    assert _state() == before

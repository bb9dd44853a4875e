"""Staff API: orders (orders.view), their workflow (orders.fulfil) and refunds (orders.refund)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.orders import queries
from funnel.orders.models import Order, OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments.models import PaymentStatus
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place, start_bank_transfer
from tests.orders.helpers import refund_keys, statuses
from tests.support.api import problem
from tests.support.api_staff import ROLES, STAFF, Bearer, headers_for, orders_state

USD = "USD"


def _usd(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": USD}


def _paid_order(**kwargs: Any) -> Order:
    order = place(**kwargs)  # $20.00 of goods + $5.00 shipping + $3.00 tax = $28.00
    pay_by_card(order)
    return order


def _order_calls(order: Order) -> dict[str, tuple[str, str, Any, dict[str, str], int]]:
    """Each order operation: method, path, body, extra headers, and its success status."""
    base = f"{STAFF}/orders/{order.number}"
    return {
        "list": ("GET", f"{STAFF}/orders", None, {}, 200),
        "get": ("GET", base, None, {}, 200),
        "transition": (
            "POST",
            f"{base}/transitions",
            {"to": "fulfilled", "carrier": "dhl", "tracking_number": "JD0001"},
            {},
            200,
        ),
        "refund": (
            "POST",
            f"{base}/refunds",
            {"amount": _usd(500), "reason": "late"},
            {"Idempotency-Key": "matrix-refund-1"},
            201,
        ),
    }


# The operations staff may not call: refunds move money, so they are the admins'.
STAFF_DENIED = {"refund"}


@pytest.mark.story("US-28", "US-30", "US-32")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", ["list", "get", "transition", "refund"])
def test_order_operations_need_their_permission(
    client: FlaskClient, bearer: Bearer, role: str, operation: str
) -> None:
    # given a paid order and a caller of ``role``
    order = _paid_order()
    method, path, body, extra, success = _order_calls(order)[operation]
    headers = {**headers_for(role, bearer), **extra}
    before = orders_state()

    # when the caller calls the operation
    response = client.open(path, method=method, json=body, headers=headers)

    # then: 401 without a token; 403 for customers and for staff asking for a refund;
    # nothing changed for them; the others pass
    if role == "anonymous":
        problem(response, 401, "authentication_required")
    elif role == "customer" or (role == "staff" and operation in STAFF_DENIED):
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == success, response.get_data(as_text=True)
    if role == "anonymous" or role == "customer" or operation in {"list", "get"}:
        assert orders_state() == before
    if role == "staff" and operation in STAFF_DENIED:
        assert orders_state() == before


@pytest.mark.story("US-28", "US-30")
def test_a_customer_cannot_read_even_their_own_order_through_the_staff_api(
    client: FlaskClient, bearer: Bearer, customer: User
) -> None:
    order = _paid_order(email=customer.email, user_id=customer.id)

    response = client.get(f"{STAFF}/orders/{order.number}", headers=bearer(customer))

    problem(response, 403, "permission_denied")


# --- the list and one order -----------------------------------------------------------------


def _placed_on(order: Order, day: datetime) -> None:
    db.session.execute(sa.update(Order).where(Order.id == order.id).values(placed_at=day))
    db.session.commit()


@pytest.mark.story("US-30")
def test_staff_filter_orders_by_status_day_and_search_them(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    # given orders placed on three days, one of them paid
    early = place(email="ann@example.com")
    middle = _paid_order(email="bob@shop.example")
    late = place(email="cat@example.com")
    _placed_on(early, datetime(2026, 3, 1, 9, tzinfo=UTC))
    _placed_on(middle, datetime(2026, 3, 2, 23, 59, tzinfo=UTC))
    _placed_on(late, datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    headers = bearer(staff_user)

    def numbers(query: str) -> list[str]:
        response = client.get(f"{STAFF}/orders?{query}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["number"] for item in response.get_json()["items"]]

    assert numbers("") == [late.number, middle.number, early.number]
    assert numbers("status=paid") == [middle.number]
    assert numbers("q=SHOP.EXAMPLE") == [middle.number]
    assert numbers(f"q={early.number.lower()}") == [early.number]
    assert numbers("placed_from=2026-03-02") == [late.number, middle.number]
    assert numbers("placed_to=2026-03-02") == [middle.number, early.number]
    assert numbers("placed_from=2026-03-02&placed_to=2026-03-02") == [middle.number]


@pytest.mark.story("US-30", "US-41")
def test_the_order_list_is_paged_with_a_cursor(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    orders = [place(email=f"buyer{n}@example.com") for n in range(3)]
    headers = bearer(staff_user)

    first = client.get(f"{STAFF}/orders?limit=2", headers=headers).get_json()
    second = client.get(f"{STAFF}/orders?cursor={first['next_cursor']}", headers=headers)

    assert [item["number"] for item in first["items"]] == [o.number for o in orders[:0:-1]]
    assert first["items"][0] == {
        "number": orders[2].number,
        "status": "pending_payment",
        "status_label": "Awaiting payment",
        "placed_at": first["items"][0]["placed_at"],
        "total": _usd(2800),
        "item_count": 2,
        "email": "buyer2@example.com",
        "user_id": None,
    }
    assert second.status_code == 200
    assert second.get_json() == {
        "items": [second.get_json()["items"][0]],
        "next_cursor": None,
    }
    assert second.get_json()["items"][0]["number"] == orders[0].number


@pytest.mark.story("US-30", "US-44")
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("placed_from=yesterday", "placed_from"),
        ("limit=101", "limit"),
        ("cursor=abc", "cursor"),
        ("q=" + "x" * 255, "q"),
        ("q=FN%00", "q"),
        ("placed_to=9999-12-31", "placed_to"),
    ],
)
def test_bad_list_parameters_are_a_422_problem(
    client: FlaskClient, bearer: Bearer, staff_user: User, query: str, field: str
) -> None:
    response = client.get(f"{STAFF}/orders?{query}", headers=bearer(staff_user))

    assert list(problem(response, 422, "validation_failed")["fields"]) == [field]


@pytest.mark.story("US-30")
@pytest.mark.parametrize(
    ("role", "actions"), [("staff", ["fulfil"]), ("admin", ["cancel", "fulfil", "refund"])]
)
def test_one_order_in_full_with_its_history_payments_and_the_callers_actions(
    client: FlaskClient, bearer: Bearer, role: str, actions: list[str]
) -> None:
    order = _paid_order(email="ann@example.com")

    response = client.get(f"{STAFF}/orders/{order.number}", headers=headers_for(role, bearer))

    assert response.status_code == 200
    body = response.get_json()
    assert (body["number"], body["status"], body["email"], body["user_id"]) == (
        order.number,
        "paid",
        "ann@example.com",
        None,
    )
    assert body["actions"] == actions
    assert body["refundable"] == _usd(2800)
    assert [(e["from_status"], e["to_status"], e["actor_user_id"]) for e in body["events"]] == [
        (None, "pending_payment", None),
        ("pending_payment", "paid", None),
    ]
    [payment] = body["payments"]
    assert (payment["gateway"], payment["status"], payment["amount"], payment["refunded"]) == (
        "test",
        "succeeded",
        _usd(2800),
        _usd(0),
    )
    assert (payment["card_brand"], payment["card_last4"]) == ("visa", "4242")
    assert [line["quantity"] for line in body["lines"]] == [2]


@pytest.mark.story("US-30", "US-44")
@pytest.mark.parametrize("number", ["FN-NOSUCH1", "not-a-number", "x" * 41])
def test_an_unknown_order_is_404(
    client: FlaskClient, bearer: Bearer, staff_user: User, number: str
) -> None:
    response = client.get(f"{STAFF}/orders/{number}", headers=bearer(staff_user))

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


# --- transitions ----------------------------------------------------------------------------


@pytest.mark.story("US-30")
def test_staff_ship_then_deliver_and_a_repeat_changes_nothing(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    order = _paid_order()
    headers = bearer(staff_user)
    url = f"{STAFF}/orders/{order.number}/transitions"

    shipped = client.post(
        url,
        json={"to": "fulfilled", "carrier": "dhl", "tracking_number": "JD42", "note": "gift"},
        headers=headers,
    )
    delivered = client.post(url, json={"to": "delivered"}, headers=headers)
    again = client.post(url, json={"to": "delivered"}, headers=headers)

    assert [r.status_code for r in (shipped, delivered, again)] == [200, 200, 200]
    assert [r.get_json()["changed"] for r in (shipped, delivered, again)] == [True, True, False]
    assert again.get_json()["order"]["status"] == "delivered"
    assert statuses(order)[2:] == [("paid", "fulfilled"), ("fulfilled", "delivered")]
    events = queries.order_events(order)[2:]
    assert [(e.actor_user_id, e.note) for e in events] == [
        (staff_user.id, "shipped 2 items by DHL, tracking JD42: gift"),
        (staff_user.id, ""),
    ]
    [shipment] = shipped.get_json()["order"]["shipments"]
    assert (shipment["carrier"], shipment["tracking_number"]) == ("dhl", "JD42")


@pytest.mark.story("US-31")
def test_staff_record_a_bank_transfer(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)

    response = client.post(
        f"{STAFF}/orders/{order.number}/transitions",
        json={"to": "paid", "amount_received": _usd(2800), "note": "Barclays 77"},
        headers=bearer(staff_user),
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert (response.get_json()["changed"], response.get_json()["order"]["status"]) == (
        True,
        "paid",
    )
    assert payment_queries.get_payment(transfer.payment_id).status == PaymentStatus.SUCCEEDED


@pytest.mark.story("US-25", "US-30")
def test_staff_cancel_an_unpaid_order_with_a_reason_and_its_stock_returns(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    variant = stocked_variant(10)
    order = place([(variant, 3)])

    response = client.post(
        f"{STAFF}/orders/{order.number}/transitions",
        json={"to": "cancelled", "note": "fraud"},
        headers=bearer(staff_user),
    )

    assert response.status_code == 200
    assert response.get_json()["order"]["status"] == "cancelled"
    assert inventory_queries.order_net_quantities(order.number) == {variant.id: 0}


@pytest.mark.story("US-30", "US-44")
@pytest.mark.parametrize(
    ("make", "body", "status", "code", "field"),
    [
        ("pending", {"to": "delivered"}, 409, "invalid_order_transition", None),
        ("pending", {"to": "fulfilled"}, 409, "invalid_order_transition", None),
        ("pending", {"to": "paid"}, 409, "order_payment_missing", None),
        ("manual", {"to": "paid", "amount_received": _usd(100)}, 422, "manual_amount_mismatch",
         None),
        ("pending", {"to": "cancelled"}, 422, "invalid_order_input", "reason"),
        ("pending", {"to": "cancelled", "note": "x" * 501}, 422, "validation_failed", "note"),
        ("pending", {"to": "cancelled", "note": "a\u0000"}, 422, "validation_failed", "note"),
        ("paid", {"to": "refunded"}, 422, "validation_failed", "to"),
        ("paid", {}, 422, "validation_failed", "to"),
        ("paid", {"to": "fulfilled", "amount_received": _usd(1)}, 422, "invalid_order_input",
         "amount_received"),
    ],
)  # fmt: skip
def test_a_refused_transition_is_a_problem_and_changes_nothing(
    client: FlaskClient,
    bearer: Bearer,
    staff_user: User,
    make: str,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    order = place(gateway="manual" if make == "manual" else "test")
    if make == "manual":
        start_bank_transfer(order)
    if make == "paid":
        pay_by_card(order)
    before = orders_state()

    response = client.post(
        f"{STAFF}/orders/{order.number}/transitions", json=body, headers=bearer(staff_user)
    )

    fields = problem(response, status, code).get("fields", {})
    if field is not None:
        assert list(fields) == [field]
    assert orders_state() == before


@pytest.mark.story("US-28", "US-32")
def test_staff_cannot_cancel_a_paid_order_because_that_refunds_it(
    client: FlaskClient, bearer: Bearer, staff_user: User, admin_user: User
) -> None:
    order = _paid_order()
    before = orders_state()
    url = f"{STAFF}/orders/{order.number}/transitions"
    body = {"to": "cancelled", "note": "cannot ship"}

    refused = client.post(url, json=body, headers=bearer(staff_user))
    unchanged = orders_state()
    cancelled = client.post(url, json=body, headers=bearer(admin_user))

    problem(refused, 403, "permission_denied")
    assert unchanged == before
    assert cancelled.status_code == 200
    [payment] = payment_queries.payments_for(order.number)
    assert (payment.status, payment.refunded_minor) == (PaymentStatus.REFUNDED, 2800)
    assert queries.get_order(order.number).status == OrderStatus.CANCELLED


# --- refunds --------------------------------------------------------------------------------


@pytest.mark.story("US-32", "US-43")
def test_an_admin_refunds_part_then_the_rest_with_the_items_back_in_stock(
    client: FlaskClient, bearer: Bearer, admin_user: User
) -> None:
    # given a paid order for 2 units ($28.00 in all: the line's share of the tax is $2.40)
    variant = stocked_variant(10)
    order = _paid_order(lines=[(variant, 2)])
    [line] = queries.order_lines(order)
    headers = bearer(admin_user)
    url = f"{STAFF}/orders/{order.number}/refunds"

    # when an admin refunds one unit back to stock, then the other with the shipping
    partial = client.post(
        url,
        json={
            "lines": [{"order_line_id": line.id, "quantity": 1, "restock": True}],
            "reason": "late",
        },
        headers={**headers, "Idempotency-Key": "refund-1"},
    )
    rest = client.post(
        url,
        json={
            "lines": [{"order_line_id": line.id, "quantity": 1, "restock": True}],
            "shipping": True,
        },
        headers={**headers, "Idempotency-Key": "refund-2"},
    )

    # then each answers what it refunded, line by line, and the order
    assert (partial.status_code, rest.status_code) == (201, 201)
    refunded_line = {
        "order_line_id": line.id,
        "sku": line.sku,
        "product_title": line.product_title,
        "variant_label": line.variant_label,
        "quantity": 1,
        "amount": _usd(1120),
        "restocked": True,
    }
    first = partial.get_json()
    assert first["refund"] == {
        "id": first["order"]["refunds"][0]["id"],
        "amount": _usd(1120),
        "refunded_total": _usd(1120),
        "is_full": False,
        "stock_returned": True,
        "shipping": _usd(0),
        "lines": [refunded_line],
    }
    assert (first["order"]["status"], first["order"]["refundable"]) == ("paid", _usd(1680))
    assert first["order"]["lines"][0]["refunded_quantity"] == 1
    assert rest.get_json()["refund"] == {
        "id": rest.get_json()["order"]["refunds"][1]["id"],
        "amount": _usd(1680),
        "refunded_total": _usd(2800),
        "is_full": True,
        "stock_returned": True,
        "shipping": _usd(560),
        "lines": [{**refunded_line, "amount": _usd(1120)}],
    }
    assert rest.get_json()["order"]["status"] == "refunded"
    assert rest.get_json()["order"]["actions"] == []
    assert [r["amount"] for r in rest.get_json()["order"]["refunds"]] == [_usd(1120), _usd(1680)]
    # and the database agrees: money, status, history, stock
    payment = payment_queries.live_payment_for(order.number)
    assert (payment.status, payment.refunded_minor) == (PaymentStatus.REFUNDED, 2800)
    assert statuses(order)[2:] == [("paid", "paid"), ("paid", "refunded")]
    assert [e.actor_user_id for e in queries.order_events(order)[2:]] == [admin_user.id] * 2
    assert inventory_queries.order_net_quantities(order.number) == {variant.id: 0}
    assert inventory_queries.ledger_discrepancies() == []


@pytest.mark.story("US-32", "US-43")
def test_an_amount_refund_puts_nothing_back_in_stock(
    client: FlaskClient, bearer: Bearer, admin_user: User
) -> None:
    variant = stocked_variant(10)
    order = _paid_order(lines=[(variant, 2)])

    response = client.post(
        f"{STAFF}/orders/{order.number}/refunds",
        json={"amount": _usd(800)},
        headers={**bearer(admin_user), "Idempotency-Key": "refund-amount"},
    )

    assert response.status_code == 201
    refund = response.get_json()["refund"]
    assert (refund["amount"], refund["stock_returned"], refund["lines"]) == (_usd(800), False, [])
    assert inventory_queries.order_net_quantities(order.number) == {variant.id: 2}


@pytest.mark.story("US-32", "US-43")
def test_a_retried_refund_is_made_once(
    client: FlaskClient, bearer: Bearer, admin_user: User
) -> None:
    order = _paid_order()
    headers = {**bearer(admin_user), "Idempotency-Key": "retry-me"}
    url = f"{STAFF}/orders/{order.number}/refunds"
    body = {"amount": _usd(500), "reason": "late"}

    first = client.post(url, json=body, headers=headers)
    retry = client.post(url, json=body, headers=headers)
    other_body = client.post(url, json={**body, "amount": _usd(600)}, headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    problem(other_body, 422, "idempotency_key_reused")
    assert payment_queries.live_payment_for(order.number).refunded_minor == 500
    assert statuses(order)[2:] == [("paid", "paid")]
    # stored for good: sha256("retry-me")'s first 40 hex digits, per staff member
    assert refund_keys(order) == [
        f"staff-api-refund-{admin_user.id}-29a93ef45314fcad56e8532df3a5bfb240a756be"
    ]


@pytest.mark.story("US-32", "US-44")
@pytest.mark.parametrize(
    ("make", "body", "key", "status", "code", "field"),
    [
        ("paid", {"amount": _usd(2801)}, "k1", 422, "refund_exceeds_payment", None),
        ("paid", {"amount": _usd(0)}, "k1", 422, "invalid_order_input", "amount"),
        ("paid", {"amount": {"amount": 100, "currency": "EUR"}}, "k1", 422,
         "invalid_order_input", "amount"),
        ("paid", {"amount": {"amount": -1, "currency": "USD"}}, "k1", 422, "validation_failed",
         "amount.amount"),
        ("paid", {"reason": "x" * 501}, "k1", 422, "validation_failed", "reason"),
        ("paid", {"amount": _usd(100)}, None, 422, "validation_failed", "Idempotency-Key"),
        ("paid", {"amount": _usd(100)}, "é", 422, "validation_failed", "Idempotency-Key"),
        ("pending", {}, "k1", 409, "invalid_order_transition", None),
        ("cancelled", {}, "k1", 409, "invalid_order_transition", None),
        ("paid", {"lines": [{"order_line_id": "LINE", "quantity": 3}]}, "k1", 422,
         "refund_exceeds_order", "lines.LINE"),
        ("paid", {"lines": [{"order_line_id": "LINE", "quantity": 1}], "amount": _usd(100)},
         "k1", 422, "invalid_order_input", "amount"),
        ("paid", {"lines": [{"order_line_id": 999999, "quantity": 1}]}, "k1", 422,
         "invalid_order_input", "lines.999999"),
        ("paid", {"lines": [{"order_line_id": "LINE", "quantity": 0}]}, "k1", 422,
         "validation_failed", "lines.0.quantity"),
        ("paid", {"return_items": True}, "k1", 422, "validation_failed", "return_items"),
    ],
)  # fmt: skip
def test_a_refused_refund_is_a_problem_and_refunds_nothing(
    client: FlaskClient,
    bearer: Bearer,
    admin_user: User,
    make: str,
    body: dict[str, Any],
    key: str | None,
    status: int,
    code: str,
    field: str | None,
) -> None:
    order = place()
    if make == "paid":
        pay_by_card(order)
    if make == "cancelled":
        from funnel.orders import services

        services.cancel_order(order.number, reason="gone", actor_user_id=admin_user.id)
    before = orders_state()
    headers = bearer(admin_user)
    if key is not None:
        headers["Idempotency-Key"] = key
    [line] = queries.order_lines(order)
    # the parameters are shared by every database's run: name the line in a copy
    body = {
        **body,
        "lines": [
            {
                **item,
                "order_line_id": line.id
                if item["order_line_id"] == "LINE"
                else item["order_line_id"],
            }
            for item in body.get("lines", [])
        ],
    }

    response = client.post(f"{STAFF}/orders/{order.number}/refunds", json=body, headers=headers)

    fields = problem(response, status, code).get("fields", {})
    if field is not None:
        assert list(fields) == [field.replace("LINE", str(line.id))]
    assert orders_state() == before


@pytest.mark.story("US-32")
def test_refunding_an_unknown_order_is_404(
    client: FlaskClient, bearer: Bearer, admin_user: User
) -> None:
    response = client.post(
        f"{STAFF}/orders/FN-NOSUCH1/refunds",
        json={},
        headers={**bearer(admin_user), "Idempotency-Key": "k-404"},
    )

    problem(response, 404, "order_not_found")


@pytest.mark.story("US-32", "US-44")
@pytest.mark.parametrize("body", [{}, {"amount": _usd(100)}])
def test_refunding_a_fully_refunded_order_is_nothing_left_to_refund(
    client: FlaskClient, bearer: Bearer, admin_user: User, body: dict[str, Any]
) -> None:
    order = _paid_order()
    headers = bearer(admin_user)
    url = f"{STAFF}/orders/{order.number}/refunds"
    full = client.post(url, json={}, headers={**headers, "Idempotency-Key": "all-of-it"})
    assert full.status_code == 201, full.get_data(as_text=True)
    before = orders_state()

    again = client.post(url, json=body, headers={**headers, "Idempotency-Key": "more-please"})

    problem(again, 409, "nothing_left_to_refund")
    assert orders_state() == before
    assert payment_queries.live_payment_for(order.number).refunded_minor == 2800

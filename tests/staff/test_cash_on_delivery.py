"""Cash on delivery on the staff dashboard and the staff API: ship unpaid, deliver and record
the cash, who may, and what a refused step leaves."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.orders import queries, services
from funnel.orders.models import OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments.models import PaymentStatus
from tests.factories.orders import cash_on_delivery_order, place
from tests.orders.helpers import statuses
from tests.support.api import problem
from tests.support.api_staff import ROLES, STAFF, Bearer, headers_for, orders_state

pytestmark = pytest.mark.config(PAYMENT_GATEWAYS="test,manual,cod")


def _payment_status(number: str) -> PaymentStatus:
    return payment_queries.live_payment_for(number).status


@pytest.mark.story("US-22", "US-30")
def test_staff_ship_a_cash_order_then_mark_it_delivered_and_paid(
    staff_user: User, signed_in
) -> None:
    order = cash_on_delivery_order()
    browser = signed_in(staff_user)
    page = browser.get(f"/staff/orders/{order.number}").text
    assert 'id="cash-on-delivery-note"' in page
    assert f'action="/staff/orders/{order.number}/shipments"' in page
    assert f'action="/staff/orders/{order.number}/payment-received"' not in page

    (line,) = queries.order_lines(order)
    shipped = browser.post(
        f"/staff/orders/{order.number}/shipments",
        data={
            "idempotency_key": "c" * 24,
            f"quantity-{line.id}": str(line.quantity),
            "carrier": "dhl",
            "tracking_number": "9",
        },
    )
    shipped_page = browser.get(f"/staff/orders/{order.number}").text
    delivered = browser.post(
        f"/staff/orders/{order.number}/deliver", data={"amount_received": "28.00"}
    )

    assert (shipped.status_code, delivered.status_code) == (303, 303)
    assert "Mark delivered and paid" in shipped_page
    assert 'name="amount_received"' in shipped_page
    assert (
        "The order is marked delivered and the cash received: it is paid."
        in browser.get(delivered.headers["Location"]).text
    )
    assert statuses(order)[1:] == [("pending_payment", "fulfilled"), ("fulfilled", "delivered")]
    assert _payment_status(order.number) == PaymentStatus.SUCCEEDED


@pytest.mark.story("US-22", "US-44")
@pytest.mark.parametrize(
    ("amount", "message"), [("27.99", "$27.99 received, $28.00 due."), ("abc", "not an amount")]
)
def test_wrong_cash_on_delivery_is_a_422_page_and_changes_nothing(
    staff_user: User, signed_in, amount: str, message: str
) -> None:
    order = cash_on_delivery_order()
    browser = signed_in(staff_user)
    browser.post(f"/staff/orders/{order.number}/fulfil", data={"carrier": "dhl"})

    response = browser.post(
        f"/staff/orders/{order.number}/deliver", data={"amount_received": amount}
    )

    assert response.status_code == 422
    assert message in response.text
    assert queries.get_order(order.number).status == OrderStatus.FULFILLED
    assert _payment_status(order.number) == PaymentStatus.PENDING


@pytest.mark.story("US-22", "US-30")
def test_a_card_order_awaiting_payment_cannot_be_shipped_from_the_page(
    staff_user: User, signed_in
) -> None:
    order = place()
    browser = signed_in(staff_user)

    assert (
        f"/staff/orders/{order.number}/fulfil"
        not in browser.get(f"/staff/orders/{order.number}").text
    )
    response = browser.post(f"/staff/orders/{order.number}/fulfil")

    assert response.status_code == 409
    assert f"Order {order.number} is awaiting payment: it cannot be shipped." in response.text
    assert statuses(order) == [(None, "pending_payment")]


@pytest.mark.story("US-22", "US-30")
def test_visitors_and_customers_cannot_ship_or_deliver_a_cash_order(
    client: FlaskClient, customer: User, signed_in
) -> None:
    order = cash_on_delivery_order(email=customer.email, user_id=customer.id)
    browser = signed_in(customer)

    for action in ("fulfil", "deliver"):
        path = f"/staff/orders/{order.number}/{action}"
        assert client.post(path, data={"amount_received": "28.00"}).status_code == 302
        assert browser.post(path, data={"amount_received": "28.00"}).status_code == 403

    assert statuses(order) == [(None, "pending_payment")]
    assert _payment_status(order.number) == PaymentStatus.PENDING


@pytest.mark.story("US-22", "US-28")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", ["fulfilled", "delivered"])
def test_cash_order_transitions_need_the_fulfil_permission(
    client: FlaskClient, bearer: Bearer, staff_user: User, role: str, step: str
) -> None:
    # given a cash order (shipped already when the step is the delivery)
    order = cash_on_delivery_order()
    if step == "delivered":
        services.fulfil_order(order.number, actor_user_id=staff_user.id)
    before = orders_state()
    body = {
        "to": step,
        **({"amount_received": {"amount": 2800, "currency": "USD"}} if step == "delivered" else {}),
        **({"carrier": "dhl"} if step == "fulfilled" else {}),
    }

    response = client.post(
        f"{STAFF}/orders/{order.number}/transitions", json=body, headers=headers_for(role, bearer)
    )

    if role == "anonymous":
        problem(response, 401, "authentication_required")
    elif role == "customer":
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["order"]["status"] == step
    if role in {"anonymous", "customer"}:
        assert orders_state() == before
    paid = role in {"staff", "admin"} and step == "delivered"
    assert _payment_status(order.number) == (
        PaymentStatus.SUCCEEDED if paid else PaymentStatus.PENDING
    )


@pytest.mark.story("US-22", "US-30")
def test_the_api_refuses_a_wrong_cash_amount_and_shipping_an_unpaid_card_order(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    cash = cash_on_delivery_order()
    card = place()
    headers = bearer(staff_user)
    url = f"{STAFF}/orders/{{}}/transitions"
    client.post(
        url.format(cash.number), json={"to": "fulfilled", "carrier": "dhl"}, headers=headers
    )

    wrong = client.post(
        url.format(cash.number),
        json={"to": "delivered", "amount_received": {"amount": 100, "currency": "USD"}},
        headers=headers,
    )
    unpaid = client.post(url.format(card.number), json={"to": "fulfilled"}, headers=headers)

    problem(wrong, 422, "manual_amount_mismatch")
    problem(unpaid, 409, "invalid_order_transition")
    assert queries.get_order(cash.number).status == OrderStatus.FULFILLED
    assert _payment_status(cash.number) == PaymentStatus.PENDING
    assert statuses(card) == [(None, "pending_payment")]

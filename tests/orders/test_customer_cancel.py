"""A customer cancels their own order: the button, the confirmation, the POST, a guest through
their order link, and the API."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.inventory import queries as inventory_queries
from funnel.orders import queries, services
from funnel.orders.links import access_key
from funnel.orders.models import Order, OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments.models import PaymentStatus
from tests.factories.accounts import UserFactory
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place, start_bank_transfer
from tests.orders.helpers import statuses
from tests.support.api import problem
from tests.support.api_staff import Bearer
from tests.support.mailbox import Mailbox

pytestmark = pytest.mark.story("US-25")

BUTTON = 'id="cancel-order-button"'


def own_order(customer: User, **kwargs) -> Order:
    return place(email=customer.email, user_id=customer.id, **kwargs)


def ship(order: Order, staff: User) -> None:
    services.ship_items(order.number, carrier="dhl", tracking_number="JD1", actor_user_id=staff.id)


def test_a_paid_order_shows_the_button_and_cancelling_refunds_it_in_full(
    app: Flask, customer: User, signed_in, mailbox: Mailbox
) -> None:
    # given the customer's paid order of 3 units
    variant = stocked_variant(10)
    order = own_order(customer, lines=[(variant, 3)])
    payment = pay_by_card(order)
    browser = signed_in(customer)
    page = f"/account/orders/{order.number}"
    assert BUTTON in browser.get(page).text
    mailbox.clear()

    # when they open the confirmation and confirm
    confirm = browser.get(f"{page}/cancel")
    response = browser.post(f"{page}/cancel", data={"reason": "found it cheaper"})

    # then the order is cancelled, refunded in full, its stock back, and they are emailed
    assert confirm.status_code == 200
    assert "Yes, cancel my order" in confirm.text
    assert (response.status_code, response.headers["Location"]) == (303, page)
    assert "Your order is cancelled." in browser.get(page).text
    assert queries.get_order(order.number).status == OrderStatus.CANCELLED
    refunded = payment_queries.get_payment(payment.payment_id)
    assert (refunded.status, refunded.refunded_minor) == (PaymentStatus.REFUNDED, 2800 + 1000)
    assert inventory_queries.order_net_quantities(order.number) == {variant.id: 0}
    assert [message["Subject"] for message in mailbox] == [f"Order {order.number} cancelled"]
    assert queries.order_events(order)[-1].note == "cancelled by the customer: found it cheaper"


def test_an_order_awaiting_payment_is_cancelled_and_its_transfer_voided(
    app: Flask, customer: User, signed_in
) -> None:
    order = own_order(customer, gateway="manual")
    transfer = start_bank_transfer(order)

    response = signed_in(customer).post(f"/account/orders/{order.number}/cancel")

    assert response.status_code == 303
    assert queries.get_order(order.number).status == OrderStatus.CANCELLED
    assert payment_queries.get_payment(transfer.payment_id).status == PaymentStatus.CANCELLED


def test_cancelling_twice_changes_nothing_and_says_so(
    app: Flask, customer: User, signed_in, mailbox: Mailbox
) -> None:
    order = own_order(customer)
    pay_by_card(order)
    browser = signed_in(customer)
    browser.post(f"/account/orders/{order.number}/cancel")
    before = statuses(order)
    mailbox.clear()

    again = browser.post(f"/account/orders/{order.number}/cancel")

    assert again.status_code == 303
    page = browser.get(again.headers["Location"]).text
    assert "This order was already cancelled: nothing changed." in page
    assert BUTTON not in page
    assert statuses(order) == before
    assert mailbox == []


def test_a_shipped_order_has_no_button_and_a_crafted_request_changes_nothing(
    app: Flask, customer: User, staff_user: User, signed_in, mailbox: Mailbox
) -> None:
    order = own_order(customer)
    pay_by_card(order)
    ship(order, staff_user)
    browser = signed_in(customer)
    before = statuses(order)
    mailbox.clear()

    page = browser.get(f"/account/orders/{order.number}").text
    confirm = browser.get(f"/account/orders/{order.number}/cancel")
    crafted = browser.post(f"/account/orders/{order.number}/cancel")

    assert BUTTON not in page
    assert confirm.status_code == 409
    assert crafted.status_code == 409
    assert "it cannot be cancelled" in crafted.text
    assert statuses(order) == before
    assert queries.get_order(order.number).status == OrderStatus.FULFILLED
    assert mailbox == []


def test_another_customer_gets_404_and_nothing_changes(
    app: Flask, customer: User, signed_in
) -> None:
    order = own_order(customer)
    pay_by_card(order)
    stranger = UserFactory(email="stranger@example.com")

    response = signed_in(stranger).post(f"/account/orders/{order.number}/cancel")

    assert response.status_code == 404
    assert queries.get_order(order.number).status == OrderStatus.PAID


def test_a_guest_cancels_through_their_order_link(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    order = place(email="guest@example.com")
    pay_by_card(order)
    link = f"/orders/{order.number}?key={access_key(order.number)}"
    cancel = f"/orders/{order.number}/cancel?key={access_key(order.number)}"
    assert BUTTON in client.get(link).text
    mailbox.clear()

    confirm = client.get(cancel)
    response = client.post(cancel)

    assert confirm.status_code == 200
    assert (response.status_code, response.headers["Location"]) == (303, link)
    assert queries.get_order(order.number).status == OrderStatus.CANCELLED
    assert [message["To"] for message in mailbox] == ["guest@example.com"]


def test_a_guest_link_with_a_wrong_key_cancels_nothing(app: Flask, client: FlaskClient) -> None:
    order = place(email="guest@example.com")
    pay_by_card(order)

    response = client.post(f"/orders/{order.number}/cancel?key=forged")

    assert response.status_code == 404
    assert queries.get_order(order.number).status == OrderStatus.PAID


# -- the API ----------------------------------------------------------------------------------


def test_the_owner_cancels_over_the_api_and_again_changes_nothing(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    order = own_order(customer)
    pay_by_card(order)
    path = f"/api/v1/orders/{order.number}/cancel"

    first = client.post(path, json={"reason": "mistake"}, headers=bearer(customer))
    again = client.post(path, json={}, headers=bearer(customer))

    assert first.status_code == 200, first.get_data(as_text=True)
    assert (first.get_json()["changed"], first.get_json()["order"]["status"]) == (
        True,
        "cancelled",
    )
    assert (again.status_code, again.get_json()["changed"]) == (200, False)
    assert len(statuses(order)) == 3


def test_the_api_body_is_optional_as_its_description_says(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    order = own_order(customer)
    pay_by_card(order)

    answer = client.post(f"/api/v1/orders/{order.number}/cancel", headers=bearer(customer))
    spec = client.get("/api/v1/openapi.json").get_json()

    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["order"]["status"] == "cancelled"
    body = spec["paths"]["/api/v1/orders/{number}/cancel"]["post"]["requestBody"]
    assert body.get("required", False) is False


def test_the_api_refuses_a_shipped_order_and_someone_else_s(
    client: FlaskClient, customer: User, staff_user: User, bearer: Bearer
) -> None:
    shipped = own_order(customer)
    pay_by_card(shipped)
    ship(shipped, staff_user)
    theirs = own_order(customer)
    pay_by_card(theirs)
    stranger = UserFactory(email="stranger@example.com")

    refused = client.post(
        f"/api/v1/orders/{shipped.number}/cancel", json={}, headers=bearer(customer)
    )
    hidden = client.post(
        f"/api/v1/orders/{theirs.number}/cancel", json={}, headers=bearer(stranger)
    )
    anonymous = client.post(f"/api/v1/orders/{theirs.number}/cancel", json={})

    problem(refused, 409, "invalid_order_transition")
    assert (hidden.status_code, anonymous.status_code) == (404, 401)
    assert queries.get_order(shipped.number).status == OrderStatus.FULFILLED
    assert queries.get_order(theirs.number).status == OrderStatus.PAID

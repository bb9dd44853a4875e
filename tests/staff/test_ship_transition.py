"""Marking an order shipped in one step (the staff API's `fulfilled` transition and the page's
"shipped" action) records the carrier and tracking number and emails the customer."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.orders import queries
from funnel.orders.models import OrderStatus
from tests.factories.orders import pay_by_card, place
from tests.orders.helpers import statuses
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer
from tests.support.mailbox import Mailbox

pytestmark = pytest.mark.story("US-30", "US-24")


def test_the_shipped_transition_records_the_carrier_and_emails_the_tracking_link(
    client: FlaskClient, bearer: Bearer, staff_user: User, mailbox: Mailbox
) -> None:
    order = place()
    pay_by_card(order)
    mailbox.clear()

    response = client.post(
        f"{STAFF}/orders/{order.number}/transitions",
        json={"to": "fulfilled", "carrier": "dhl", "tracking_number": "JD0042"},
        headers=bearer(staff_user),
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    [shipment] = queries.order_shipments(queries.get_order(order.number))
    assert (shipment.carrier, shipment.tracking_number) == ("dhl", "JD0042")
    [email] = list(mailbox)
    assert email["Subject"].startswith(f"Order {order.number}")
    assert "JD0042" in email.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    "body",
    [
        {"to": "fulfilled"},
        {"to": "fulfilled", "note": "DHL 42"},
        {"to": "fulfilled", "carrier": "pigeon"},
        {"to": "fulfilled", "carrier": "other"},
    ],
)
def test_shipping_without_a_known_carrier_is_refused_and_changes_nothing(
    client: FlaskClient, bearer: Bearer, staff_user: User, mailbox: Mailbox, body: dict
) -> None:
    order = place()
    pay_by_card(order)
    before = statuses(order)
    mailbox.clear()

    response = client.post(
        f"{STAFF}/orders/{order.number}/transitions", json=body, headers=bearer(staff_user)
    )

    problem(response, 422, "invalid_order_input")
    assert statuses(order) == before
    assert queries.get_order(order.number).status == OrderStatus.PAID
    assert mailbox == []


def test_the_page_step_needs_a_carrier_too(staff_user: User, signed_in, mailbox: Mailbox) -> None:
    order = place()
    pay_by_card(order)
    browser = signed_in(staff_user)
    mailbox.clear()

    refused = browser.post(f"/staff/orders/{order.number}/fulfil", data={"note": "DHL 42"})
    shipped = browser.post(
        f"/staff/orders/{order.number}/fulfil",
        data={"carrier": "ups", "tracking_number": "1Z999"},
    )

    assert (refused.status_code, shipped.status_code) == (422, 303)
    assert "Choose one of:" in refused.text
    [shipment] = queries.order_shipments(queries.get_order(order.number))
    assert (shipment.carrier, shipment.tracking_number) == ("ups", "1Z999")
    assert len(list(mailbox)) == 1

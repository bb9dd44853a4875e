"""US-71: card payments captured at checkout or at fulfilment (a shop setting). With
``at_fulfilment`` checkout only authorises the card (the order is placed and paid, the bank
holds the sum); the order's first shipment captures the whole sum once, under the payment's own
key; a capture the gateway refuses, or cannot answer, ships nothing; a cancelled order's hold
is released. The checkout runs with the stripe gateway against the local stand-in for Stripe."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.accounts.permissions import ROLE_PERMISSIONS, Permission, settings_editor
from funnel.core import clock
from funnel.extensions import db
from funnel.orders import figures, queries
from funnel.orders.models import Order, OrderStatus, Shipment
from funnel.payments.models import Payment, PaymentStatus, PaymentTransaction
from funnel.settings import services as settings_services
from funnel.settings.values import CARD_CAPTURE
from tests.checkout.helpers import go_to_pay, pay
from tests.checkout.test_api_stripe import completed_with_stripe
from tests.factories.accounts import UserFactory
from tests.settings.helpers import history, save, stored
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer
from tests.support.staff_pages import field_error
from tests.support.stripe_standin import StripeStandIn, signed, stripe_enabled

pytestmark = pytest.mark.story("US-71")

FORM_TOKEN = "capture-form-token-0001"


@pytest.fixture
def standin(app: Flask) -> Iterator[StripeStandIn]:
    with stripe_enabled(app) as running:
        yield running


@pytest.fixture
def at_fulfilment(admin_user: User) -> None:
    """The shop captures card payments at fulfilment (saved as an admin saves it)."""
    changed = settings_services.update_settings(
        settings_editor(admin_user), {CARD_CAPTURE: "at_fulfilment"}
    )
    assert changed == [CARD_CAPTURE]


def the_payment() -> Payment:
    db.session.commit()  # see what the requests committed
    return db.session.scalars(sa.select(Payment).order_by(Payment.id.desc())).first()


def the_order() -> Order:
    db.session.commit()
    return db.session.scalars(sa.select(Order)).one()


def shipments(order: Order) -> int:
    db.session.commit()
    return int(
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Shipment).where(Shipment.order_id == order.id)
        )
    )


def transactions(payment: Payment) -> list[str]:
    db.session.commit()
    kinds = db.session.scalars(
        sa.select(PaymentTransaction.kind)
        .where(PaymentTransaction.payment_id == payment.id)
        .order_by(PaymentTransaction.id)
    )
    return [kind.value for kind in kinds]


def capture_requests(standin: StripeStandIn) -> list[tuple[str | None, str | None]]:
    """(idempotency key, amount) of every capture the shop asked the stand-in for."""
    return [
        (request.idempotency_key, request.params.get("amount_to_capture"))
        for request in standin.posts("/v1/payment_intents/")
        if request.path.endswith("/capture")
    ]


def authorised_order(buyer: FlaskClient, standin: StripeStandIn) -> Order:
    """The guest checks out 2 mugs with stripe, the card is authorised at Stripe, and the
    customer comes back: the order is paid, its payment authorised."""
    response = pay(buyer, go_to_pay(buyer), card=None, gateway="stripe")
    assert response.status_code == 303
    payment = the_payment()
    standin.confirm(payment.gateway_payment_id)
    back = buyer.get(f"{urlsplit(payment.return_url).path}?redirect_status=succeeded")
    assert back.status_code == 303
    return the_order()


def ship_form(order: Order, units: int) -> dict[str, str]:
    [line] = queries.order_lines(order)
    return {
        "idempotency_key": f"{FORM_TOKEN}-{units}",
        f"quantity-{line.id}": str(units),
        "carrier": "dhl",
        "tracking_number": "JD0001",
    }


# -- the setting ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "customer", "staff_user", "admin_user"])
def test_who_may_change_when_cards_are_captured(
    who: str, client: FlaskClient, request: pytest.FixtureRequest, signed_in
) -> None:
    browser = client if who == "anonymous" else signed_in(request.getfixturevalue(who))

    response = save(browser, card_capture="at_fulfilment")

    expected = {"anonymous": 302, "customer": 403, "staff_user": 403, "admin_user": 303}[who]
    assert response.status_code == expected
    if who == "admin_user":
        assert stored() == {CARD_CAPTURE: '"at_fulfilment"'}
        assert [(key, before, after) for key, before, after, _ in history()] == [
            (CARD_CAPTURE, '"at_checkout"', '"at_fulfilment"')
        ]
        page = browser.get("/staff/settings").text
        assert '<option selected value="at_fulfilment">' in page
    else:
        assert (stored(), history()) == ({}, [])


def test_another_capture_choice_is_named_and_nothing_is_saved(admin_user: User, signed_in) -> None:
    response = save(signed_in(admin_user), card_capture="on_delivery")

    assert response.status_code == 422
    assert field_error(response.text, "card_capture") == (
        "At checkout, or authorised at checkout and captured at the first shipment."
    )
    assert (stored(), history()) == ({}, [])


# -- checkout ------------------------------------------------------------------------------


@pytest.mark.usefixtures("at_fulfilment")
def test_checkout_authorises_the_card_and_places_a_paid_order(
    buyer: FlaskClient, standin: StripeStandIn
) -> None:
    # given a shop that captures at fulfilment
    # when a customer pays by card
    order = authorised_order(buyer, standin)

    # then Stripe was asked for an intent to capture later; the order is paid, nothing taken
    [created] = standin.posts("/v1/payment_intents")[:1]
    assert created.params["capture_method"] == "manual"
    payment = the_payment()
    assert (payment.capture_method, payment.status) == ("manual", PaymentStatus.AUTHORIZED)
    assert order.status == OrderStatus.PAID
    [intent] = standin.intents.values()
    assert (intent["status"], intent["amount_received"]) == ("requires_capture", 0)
    assert capture_requests(standin) == []


def test_by_default_checkout_captures_at_once(buyer: FlaskClient, standin: StripeStandIn) -> None:
    order = authorised_order(buyer, standin)

    [created] = standin.posts("/v1/payment_intents")[:1]
    assert created.params["capture_method"] == "automatic"
    assert (order.status, the_payment().status) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED)


@pytest.mark.usefixtures("at_fulfilment")
def test_the_headless_checkout_authorises_too(client: FlaskClient, standin: StripeStandIn) -> None:
    checkout, headers, _ = completed_with_stripe(client)
    [intent] = standin.intents.values()
    standin.confirm(intent["id"])

    confirmed = client.post(
        f"/api/v1/checkouts/{checkout['id']}/payment-confirmation", headers=headers
    )

    body = confirmed.get_json()
    assert (confirmed.status_code, body["outcome"], body["order"]["status"]) == (
        200,
        "paid",
        "paid",
    )
    assert body["order"]["payment"]["status"] == "authorized"
    assert intent["capture_method"] == "manual"


@pytest.mark.usefixtures("at_fulfilment")
def test_bank_transfer_is_not_affected(buyer: FlaskClient, standin: StripeStandIn) -> None:
    response = pay(buyer, go_to_pay(buyer), card=None, gateway="manual")

    assert response.status_code == 303
    payment = the_payment()
    assert (payment.gateway, payment.capture_method) == ("manual", "automatic")
    assert standin.posts() == []


@pytest.mark.usefixtures("at_fulfilment")
def test_stripes_authorised_event_pays_the_order(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn
) -> None:
    # given a customer whose card Stripe authorised, and who never came back to the shop
    pay(buyer, go_to_pay(buyer), card=None, gateway="stripe")
    payment = the_payment()
    standin.confirm(payment.gateway_payment_id)
    body = standin.event("payment_intent.amount_capturable_updated", payment.gateway_payment_id)

    # when Stripe's event arrives, twice
    first = client.post("/webhooks/stripe", data=body.encode(), headers=signed(body))
    again = client.post("/webhooks/stripe", data=body.encode(), headers=signed(body))

    # then the order is paid once, its payment authorised
    assert (first.status_code, first.get_data(as_text=True)) == (200, "authorized")
    assert again.status_code == 200
    assert the_order().status == OrderStatus.PAID
    assert the_payment().status == PaymentStatus.AUTHORIZED


# -- capture at the first shipment ---------------------------------------------------------


@pytest.mark.usefixtures("at_fulfilment")
def test_the_first_shipment_captures_the_whole_sum_once(
    buyer: FlaskClient, standin: StripeStandIn, staff_user: User, signed_in
) -> None:
    # given an authorised order of 2 mugs
    order = authorised_order(buyer, standin)
    payment = the_payment()
    staff = signed_in(staff_user)
    url = f"/staff/orders/{order.number}/shipments"

    # when staff ship one mug, send the same form again, then ship the other
    first = staff.post(url, data=ship_form(order, 1))
    resent = staff.post(url, data=ship_form(order, 1))
    rest = staff.post(url, data={**ship_form(order, 1), "idempotency_key": FORM_TOKEN + "-b"})

    # then the first shipment captured the whole sum, once, under the payment's own key
    assert (first.status_code, resent.status_code, rest.status_code) == (303, 303, 303)
    assert capture_requests(standin) == [
        (f"{payment.idempotency_key}:capture", str(payment.amount_minor))
    ]
    assert the_payment().status == PaymentStatus.SUCCEEDED
    assert transactions(payment) == ["charge", "capture"]
    assert shipments(order) == 2
    assert the_order().status == OrderStatus.FULFILLED
    [intent] = standin.intents.values()
    assert (intent["status"], intent["amount_received"]) == ("succeeded", payment.amount_minor)


@pytest.mark.usefixtures("at_fulfilment")
def test_the_staff_api_ship_captures_once(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, staff_user: User,
    bearer: Bearer,
) -> None:  # fmt: skip
    order = authorised_order(buyer, standin)
    payment = the_payment()
    headers = bearer(staff_user)
    url = f"{STAFF}/orders/{order.number}/shipments"
    [line] = queries.order_lines(order)
    body = {"lines": [{"order_line_id": line.id, "quantity": 1}], "carrier": "ups"}

    partial = client.post(url, json=body, headers={**headers, "Idempotency-Key": "cap-a"})
    rest = client.post(url, json={"carrier": "ups"}, headers={**headers, "Idempotency-Key": "b"})

    assert (partial.status_code, rest.status_code) == (201, 201)
    assert partial.get_json()["order"]["payment"]["status"] == "succeeded"
    assert capture_requests(standin) == [
        (f"{payment.idempotency_key}:capture", str(payment.amount_minor))
    ]
    assert transactions(payment) == ["charge", "capture"]


@pytest.mark.parametrize("role", ["anonymous", "customer", "staff_without_fulfil", "admin"])
@pytest.mark.usefixtures("at_fulfilment")
def test_only_staff_who_may_ship_capture(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, bearer: Bearer,
    monkeypatch: pytest.MonkeyPatch, role: str,
) -> None:  # fmt: skip
    order = authorised_order(buyer, standin)
    headers = {"Idempotency-Key": f"ship-as-{role}"}
    if role == "staff_without_fulfil":
        monkeypatch.setitem(
            ROLE_PERMISSIONS, Role.STAFF, ROLE_PERMISSIONS[Role.STAFF] - {Permission.ORDERS_FULFIL}
        )
    if role != "anonymous":
        who = Role.STAFF if role == "staff_without_fulfil" else Role(role)
        headers |= bearer(UserFactory(email=f"{role}-capture@example.com", role=who))

    response = client.post(
        f"{STAFF}/orders/{order.number}/shipments", json={"carrier": "ups"}, headers=headers
    )

    expected = {"anonymous": 401, "customer": 403, "staff_without_fulfil": 403, "admin": 201}
    assert response.status_code == expected[role], response.get_data(as_text=True)
    captured = 1 if role == "admin" else 0
    assert (len(capture_requests(standin)), shipments(order)) == (captured, captured)
    status = PaymentStatus.SUCCEEDED if role == "admin" else PaymentStatus.AUTHORIZED
    assert the_payment().status == status


@pytest.mark.usefixtures("at_fulfilment")
def test_the_fulfilled_transition_captures_too(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, staff_user: User,
    bearer: Bearer,
) -> None:  # fmt: skip
    order = authorised_order(buyer, standin)
    payment = the_payment()

    response = client.post(
        f"{STAFF}/orders/{order.number}/transitions",
        json={"to": "fulfilled", "carrier": "dhl", "tracking_number": "JD0002"},
        headers={**bearer(staff_user), "Idempotency-Key": "fulfil-authorised"},
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert the_order().status == OrderStatus.FULFILLED
    assert capture_requests(standin) == [
        (f"{payment.idempotency_key}:capture", str(payment.amount_minor))
    ]
    assert the_payment().status == PaymentStatus.SUCCEEDED


def _expire_authorisation(standin: StripeStandIn) -> None:
    [intent] = standin.intents.values()
    intent["status"] = "canceled"  # Stripe cancels an authorisation it held too long


FAILURES = {
    "declined": lambda standin: standin.fail_next("card_declined"),
    "expired": _expire_authorisation,
    "gateway_down": lambda standin: standin.fail_next("server_error"),
}


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.usefixtures("at_fulfilment")
def test_a_capture_that_fails_ships_nothing_from_the_page(
    buyer: FlaskClient, standin: StripeStandIn, staff_user: User, signed_in, failure: str
) -> None:
    # given an authorised order, and a capture that will fail
    order = authorised_order(buyer, standin)
    FAILURES[failure](standin)

    # when staff ship it from the order page
    response = signed_in(staff_user).post(
        f"/staff/orders/{order.number}/shipments", data=ship_form(order, 2)
    )

    # then they are told why, and nothing is shipped or captured
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    expected = "did not answer" if failure == "gateway_down" else "could not be captured"
    assert expected in page
    assert "nothing was shipped" in page
    assert shipments(order) == 0
    assert the_order().status == OrderStatus.PAID
    payment = the_payment()
    assert (payment.status, transactions(payment)) == (PaymentStatus.AUTHORIZED, ["charge"])


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.usefixtures("at_fulfilment")
def test_a_capture_that_fails_ships_nothing_through_the_api(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, staff_user: User,
    bearer: Bearer, failure: str,
) -> None:  # fmt: skip
    order = authorised_order(buyer, standin)
    FAILURES[failure](standin)

    response = client.post(
        f"{STAFF}/orders/{order.number}/shipments",
        json={"carrier": "ups"},
        headers={**bearer(staff_user), "Idempotency-Key": "refused-capture"},
    )

    body = problem(response, 409, "order_payment_not_captured")
    assert "nothing was shipped" in body["detail"]
    assert shipments(order) == 0
    assert the_payment().status == PaymentStatus.AUTHORIZED


@pytest.mark.usefixtures("at_fulfilment")
def test_a_retry_under_the_same_key_ships_once_the_gateway_answers(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, staff_user: User,
    bearer: Bearer,
) -> None:  # fmt: skip
    # given a shipment refused because the gateway was down (a 409 is not stored for its key)
    order = authorised_order(buyer, standin)
    standin.fail_next("server_error")
    headers = {**bearer(staff_user), "Idempotency-Key": "retry-capture"}
    url = f"{STAFF}/orders/{order.number}/shipments"
    refused = client.post(url, json={"carrier": "ups"}, headers=headers)

    # when staff send it again with the same key, the gateway back
    shipped = client.post(url, json={"carrier": "ups"}, headers=headers)

    # then it ships, captured once
    assert (refused.status_code, shipped.status_code) == (409, 201)
    assert shipments(order) == 1
    payment = the_payment()
    assert (payment.status, transactions(payment)) == (
        PaymentStatus.SUCCEEDED,
        ["charge", "capture"],
    )
    assert len(capture_requests(standin)) == 2  # the one that failed, then the one that took


@pytest.mark.usefixtures("at_fulfilment")
def test_a_refused_shipment_takes_no_money(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, staff_user: User,
    bearer: Bearer,
) -> None:  # fmt: skip
    order = authorised_order(buyer, standin)
    [line] = queries.order_lines(order)

    response = client.post(
        f"{STAFF}/orders/{order.number}/shipments",
        json={"carrier": "ups", "lines": [{"order_line_id": line.id, "quantity": 3}]},
        headers={**bearer(staff_user), "Idempotency-Key": "too-many"},
    )

    problem(response, 422, "shipment_exceeds_order")
    assert capture_requests(standin) == []
    assert the_payment().status == PaymentStatus.AUTHORIZED


# -- cancelling ----------------------------------------------------------------------------


@pytest.mark.usefixtures("at_fulfilment")
def test_cancelling_an_authorised_order_releases_the_hold(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, admin_user: User,
    bearer: Bearer,
) -> None:  # fmt: skip
    # given an authorised, paid order, counted as a sale
    start = clock.utcnow() - timedelta(minutes=1)
    order = authorised_order(buyer, standin)
    payment = the_payment()

    # when staff cancel it
    response = client.post(
        f"{STAFF}/orders/{order.number}/transitions",
        json={"to": "cancelled", "note": "out of stock"},
        headers={**bearer(admin_user), "Idempotency-Key": "cancel-authorised"},
    )

    # then the payment is voided at Stripe (not refunded), and the sale's sum comes back off
    assert response.status_code == 200, response.get_data(as_text=True)
    assert the_order().status == OrderStatus.CANCELLED
    assert the_payment().status == PaymentStatus.CANCELLED
    assert transactions(payment) == ["charge", "void"]
    [intent] = standin.intents.values()
    assert intent["status"] == "canceled"
    assert capture_requests(standin) == []
    end = clock.utcnow() + timedelta(minutes=1)
    given_back = [
        (row.currency, row.amount_minor) for row in figures.refunds_per_bucket([start], end)
    ]
    assert given_back == [(payment.currency, payment.amount_minor)]

"""A cart is paid for once: one open checkout per cart (enforced by the database), and a
completion that was interrupted is finished by calling ``complete`` again, never charged twice.
Workers are "killed" in-process here; ``test_api_interrupted_payments.py`` kills real ones."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError

from funnel.catalog.models import Variant
from funnel.checkout.models import Checkout
from funnel.core import clock
from funnel.extensions import db
from funnel.orders.models import Order
from funnel.payments.gateways.test import sandbox
from funnel.payments.gateways.test.gateway import SandboxGateway
from funnel.payments.models import Payment
from funnel.payments.services import state
from tests.checkout.helpers import CARD_3DS
from tests.checkout.test_api import filled_guest_cart, start
from tests.factories.inventory import stocked_variant
from tests.support.api_carts import CHECKOUTS, card

pytestmark = pytest.mark.story("US-43")


class WorkerKilled(BaseException):
    """The process dies here: nothing after it runs (not an Exception: no handler sees it)."""


def die(*_arguments: Any, **_keywords: Any) -> None:
    raise WorkerKilled()


def rows() -> tuple[int, int, int, int]:
    """(checkouts, orders, payments, gateway charges)."""
    models = (Checkout, Order, Payment, sandbox.SandboxCharge)
    return tuple(  # type: ignore[return-value]
        db.session.scalar(sa.select(sa.func.count()).select_from(model)) for model in models
    )


def complete(client: FlaskClient, checkout_id: int, headers: dict[str, str], key: str) -> Any:
    return client.post(
        f"{CHECKOUTS}/{checkout_id}/complete",
        json={"payment_method": "test", "card": card()},
        headers=headers | {"Idempotency-Key": key},
    )


def test_the_database_holds_one_open_checkout_per_cart(client: FlaskClient) -> None:
    # given a cart with an open checkout
    variant = stocked_variant(stock=3)
    cart_id, headers = filled_guest_cart(client, variant)
    first = start(client, cart_id, headers)

    # when a second open checkout of that cart is written, by-passing the services
    second = Checkout(
        token="second-" + "x" * 40,
        cart_id=cart_id,
        open_cart_id=cart_id,
        expires_at=clock.utcnow(),
    )
    db.session.add(second)

    # then the database refuses it
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalars(sa.select(Checkout.id)).all() == [first["id"]]


def checkout_again(client: FlaskClient, cart_id: int, headers: dict[str, str]) -> Any:
    return client.post(
        CHECKOUTS,
        json={
            "cart_id": cart_id,
            "email": "ann@example.com",
            "shipping_address": {
                "full_name": "Ann Smith",
                "line1": "1 High Street",
                "city": "Bristol",
                "postal_code": "BS1 4DJ",
                "country_code": "GB",
            },
            "shipping_method": "standard",
        },
        headers=headers,
    )


def test_a_cart_whose_payment_answer_was_lost_is_checked_out_again_and_charged_once(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a checkout whose payment was sent and its answer lost (the card may be charged:
    # only the gateway can tell), and so no order yet
    variant = stocked_variant(stock=3)
    cart_id, headers = filled_guest_cart(client, variant)
    checkout = start(client, cart_id, headers)
    with monkeypatch.context() as patch:
        patch.setattr(state, "apply_outcome", die)
        with pytest.raises(WorkerKilled):
            complete(client, checkout["id"], headers, "lost-answer-0001")
    assert rows() == (1, 0, 1, 1)

    # when the same cart is checked out again and completed
    again = checkout_again(client, cart_id, headers)
    paid = complete(client, checkout["id"], headers, "lost-answer-0002")

    # then it goes on with the same checkout, whose payment is asked about, not made again:
    # one checkout, one order, one payment, one charge
    assert (again.status_code, again.get_json()["id"]) == (201, checkout["id"])
    assert (paid.status_code, paid.get_json()["outcome"]) == (200, "paid")
    assert rows() == (1, 1, 1, 1)


def test_a_cart_whose_3d_secure_step_was_left_unfinished_can_be_paid_with_another_card(
    client: FlaskClient,
) -> None:
    # given a checkout whose order waits for the customer's 3-D Secure step
    variant = stocked_variant(stock=3)
    cart_id, headers = filled_guest_cart(client, variant)
    checkout = start(client, cart_id, headers)
    waiting = client.post(
        f"{CHECKOUTS}/{checkout['id']}/complete",
        json={"payment_method": "test", "card": card(CARD_3DS)},
        headers=headers,
    )
    assert waiting.get_json()["outcome"] == "requires_action"
    first_number = waiting.get_json()["order"]["number"]

    # when the customer checks the same cart out again, and pays with another card
    again = checkout_again(client, cart_id, headers)
    paid = complete(client, again.get_json()["id"], headers, "other-card-0001")

    # then the same checkout is reopened, the unfinished attempt given up (voided at the
    # gateway, its order cancelled, its stock back), and the cart is paid once
    assert (again.status_code, again.get_json()["id"]) == (201, checkout["id"])
    assert (paid.status_code, paid.get_json()["outcome"]) == (200, "paid")
    orders = dict(db.session.execute(sa.select(Order.number, Order.status)).all())
    assert {number: status.value for number, status in orders.items()} == {
        first_number: "cancelled",
        paid.get_json()["order"]["number"]: "paid",
    }
    statuses = db.session.scalars(sa.select(Payment.status).order_by(Payment.id)).all()
    assert [status.value for status in statuses] == ["cancelled", "succeeded"]
    assert db.session.get(Variant, variant.id).stock_quantity == 2


def test_completing_again_after_the_charge_answer_was_lost_pays_the_order_once(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a completion whose worker died after the gateway charged the card
    variant = stocked_variant(stock=3)
    cart_id, headers = filled_guest_cart(client, variant)
    checkout = start(client, cart_id, headers)
    with monkeypatch.context() as patch:
        patch.setattr(state, "apply_outcome", die)
        with pytest.raises(WorkerKilled):
            complete(client, checkout["id"], headers, "first-attempt-0001")

    # when the client completes again with a new key, then with that key once more
    retried = complete(client, checkout["id"], headers, "second-attempt-0001")
    replayed = complete(client, checkout["id"], headers, "second-attempt-0001")

    # then the order is paid with the one charge the gateway made
    assert (retried.status_code, retried.get_json()["outcome"]) == (200, "paid")
    assert replayed.get_json() == retried.get_json()
    order = db.session.scalars(sa.select(Order)).one()
    assert order.status.value == "paid"
    assert rows() == (1, 1, 1, 1)
    assert db.session.get(Variant, variant.id).stock_quantity == 2


def test_completing_again_after_a_death_before_the_gateway_heard_sends_the_payment(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a completion whose worker died after recording its payment, before the gateway heard
    variant = stocked_variant(stock=3)
    cart_id, headers = filled_guest_cart(client, variant)
    checkout = start(client, cart_id, headers)
    with monkeypatch.context() as patch:
        patch.setattr(SandboxGateway, "create_payment", die)
        with pytest.raises(WorkerKilled):
            complete(client, checkout["id"], headers, "first-attempt-0002")
    assert rows() == (1, 0, 1, 0)

    # when the client completes again with a new key
    retried = complete(client, checkout["id"], headers, "second-attempt-0002")

    # then the payment is sent now, and the order paid once
    assert (retried.status_code, retried.get_json()["outcome"]) == (200, "paid")
    assert db.session.scalars(sa.select(Order.status)).one().value == "paid"
    assert rows() == (1, 1, 1, 1)

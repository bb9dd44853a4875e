"""An Idempotency-Key is claimed only once the caller is known and allowed: a call refused for
who is calling answers its 401/403/404 and writes nothing (not even a key it deletes again)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.core.idempotency import IdempotencyRecord
from funnel.extensions import db
from tests.checkout.test_api import filled_guest_cart, start
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place
from tests.support.api import problem
from tests.support.api_carts import ADDRESS, CARTS, CHECKOUTS, card, secret_header
from tests.support.api_staff import STAFF, orders_state

Bearer = Callable[..., dict[str, str]]
KEY = "0b6f3c2e-4a1d-4f0e-9c55-1e2d3c4b5a69"


def idempotency_rows() -> list[tuple[str, str, int | None]]:
    rows = db.session.execute(
        sa.select(
            IdempotencyRecord.scope, IdempotencyRecord.key, IdempotencyRecord.response_status
        ).order_by(IdempotencyRecord.id)
    )
    return [(row[0], row[1], row[2]) for row in rows]


def touching_keys(statements: list[str]) -> list[str]:
    return [statement for statement in statements if "idempotency_keys" in statement]


@pytest.mark.story("US-32", "US-44")
def test_a_customer_reusing_a_key_on_a_staff_refund_is_403_and_writes_nothing(
    client: FlaskClient, customer: User, bearer: Bearer, sql_statements: list[str]
) -> None:
    # given a customer who paid their checkout under a key, and a paid order
    headers = {**bearer(customer), "Idempotency-Key": KEY}
    variant = stocked_variant(3)
    cart_id = client.post(CARTS, headers=headers).get_json()["id"]
    line = {"variant_id": variant.id, "quantity": 1}
    client.post(f"{CARTS}/{cart_id}/lines", json=line, headers=headers)
    body = {"cart_id": cart_id, "shipping_address": ADDRESS, "shipping_method": "standard"}
    checkout = client.post(CHECKOUTS, json=body, headers=headers).get_json()
    paid = client.post(
        f"{CHECKOUTS}/{checkout['id']}/complete",
        json={"payment_method": "test", "card": card()},
        headers=headers,
    )
    assert paid.status_code == 200, paid.get_data(as_text=True)
    order = place()
    pay_by_card(order)
    keys_before, orders_before = idempotency_rows(), orders_state()
    assert [(key, status) for _scope, key, status in keys_before] == [(KEY, 200)]
    sql_statements.clear()

    # when the customer calls the staff refund with that key
    response = client.post(
        f"{STAFF}/orders/{order.number}/refunds", json={"reason": "mine"}, headers=headers
    )

    # then: 403, not the key's 422, and no key written or deleted
    problem(response, 403, "permission_denied")
    assert touching_keys(sql_statements) == []
    assert (idempotency_rows(), orders_state()) == (keys_before, orders_before)


@pytest.mark.story("US-32", "US-44")
def test_an_anonymous_staff_refund_with_a_key_is_401_and_writes_nothing(
    client: FlaskClient, sql_statements: list[str]
) -> None:
    order = place()
    pay_by_card(order)
    orders_before = orders_state()
    sql_statements.clear()

    response = client.post(
        f"{STAFF}/orders/{order.number}/refunds",
        json={"reason": "free money"},
        headers={"Idempotency-Key": KEY},
    )

    problem(response, 401, "authentication_required")
    assert touching_keys(sql_statements) == []
    assert (idempotency_rows(), orders_state()) == ([], orders_before)


@pytest.mark.story("US-43", "US-44")
@pytest.mark.parametrize(
    ("credentials", "status", "code"),
    [
        ({}, 401, "authentication_required"),
        (secret_header("not-the-secret"), 401, "cart_secret_invalid"),
        ({"Authorization": "Bearer fnl_unknown"}, 401, "token_invalid_or_expired"),
    ],
)
def test_completing_a_checkout_without_its_credentials_writes_no_key(
    client: FlaskClient,
    sql_statements: list[str],
    credentials: dict[str, str],
    status: int,
    code: str,
) -> None:
    variant = stocked_variant(3)
    cart_id, headers = filled_guest_cart(client, variant)
    checkout = start(client, cart_id, headers)
    sql_statements.clear()

    response = client.post(
        f"{CHECKOUTS}/{checkout['id']}/complete",
        json={"payment_method": "test", "card": card()},
        headers={**credentials, "Idempotency-Key": KEY},
    )

    problem(response, status, code)
    assert touching_keys(sql_statements) == []
    assert idempotency_rows() == []


@pytest.mark.story("US-43", "US-44")
def test_another_customers_checkout_is_404_and_writes_no_key(
    client: FlaskClient, customer: User, bearer: Bearer, sql_statements: list[str]
) -> None:
    variant = stocked_variant(3)
    cart_id, headers = filled_guest_cart(client, variant)
    checkout = start(client, cart_id, headers)
    sql_statements.clear()

    response = client.post(
        f"{CHECKOUTS}/{checkout['id']}/complete",
        json={"payment_method": "test", "card": card()},
        headers={**bearer(customer), "Idempotency-Key": KEY},
    )

    problem(response, 404, "checkout_not_found")
    assert touching_keys(sql_statements) == []
    assert idempotency_rows() == []

"""Staff API: a bank transfer received, perhaps in parts, with its day, recorded once."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.orders import queries
from funnel.orders.models import OrderStatus
from funnel.payments import queries as payment_queries
from tests.factories.orders import place, start_bank_transfer
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer

pytestmark = pytest.mark.story("US-31")


def _usd(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD"}


def test_staff_record_a_partial_payment_then_the_rest(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)
    path = f"{STAFF}/orders/{order.number}/transitions"

    partial = client.post(
        path,
        json={
            "to": "paid",
            "amount_received": _usd(1000),
            "received_on": "2026-01-05",
            "partial": True,
        },
        headers={**bearer(staff_user), "Idempotency-Key": "transfer-part-1"},
    )
    rest = client.post(
        path,
        json={"to": "paid", "received_on": "2026-01-07"},
        headers=bearer(staff_user),
    )

    assert partial.status_code == 200, partial.get_data(as_text=True)
    body = partial.get_json()
    assert (body["changed"], body["order"]["status"]) == (True, "pending_payment")
    assert (body["order"]["payment"]["paid_so_far"], body["order"]["payment"]["still_due"]) == (
        _usd(1000),
        _usd(1800),
    )
    assert rest.status_code == 200
    paid = rest.get_json()["order"]
    assert (paid["status"], paid["payment"]["paid_so_far"], paid["payment"]["still_due"]) == (
        "paid",
        _usd(2800),
        _usd(0),
    )
    assert paid["payments"][0]["received"] == _usd(2800)
    receipts = payment_queries.bank_transfer_receipts(transfer.payment_id)
    assert [(r.amount_minor, r.received_on.isoformat()) for r in receipts] == [
        (1000, "2026-01-05"),
        (1800, "2026-01-07"),
    ]


def test_a_retry_with_the_same_key_records_the_part_once(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)
    body = {"to": "paid", "amount_received": _usd(1000), "partial": True}
    headers = {**bearer(staff_user), "Idempotency-Key": "transfer-part-9"}
    path = f"{STAFF}/orders/{order.number}/transitions"

    first = client.post(path, json=body, headers=headers)
    again = client.post(path, json=body, headers=headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert payment_queries.get_payment(transfer.payment_id).received_minor == 1000


def test_a_partial_payment_without_a_key_is_refused(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)

    response = client.post(
        f"{STAFF}/orders/{order.number}/transitions",
        json={"to": "paid", "amount_received": _usd(1000), "partial": True},
        headers=bearer(staff_user),
    )

    assert list(problem(response, 422, "invalid_order_input")["fields"]) == ["partial"]
    assert payment_queries.get_payment(transfer.payment_id).received_minor == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"to": "paid", "amount_received": _usd(1000)}, "manual_amount_mismatch"),
        (
            {"to": "paid", "amount_received": _usd(2801), "partial": True},
            "manual_amount_above_due",
        ),
        ({"to": "paid", "received_on": "2999-01-01"}, "invalid_order_input"),
        ({"to": "fulfilled", "received_on": "2026-01-01"}, "invalid_order_input"),
    ],
)
def test_a_refused_payment_is_a_problem_and_changes_nothing(
    client: FlaskClient, bearer: Bearer, staff_user: User, body: dict[str, Any], code: str
) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)

    response = client.post(
        f"{STAFF}/orders/{order.number}/transitions",
        json=body,
        headers={**bearer(staff_user), "Idempotency-Key": f"refused-{code}"},
    )

    assert problem(response, 422, code)
    assert payment_queries.get_payment(transfer.payment_id).received_minor == 0
    assert queries.get_order(order.number).status == OrderStatus.PENDING_PAYMENT

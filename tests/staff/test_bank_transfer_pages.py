"""The staff order page's bank-transfer form and the order pages' paid so far and still due."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.accounts.models import User
from funnel.core import clock
from funnel.core.database import transaction
from funnel.extensions import db
from funnel.orders import queries, services
from funnel.orders.models import OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments.models import Payment
from tests.factories.orders import money, place, start_bank_transfer

pytestmark = pytest.mark.story("US-31")


def record(browser, number: str, **form: str):
    return browser.post(f"/staff/orders/{number}/payment-received", data=form)


def test_staff_record_a_partial_payment_then_the_rest(
    app: Flask, staff_user: User, signed_in
) -> None:
    # given a $28.00 order awaiting its transfer, and its page with the form
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)
    browser = signed_in(staff_user)
    page = browser.get(f"/staff/orders/{order.number}").text
    assert 'name="received_on"' in page
    assert 'name="is_partial"' in page

    # when staff record $10.00 as a partial payment, then the rest
    partial = record(
        browser,
        order.number,
        amount_received="10.00",
        received_on="2026-01-05",
        is_partial="yes",
        idempotency_key="token-1",
    )
    after_partial = browser.get(f"/staff/orders/{order.number}").text
    rest = record(browser, order.number, received_on="2026-01-07", idempotency_key="token-2")

    # then the first left it awaiting the rest, showing what is paid and due; the second paid it
    assert (partial.status_code, rest.status_code) == (303, 303)
    assert "Partial payment recorded: the order awaits the rest." in after_partial
    assert "Paid so far: $10.00 · Still due: $18.00" in after_partial
    assert "05 January 2026" in after_partial
    assert queries.get_order(order.number).status == OrderStatus.PAID
    assert payment_queries.get_payment(transfer.payment_id).received_minor == 2800


def test_the_customer_sees_paid_so_far_and_what_is_left_to_transfer(
    app: Flask, customer: User, staff_user: User, signed_in
) -> None:
    order = place(gateway="manual", email=customer.email, user_id=customer.id)
    start_bank_transfer(order)
    services.record_manual_payment(
        order.number, actor_user_id=staff_user.id, amount_received=money(1000), is_partial=True
    )

    page = signed_in(customer).get(f"/account/orders/{order.number}").text

    assert "Paid so far: $10.00 · Still due: $18.00" in page
    assert "Please pay $18.00 by bank transfer" in page


def test_a_double_submit_of_the_form_records_the_payment_once(
    app: Flask, staff_user: User, signed_in
) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)
    browser = signed_in(staff_user)
    form = {"amount_received": "10.00", "is_partial": "yes", "idempotency_key": "same-token"}

    first = record(browser, order.number, **form)
    second = record(browser, order.number, **form)

    assert (first.status_code, second.status_code) == (303, 303)
    assert "Already recorded: nothing changed." in browser.get(second.headers["Location"]).text
    assert payment_queries.get_payment(transfer.payment_id).received_minor == 1000


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"amount_received": "10.00"},
            "$10.00 received, $28.00 still due: confirm it as a partial payment",
        ),
        (
            {"amount_received": "28.01", "is_partial": "yes"},
            "$28.01 received is more than the $28.00 still due",
        ),
        ({"received_on": "2099-01-01"}, "The date received cannot be in the future."),
        ({"received_on": "yesterday"}, "Give a date, such as 2026-12-06."),
    ],
)
def test_a_refused_payment_shows_why_at_422_and_changes_nothing(
    app: Flask, staff_user: User, signed_in, form: dict[str, str], message: str
) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)

    response = record(signed_in(staff_user), order.number, idempotency_key="t", **form)

    assert response.status_code == 422
    assert message in response.text
    assert payment_queries.get_payment(transfer.payment_id).received_minor == 0
    assert queries.get_order(order.number).status == OrderStatus.PENDING_PAYMENT


def test_partly_paid_orders_past_the_deadline_are_listed_for_staff(
    app: Flask, staff_user: User, signed_in
) -> None:
    partly = place(gateway="manual")
    transfer = start_bank_transfer(partly)
    services.record_manual_payment(
        partly.number, actor_user_id=staff_user.id, amount_received=money(500), is_partial=True
    )
    browser = signed_in(staff_user)
    assert "partly-paid-overdue" not in browser.get("/staff/orders").text
    with transaction():  # the transfer was started 8 days ago
        db.session.execute(
            sa.update(Payment)
            .where(Payment.id == transfer.payment_id)
            .values(created_at=clock.utcnow() - timedelta(days=8))
        )

    page = browser.get("/staff/orders").text

    assert "Partly paid, past the payment deadline" in page
    assert f"{partly.number}</a>: $5.00 received, $23.00 still due" in page

"""The manual gateway: bank transfer or cash, confirmed by staff, overdue ones listed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from funnel.core import clock
from funnel.payments import queries, services
from funnel.payments.errors import InvalidTransition, ManualAmountMismatch
from funnel.payments.models import PaymentStatus, TransactionStatus
from tests.factories.payments import money, paid_payment
from tests.payments.helpers import status_changes

STAFF_ID = 42


def start_manual(reference: str = "ORD-100", amount: int = 8000):
    return services.start_payment(
        payable_reference=reference,
        amount=money(amount),
        gateway="manual",
        idempotency_key=f"{reference}-manual-1",
        description="Bank transfer",
    )


@pytest.mark.story("US-22")
def test_a_manual_payment_waits_for_the_funds(app: Flask) -> None:
    result = start_manual()

    assert (result.status, result.is_awaiting, result.is_paid) == (
        PaymentStatus.PENDING,
        True,
        False,
    )
    assert result.message == "We are waiting for your payment."
    payment = queries.get_payment(result.payment_id)
    assert payment.gateway_payment_id.startswith("man_")
    assert queries.payment_transactions(payment.id) == []
    # submitting it again (a retry) changes nothing
    assert services.submit_payment(payment.id).changed is False


@pytest.mark.story("US-31")
def test_staff_mark_it_received_once(app: Flask) -> None:
    result = start_manual()

    marked = services.mark_manual_payment_received(
        result.payment_id, STAFF_ID, amount_received=money(8000), note="Barclays ref 123"
    )
    again = services.mark_manual_payment_received(result.payment_id, STAFF_ID)

    assert (marked.status, marked.changed, again.changed) == (PaymentStatus.SUCCEEDED, True, False)
    [event] = queries.payment_history(result.payment_id)[-1:]
    assert (event.from_status, event.to_status, event.actor, event.actor_user_id) == (
        "pending",
        "succeeded",
        "staff",
        STAFF_ID,
    )
    assert event.reason == "Barclays ref 123"
    [charge] = queries.payment_transactions(result.payment_id)
    assert (charge.status, charge.amount_minor) == (TransactionStatus.SUCCEEDED, 8000)


@pytest.mark.story("US-31")
def test_a_different_amount_is_refused(app: Flask) -> None:
    result = start_manual()

    with pytest.raises(ManualAmountMismatch) as raised:
        services.mark_manual_payment_received(
            result.payment_id, STAFF_ID, amount_received=money(7999)
        )

    assert raised.value.detail == "$79.99 received, $80.00 due."
    assert queries.get_payment(result.payment_id).status == PaymentStatus.PENDING


def test_only_manual_payments_are_marked_received(app: Flask) -> None:
    card_payment = paid_payment(2000, "4000000000000259")

    with pytest.raises(InvalidTransition):
        services.mark_manual_payment_received(card_payment.payment_id, STAFF_ID)


@pytest.mark.story("US-22")
@pytest.mark.config(MANUAL_PAYMENT_DAYS=7)
def test_unpaid_manual_payments_are_listed_after_the_configured_days_and_can_be_cancelled(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a manual payment made 8 days ago, one made 6 days ago, and one paid 8 days ago
    start = clock.utcnow()
    monkeypatch.setattr(clock, "utcnow", lambda: start - timedelta(days=8))
    old = start_manual("ORD-OLD")
    paid = start_manual("ORD-PAID")
    services.mark_manual_payment_received(paid.payment_id, STAFF_ID)
    monkeypatch.setattr(clock, "utcnow", lambda: start - timedelta(days=6))
    start_manual("ORD-RECENT")
    monkeypatch.setattr(clock, "utcnow", lambda: start)

    # when checkout asks which are overdue
    overdue = queries.overdue_manual_payments()

    # then only the old unpaid one is listed; voiding it cancels it and frees its payable
    assert [payment.payable_reference for payment in overdue] == ["ORD-OLD"]
    cancelled = services.void_payment(old.payment_id, reason="unpaid after 7 days")
    assert (cancelled.status, cancelled.changed) == (PaymentStatus.CANCELLED, True)
    assert status_changes(old.payment_id)[-1] == ("pending", "cancelled")
    assert queries.overdue_manual_payments() == []
    # and funds arriving afterwards are not silently accepted
    with pytest.raises(InvalidTransition):
        services.mark_manual_payment_received(old.payment_id, STAFF_ID)


def test_marking_received_and_cancelling_at_once_make_one_change(app: Flask, in_threads) -> None:
    result = start_manual()

    outcomes = in_threads(
        lambda: services.mark_manual_payment_received(result.payment_id, STAFF_ID),
        lambda: services.void_payment(result.payment_id, reason="overdue"),
    )

    assert len(status_changes(result.payment_id)) == 2
    final = queries.get_payment(result.payment_id).status
    assert final in {PaymentStatus.SUCCEEDED, PaymentStatus.CANCELLED}
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert [type(e) for e in errors] == [InvalidTransition]

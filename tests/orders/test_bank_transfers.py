"""Bank transfers recorded by staff: the day received, partial payments, retries, the
unpaid-order deadline, and cash on delivery left as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask

from funnel.accounts.models import User
from funnel.core import clock
from funnel.orders import queries, services
from funnel.orders.errors import InvalidOrderInput, OrderPaymentMissing
from funnel.orders.models import OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments.errors import InvalidTransition, ManualAmountAboveDue, ManualAmountMismatch
from funnel.payments.models import PaymentStatus
from tests.audit.helpers import entries
from tests.factories.inventory import stocked_variant
from tests.factories.orders import money, place, start_bank_transfer, start_cash_on_delivery
from tests.orders.helpers import statuses
from tests.support.mailbox import Mailbox

pytestmark = pytest.mark.story("US-31")

# 23:30 in UTC is already the next day in Auckland (UTC+13 in December).
LATE_EVENING = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)


@pytest.fixture
def evening(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(clock, "utcnow", lambda: LATE_EVENING)
    return LATE_EVENING


def details(number: str) -> queries.OrderDetails:
    return queries.order_details(queries.get_order(number))


def test_a_partial_payment_is_recorded_with_its_day_and_the_order_waits_for_the_rest(
    app: Flask, staff_user: User, mailbox: Mailbox
) -> None:
    # given an order of $28.00 awaiting its bank transfer
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)

    # when staff record $10.00 received on 1 December, confirmed as a partial payment
    change = services.record_manual_payment(
        order.number,
        actor_user_id=staff_user.id,
        amount_received=money(1000),
        received_on=date(2026, 12, 1),
        is_partial=True,
        request_key="form-1",
    )

    # then the order still awaits payment, with $10.00 paid and $18.00 due
    assert (change.changed, change.status) == (True, OrderStatus.PENDING_PAYMENT)
    read = details(order.number)
    assert (read.paid_so_far, read.still_due) == (money(1000), money(1800))
    assert [(r.amount_minor, r.received_on) for r in read.receipts] == [(1000, date(2026, 12, 1))]
    payment = payment_queries.get_payment(transfer.payment_id)
    assert (payment.status, payment.received_minor) == (PaymentStatus.PENDING, 1000)
    assert statuses(order) == [(None, "pending_payment"), ("pending_payment", "pending_payment")]
    assert mailbox == []

    # and when the rest arrives on 3 December, the order is paid and the customer emailed
    paid = services.record_manual_payment(
        order.number,
        actor_user_id=staff_user.id,
        amount_received=money(1800),
        received_on=date(2026, 12, 3),
        request_key="form-2",
    )
    assert (paid.changed, paid.status) == (True, OrderStatus.PAID)
    read = details(order.number)
    assert (read.paid_so_far, read.still_due) == (money(2800), money(0))
    assert [(r.amount_minor, r.received_on) for r in read.receipts] == [
        (1000, date(2026, 12, 1)),
        (1800, date(2026, 12, 3)),
    ]
    assert payment_queries.get_payment(transfer.payment_id).status == PaymentStatus.SUCCEEDED
    assert [message["Subject"] for message in mailbox] == [f"Order {order.number} confirmed"]


def test_each_step_is_audited_with_what_was_paid_and_due_before_and_after(
    app: Flask, staff_user: User
) -> None:
    order = place(gateway="manual")
    start_bank_transfer(order)

    services.record_manual_payment(
        order.number,
        actor_user_id=staff_user.id,
        amount_received=money(1000),
        received_on=date(2026, 12, 1),
        is_partial=True,
    )
    services.record_manual_payment(
        order.number, actor_user_id=staff_user.id, received_on=date(2026, 12, 2), note="ref 7"
    )

    audited = [entry for entry in entries() if entry["object"] == ("order", order.number)]
    assert [(e["action"], e["actor"], e["before"]) for e in audited] == [
        (
            "order.partial_payment_received",
            staff_user.id,
            {"status": "pending_payment", "paid_so_far": "$0.00", "still_due": "$28.00"},
        ),
        (
            "order.payment_received",
            staff_user.id,
            {"status": "pending_payment", "paid_so_far": "$10.00", "still_due": "$18.00"},
        ),
    ]
    assert [e["after"] for e in audited] == [
        {
            "status": "pending_payment",
            "note": "partial payment of $10.00 received on 2026-12-01 ($18.00 still due)",
            "amount_received": "$10.00",
            "received_on": "2026-12-01",
            "paid_so_far": "$10.00",
            "still_due": "$18.00",
        },
        {
            "status": "paid",
            "note": "ref 7",
            "amount_received": "$18.00",
            "received_on": "2026-12-02",
            "paid_so_far": "$28.00",
            "still_due": "$0.00",
        },
    ]


def test_less_than_due_without_confirming_a_partial_payment_is_refused(
    app: Flask, staff_user: User
) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)

    with pytest.raises(ManualAmountMismatch) as refused:
        services.record_manual_payment(
            order.number, actor_user_id=staff_user.id, amount_received=money(1000)
        )

    assert refused.value.detail == (
        "$10.00 received, $28.00 still due: confirm it as a partial payment, or record the "
        "amount due."
    )
    assert payment_queries.get_payment(transfer.payment_id).received_minor == 0
    assert statuses(order) == [(None, "pending_payment")]


@pytest.mark.parametrize("partial", [False, True])
def test_more_than_is_still_due_is_refused_with_a_clear_message(
    app: Flask, staff_user: User, partial: bool
) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)
    services.record_manual_payment(
        order.number, actor_user_id=staff_user.id, amount_received=money(2000), is_partial=True
    )

    with pytest.raises(ManualAmountAboveDue) as refused:
        services.record_manual_payment(
            order.number,
            actor_user_id=staff_user.id,
            amount_received=money(900),
            is_partial=partial,
        )

    assert refused.value.detail == (
        "$9.00 received is more than the $8.00 still due: record at most what is due, and "
        "return the difference to the customer."
    )
    assert payment_queries.get_payment(transfer.payment_id).received_minor == 2000
    assert queries.get_order(order.number).status == OrderStatus.PENDING_PAYMENT


def test_a_day_in_the_future_is_refused(app: Flask, staff_user: User, evening) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)

    with pytest.raises(InvalidOrderInput) as refused:
        services.record_manual_payment(
            order.number, actor_user_id=staff_user.id, received_on=date(2026, 12, 6)
        )

    assert refused.value.fields == {"received_on": ["The date received cannot be in the future."]}
    assert payment_queries.get_payment(transfer.payment_id).status == PaymentStatus.PENDING


def test_the_day_received_defaults_to_today_in_the_shop_time_zone(
    app: Flask, staff_user: User, evening
) -> None:
    order = place(gateway="manual")
    start_bank_transfer(order)

    services.record_manual_payment(order.number, actor_user_id=staff_user.id)

    [receipt] = details(order.number).receipts
    assert receipt.received_on == date(2026, 12, 5)  # the shop's zone is UTC here


@pytest.mark.config(TIME_ZONE="Pacific/Auckland")
def test_today_is_the_shop_day_not_the_utc_day(app: Flask, staff_user: User, evening) -> None:
    order = place(gateway="manual")
    start_bank_transfer(order)

    services.record_manual_payment(
        order.number, actor_user_id=staff_user.id, received_on=date(2026, 12, 6)
    )

    [receipt] = details(order.number).receipts
    assert receipt.received_on == date(2026, 12, 6)


def test_the_same_request_twice_records_the_sum_once(app: Flask, staff_user: User) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)

    def record() -> services.OrderChange:
        return services.record_manual_payment(
            order.number,
            actor_user_id=staff_user.id,
            amount_received=money(1000),
            is_partial=True,
            request_key="form-token-1",
        )

    first, second = record(), record()

    assert (first.changed, second.changed) == (True, False)
    assert payment_queries.get_payment(transfer.payment_id).received_minor == 1000
    assert len(statuses(order)) == 2


def test_recording_a_paid_order_again_changes_nothing(app: Flask, staff_user: User) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)
    services.record_manual_payment(order.number, actor_user_id=staff_user.id, request_key="a")

    again = services.record_manual_payment(
        order.number,
        actor_user_id=staff_user.id,
        amount_received=money(1000),
        is_partial=True,
        request_key="b",
    )

    assert (again.changed, again.status) == (False, OrderStatus.PAID)
    assert payment_queries.get_payment(transfer.payment_id).received_minor == 2800
    assert len(statuses(order)) == 2


@pytest.mark.config(PAYMENT_GATEWAYS="test,manual,cod")
def test_cash_on_delivery_is_not_recorded_as_a_bank_transfer(app: Flask, staff_user: User) -> None:
    order = place(gateway="cod")
    start_cash_on_delivery(order)

    with pytest.raises(OrderPaymentMissing):
        services.record_manual_payment(
            order.number, actor_user_id=staff_user.id, amount_received=money(1000), is_partial=True
        )

    assert statuses(order) == [(None, "pending_payment")]


def test_cancelling_a_partly_paid_order_gives_the_part_back(
    app: Flask, staff_user: User, admin_user: User
) -> None:
    # given an order with $10.00 of its transfer received
    variant = stocked_variant(10)
    order = place([(variant, 2)], gateway="manual")
    transfer = start_bank_transfer(order)
    services.record_manual_payment(
        order.number, actor_user_id=staff_user.id, amount_received=money(1000), is_partial=True
    )

    # when an admin cancels it
    change = services.cancel_order(order.number, reason="out of stock", actor_user_id=admin_user.id)

    # then the payment is cancelled and the $10.00 received is refunded
    payment = payment_queries.get_payment(transfer.payment_id)
    assert (change.status, payment.status, payment.refunded_minor) == (
        OrderStatus.CANCELLED,
        PaymentStatus.CANCELLED,
        1000,
    )


def test_staff_without_the_refunds_permission_cannot_cancel_a_partly_paid_order(
    app: Flask, staff_user: User
) -> None:
    from funnel.core.errors import PermissionDenied

    order = place(gateway="manual")
    start_bank_transfer(order)
    services.record_manual_payment(
        order.number, actor_user_id=staff_user.id, amount_received=money(1000), is_partial=True
    )

    with pytest.raises(PermissionDenied):
        services.cancel_order(order.number, reason="no", actor_user_id=staff_user.id)

    assert queries.get_order(order.number).status == OrderStatus.PENDING_PAYMENT


def test_the_deadline_job_leaves_a_partly_paid_order_for_staff(
    app: Flask, staff_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two bank-transfer orders past the deadline, one with part of its transfer received
    unpaid = place(gateway="manual", email="unpaid@example.com")
    start_bank_transfer(unpaid)
    partly = place(gateway="manual", email="partly@example.com")
    partly_transfer = start_bank_transfer(partly)
    services.record_manual_payment(
        partly.number, actor_user_id=staff_user.id, amount_received=money(500), is_partial=True
    )
    later = clock.utcnow() + timedelta(days=8)
    monkeypatch.setattr(clock, "utcnow", lambda: later)

    # when the job runs
    cancelled = services.cancel_overdue_manual_orders()

    # then only the unpaid one is cancelled; the partly paid one keeps its money and waits
    assert cancelled == 1
    assert queries.get_order(unpaid.number).status == OrderStatus.CANCELLED
    assert queries.get_order(partly.number).status == OrderStatus.PENDING_PAYMENT
    payment = payment_queries.get_payment(partly_transfer.payment_id)
    assert (payment.status, payment.received_minor) == (PaymentStatus.PENDING, 500)
    overdue = payment_queries.overdue_manual_payments(partly_received=True)
    assert [p.payable_reference for p in overdue] == [partly.number]


def test_the_job_s_cancellation_keeps_an_order_whose_transfer_arrived_in_part_meanwhile(
    app: Flask, staff_user: User
) -> None:
    # given an order that the job listed as unpaid, and part of its transfer arriving before
    # the job cancels it
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)
    services.record_manual_payment(
        order.number, actor_user_id=staff_user.id, amount_received=money(500), is_partial=True
    )

    # when the job's cancellation runs
    with pytest.raises(InvalidTransition):
        services.cancel_order(
            order.number, reason="not received", actor_user_id=None, keep_if_received=True
        )

    # then nothing changes: the order keeps waiting with the money received
    payment = payment_queries.get_payment(transfer.payment_id)
    assert (payment.status, payment.received_minor, payment.refunded_minor) == (
        PaymentStatus.PENDING,
        500,
        0,
    )
    assert queries.get_order(order.number).status == OrderStatus.PENDING_PAYMENT

"""Paying, cancelling and refunding orders: money first, then the order, the stock and email."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from funnel.accounts.models import User
from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.catalog.models import Variant
from funnel.core.database import transaction
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.inventory.models import MovementReason, StockMovement
from funnel.orders import queries, services
from funnel.orders.errors import OrderPaymentMissing, OrderPaymentReceived
from funnel.orders.models import OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.errors import ManualAmountMismatch
from funnel.payments.models import PaymentStatus
from tests.factories.inventory import stocked_variant
from tests.factories.orders import money, pay_by_card, place, start_bank_transfer
from tests.orders.helpers import statuses
from tests.support.mailbox import Mailbox


def stock(variant: Variant) -> int:
    return db.session.scalar(select(Variant.stock_quantity).where(Variant.id == variant.id))


def movements(number: str) -> list[tuple[str, int]]:
    rows = db.session.scalars(
        select(StockMovement)
        .where(StockMovement.order_reference == number)
        .order_by(StockMovement.id)
    )
    return [(row.reason.value, row.quantity) for row in rows]


def funnel_events(stage: FunnelStage) -> list[FunnelEvent]:
    return list(db.session.scalars(select(FunnelEvent).where(FunnelEvent.stage == stage)))


@pytest.mark.story("US-23")
def test_mark_paid_sends_one_confirmation_and_records_order_paid(
    app: Flask, mailbox: Mailbox
) -> None:
    # given an order from a tracked visitor, paid at the gateway
    order = place(visitor_id="visitor-42")
    pay_by_card(order, mark_paid=False)

    # when the checkout's confirm page and its webhook both mark it paid
    first = services.mark_paid(order.number)
    second = services.mark_paid(order.id)

    # then one change, one event, one email, one funnel event
    assert (first.previous_status, first.status, first.changed) == (
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PAID,
        True,
    )
    assert (second.status, second.changed) == (OrderStatus.PAID, False)
    assert statuses(order) == [(None, "pending_payment"), ("pending_payment", "paid")]
    [message] = mailbox
    assert (message["To"], message["Subject"]) == (
        "buyer@example.com",
        f"Order {order.number} confirmed",
    )
    [event] = funnel_events(FunnelStage.ORDER_PAID)
    assert (event.visitor_id, event.order_reference) == ("visitor-42", order.number)


@pytest.mark.story("US-23")
def test_no_email_leaves_for_a_payment_rolled_back(app: Flask, mailbox: Mailbox) -> None:
    order = place()

    def checkout_that_fails_after_marking_paid() -> None:
        with transaction():
            services.mark_paid(order.number)
            raise RuntimeError("the checkout failed after marking the order paid")

    with pytest.raises(RuntimeError):
        checkout_that_fails_after_marking_paid()

    assert queries.get_order(order.number).status == OrderStatus.PENDING_PAYMENT
    assert list(mailbox) == []


@pytest.mark.story("US-23", "US-36")
def test_five_concurrent_mark_paid_make_one_transition_one_event_one_email(
    app: Flask, mailbox: Mailbox
) -> None:
    # given an order whose payment succeeded
    order = place(visitor_id="visitor-7")
    pay_by_card(order, mark_paid=False)
    number = order.number
    db.session.commit()

    # when five callers (confirm page, webhook replays...) mark it paid at the same moment
    barrier = threading.Barrier(5)
    results: list[Any] = [None] * 5

    def worker(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = services.mark_paid(number)
            except Exception as error:  # reported below
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    db.session.commit()

    # then exactly one of them changed the order, and the others saw it paid
    assert [type(result).__name__ for result in results] == ["OrderChange"] * 5
    assert sorted(result.changed for result in results) == [False, False, False, False, True]
    assert {result.status for result in results} == {OrderStatus.PAID}
    assert statuses(order) == [(None, "pending_payment"), ("pending_payment", "paid")]
    assert [message["Subject"] for message in mailbox] == [f"Order {number} confirmed"]
    assert len(funnel_events(FunnelStage.ORDER_PAID)) == 1


@pytest.mark.story("US-25", "US-29")
def test_cancelling_an_unpaid_order_voids_its_payment_and_returns_its_stock(
    app: Flask, staff_user: User, mailbox: Mailbox
) -> None:
    # given an order for 3 of 10 units, awaiting a bank transfer
    variant = stocked_variant(10)
    order = place([(variant, 3)], gateway="manual")
    transfer = start_bank_transfer(order)
    assert stock(variant) == 7

    # when staff cancel it
    result = services.cancel_order(
        order.number, reason="customer asked", actor_user_id=staff_user.id
    )

    # then the payment is cancelled, the 3 units are back, the ledger balances
    assert (result.previous_status, result.status, result.changed) == (
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.CANCELLED,
        True,
    )
    assert payment_queries.get_payment(transfer.payment_id).status == PaymentStatus.CANCELLED
    assert stock(variant) == 10
    assert movements(order.number) == [("sale", -3), ("cancellation_return", 3)]
    assert inventory_queries.ledger_discrepancies() == []
    stored = queries.get_order(order.number)
    assert stored.cancelled_at is not None
    assert queries.order_events(stored)[-1].note == "customer asked"
    # and the customer is told
    [message] = mailbox
    assert message["Subject"] == f"Order {order.number} cancelled"
    assert "Reason: customer asked" in mailbox.body(message)


@pytest.mark.story("US-25")
def test_cancelling_twice_changes_nothing_the_second_time(
    app: Flask, staff_user: User, mailbox: Mailbox
) -> None:
    variant = stocked_variant(10)
    order = place([(variant, 2)])
    services.cancel_order(order.number, reason="first", actor_user_id=staff_user.id)

    again = services.cancel_order(order.number, reason="second", actor_user_id=staff_user.id)

    assert (again.changed, again.status) == (False, OrderStatus.CANCELLED)
    assert stock(variant) == 10
    assert movements(order.number) == [("sale", -2), ("cancellation_return", 2)]
    assert len(mailbox) == 1


@pytest.mark.story("US-25", "US-32")
def test_cancelling_a_paid_order_refunds_it_in_full_first(
    app: Flask, admin_user: User, mailbox: Mailbox
) -> None:
    variant = stocked_variant(10)
    order = place([(variant, 2)])
    paid = pay_by_card(order)

    services.cancel_order(order.number, reason="cannot ship", actor_user_id=admin_user.id)

    payment = payment_queries.get_payment(paid.payment_id)
    assert (payment.status, payment.refunded_minor) == (PaymentStatus.REFUNDED, order.total_minor)
    assert queries.get_order(order.number).status == OrderStatus.CANCELLED
    assert stock(variant) == 10
    assert inventory_queries.ledger_discrepancies() == []
    assert [message["Subject"] for message in mailbox] == [
        f"Order {order.number} confirmed",
        f"Order {order.number} cancelled",
    ]
    assert "is refunded to the way you paid" in mailbox.body(mailbox[1])


@pytest.mark.story("US-25")
def test_an_unpaid_order_whose_payment_went_through_meanwhile_is_not_cancelled(
    app: Flask, staff_user: User
) -> None:
    # given the gateway took the money but the checkout has not marked the order paid yet
    variant = stocked_variant(10)
    order = place([(variant, 1)])
    pay_by_card(order, mark_paid=False)

    with pytest.raises(OrderPaymentReceived):
        services.cancel_order(order.number, reason="too slow", actor_user_id=staff_user.id)

    assert queries.get_order(order.number).status == OrderStatus.PENDING_PAYMENT
    assert stock(variant) == 9


@pytest.mark.story("US-32")
def test_a_partial_then_the_rest_refund_moves_the_order_to_refunded_once(
    app: Flask, admin_user: User, mailbox: Mailbox
) -> None:
    order = place()  # total $28.00
    pay_by_card(order)
    mailbox.clear()

    partial = services.refund_order(
        order.number, money(800), idempotency_key="refund-key-0001", actor_user_id=admin_user.id
    )
    replay = services.refund_order(
        order.number, money(800), idempotency_key="refund-key-0001", actor_user_id=admin_user.id
    )
    rest = services.refund_order(
        order.number, idempotency_key="refund-key-0002", actor_user_id=admin_user.id
    )

    assert (partial.amount, partial.is_full, partial.change.status) == (
        money(800),
        False,
        OrderStatus.PAID,
    )
    assert (replay.amount, replay.refunded_total) == (money(0), money(800))
    assert (rest.amount, rest.is_full, rest.change.status, rest.change.changed) == (
        money(2000),
        True,
        OrderStatus.REFUNDED,
        True,
    )
    assert statuses(order)[2:] == [("paid", "paid"), ("paid", "refunded")]
    assert [event.note for event in queries.order_events(order)[2:]] == [
        "refund of $8.00",
        "refund of $20.00",
    ]
    assert [message["Subject"] for message in mailbox] == [
        f"Order {order.number}: refund issued"
    ] * 2
    assert "We have refunded $8.00" in mailbox.body(mailbox[0])


@pytest.mark.story("US-32", "US-29")
def test_a_refund_can_return_the_items_to_stock(
    app: Flask, staff_user: User, admin_user: User
) -> None:
    variant = stocked_variant(10)
    order = place([(variant, 4)])
    pay_by_card(order)
    services.fulfil_order(order.number, actor_user_id=staff_user.id)
    [line] = queries.order_lines(order)

    refund = services.refund_order(
        order.number,
        idempotency_key="refund-with-return",
        actor_user_id=admin_user.id,
        reason="damaged in transit",
        lines=[services.RefundLineInput(line.id, 4, restock=True)],
        shipping=True,
    )

    assert (refund.is_full, refund.stock_returned, refund.change.status) == (
        True,
        True,
        OrderStatus.REFUNDED,
    )
    assert stock(variant) == 10
    assert movements(order.number) == [("sale", -4), (MovementReason.RETURNED.value, 4)]
    assert inventory_queries.ledger_discrepancies() == []


@pytest.mark.story("US-32")
def test_an_unpaid_order_cannot_be_refunded(app: Flask, admin_user: User) -> None:
    order = place()
    from funnel.orders.errors import InvalidOrderTransition

    with pytest.raises(InvalidOrderTransition):
        services.refund_order(
            order.number, idempotency_key="refund-nope", actor_user_id=admin_user.id
        )


@pytest.mark.story("US-31", "US-22")
def test_staff_record_a_bank_transfer_once(app: Flask, staff_user: User, mailbox: Mailbox) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)

    recorded = services.record_manual_payment(
        order.number, actor_user_id=staff_user.id, amount_received=order.total, note="ref 991"
    )
    again = services.record_manual_payment(order.number, actor_user_id=staff_user.id)

    assert (recorded.changed, recorded.status, again.changed) == (True, OrderStatus.PAID, False)
    assert payment_queries.get_payment(transfer.payment_id).status == PaymentStatus.SUCCEEDED
    [paid_event] = queries.order_events(order)[1:]
    assert (paid_event.to_status, paid_event.actor_user_id, paid_event.note) == (
        "paid",
        staff_user.id,
        "ref 991",
    )
    assert [message["Subject"] for message in mailbox] == [f"Order {order.number} confirmed"]


@pytest.mark.story("US-31")
def test_a_different_amount_received_is_refused_and_nothing_changes(
    app: Flask, staff_user: User
) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)

    with pytest.raises(ManualAmountMismatch):
        services.record_manual_payment(
            order.number, actor_user_id=staff_user.id, amount_received=money(100)
        )

    assert queries.get_order(order.number).status == OrderStatus.PENDING_PAYMENT
    assert payment_queries.get_payment(transfer.payment_id).status == PaymentStatus.PENDING


@pytest.mark.story("US-31")
def test_a_card_order_has_no_bank_transfer_to_record(app: Flask, staff_user: User) -> None:
    order = place()
    payments.create_payment(
        payable_reference=order.number,
        amount=order.total,
        gateway="test",
        idempotency_key=f"{order.number}-card",
    )

    with pytest.raises(OrderPaymentMissing):
        services.record_manual_payment(order.number, actor_user_id=staff_user.id)

    assert queries.get_order(order.number).status == OrderStatus.PENDING_PAYMENT

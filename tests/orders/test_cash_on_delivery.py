"""Cash on delivery (``cod``): placed awaiting payment, shipped before it is paid, paid when
delivered (the cash recorded), never cancelled by the bank-transfer deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from funnel.accounts.models import User
from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.core import clock
from funnel.core.errors import PermissionDenied
from funnel.core.money import Money
from funnel.extensions import db
from funnel.orders import queries, services, tasks
from funnel.orders.errors import InvalidOrderInput, InvalidOrderTransition, OrderPaymentMissing
from funnel.orders.models import OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments.errors import ManualAmountMismatch
from funnel.payments.models import PaymentStatus
from tests.factories.orders import cash_on_delivery_order, pay_by_card, place, start_bank_transfer
from tests.orders.helpers import statuses

pytestmark = pytest.mark.config(PAYMENT_GATEWAYS="test,manual,cod")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def payment_status(number: str) -> PaymentStatus:
    return payment_queries.live_payment_for(number).status


def paid_events() -> list[str | None]:
    return list(
        db.session.scalars(
            select(FunnelEvent.order_reference).where(FunnelEvent.stage == FunnelStage.ORDER_PAID)
        )
    )


@pytest.mark.story("US-22", "US-30")
def test_staff_ship_a_cash_order_unpaid_and_delivering_it_records_the_cash(
    app: Flask, staff_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a cash-on-delivery order awaiting payment ($28.00)
    monkeypatch.setattr(clock, "utcnow", lambda: START)
    order = cash_on_delivery_order(visitor_id="visitor-1")
    assert (order.status, payment_status(order.number)) == (
        OrderStatus.PENDING_PAYMENT,
        PaymentStatus.PENDING,
    )

    # when staff ship it, then deliver it with the cash taken
    shipped = services.fulfil_order(order.number, actor_user_id=staff_user.id, note="DHL 7")
    assert payment_status(order.number) == PaymentStatus.PENDING
    delivered = services.mark_delivered(
        order.number, actor_user_id=staff_user.id, amount_received=Money(2800, "USD")
    )

    # then it shipped unpaid, and delivery paid it: one step, one event each, by the staff
    assert (shipped.changed, shipped.status) == (True, OrderStatus.FULFILLED)
    assert (delivered.changed, delivered.status) == (True, OrderStatus.DELIVERED)
    assert statuses(order) == [
        (None, "pending_payment"),
        ("pending_payment", "fulfilled"),
        ("fulfilled", "delivered"),
    ]
    events = queries.order_events(order)
    assert [event.actor_user_id for event in events[1:]] == [staff_user.id, staff_user.id]
    assert events[2].note == "delivered, cash received"
    settled = queries.get_order(order.number)
    assert (settled.paid_at, settled.delivered_at) == (START, START)
    assert payment_status(order.number) == PaymentStatus.SUCCEEDED
    assert payment_queries.live_payment_for(order.number).amount_minor == 2800
    assert paid_events() == [order.number]


@pytest.mark.story("US-22")
def test_delivering_again_changes_nothing_and_records_no_second_payment(
    app: Flask, staff_user: User
) -> None:
    order = cash_on_delivery_order(visitor_id="visitor-1")
    services.fulfil_order(order.number, actor_user_id=staff_user.id)
    services.mark_delivered(order.number, actor_user_id=staff_user.id)

    again = services.mark_delivered(order.number, actor_user_id=staff_user.id)

    assert (again.changed, again.status) == (False, OrderStatus.DELIVERED)
    assert len(statuses(order)) == 3
    assert paid_events() == [order.number]


@pytest.mark.story("US-22")
@pytest.mark.parametrize("amount", [2799, 2801, 0])
def test_cash_that_is_not_the_amount_due_is_refused_and_changes_nothing(
    app: Flask, staff_user: User, amount: int
) -> None:
    order = cash_on_delivery_order()
    services.fulfil_order(order.number, actor_user_id=staff_user.id)

    with pytest.raises(ManualAmountMismatch) as raised:
        services.mark_delivered(
            order.number, actor_user_id=staff_user.id, amount_received=Money(amount, "USD")
        )

    assert raised.value.detail == f"${amount // 100}.{amount % 100:02d} received, $28.00 due."
    assert queries.get_order(order.number).status == OrderStatus.FULFILLED
    assert queries.get_order(order.number).paid_at is None
    assert payment_status(order.number) == PaymentStatus.PENDING
    assert paid_events() == []


@pytest.mark.story("US-22", "US-30")
def test_a_card_order_cannot_ship_before_it_is_paid(app: Flask, staff_user: User) -> None:
    order = place()
    bank_transfer = place(gateway="manual")
    start_bank_transfer(bank_transfer)

    for unpaid in (order, bank_transfer):
        with pytest.raises(InvalidOrderTransition) as raised:
            services.fulfil_order(unpaid.number, actor_user_id=staff_user.id)
        assert raised.value.detail == (
            f"Order {unpaid.number} is awaiting payment: it cannot be shipped."
        )
        assert statuses(unpaid) == [(None, "pending_payment")]


@pytest.mark.story("US-22")
def test_a_cash_order_is_not_delivered_before_it_ships_nor_paid_like_a_bank_transfer(
    app: Flask, staff_user: User
) -> None:
    order = cash_on_delivery_order()

    with pytest.raises(InvalidOrderTransition):
        services.mark_delivered(order.number, actor_user_id=staff_user.id)
    with pytest.raises(OrderPaymentMissing):
        services.record_manual_payment(order.number, actor_user_id=staff_user.id)

    assert statuses(order) == [(None, "pending_payment")]
    assert payment_status(order.number) == PaymentStatus.PENDING


@pytest.mark.story("US-22")
def test_an_amount_on_delivery_belongs_to_cash_orders_only(app: Flask, staff_user: User) -> None:
    order = place()
    pay_by_card(order)
    services.fulfil_order(order.number, actor_user_id=staff_user.id)

    with pytest.raises(InvalidOrderInput) as raised:
        services.mark_delivered(
            order.number, actor_user_id=staff_user.id, amount_received=Money(2800, "USD")
        )

    assert list(raised.value.fields) == ["amount_received"]
    assert queries.get_order(order.number).status == OrderStatus.FULFILLED


@pytest.mark.story("US-22", "US-28")
def test_only_staff_with_the_fulfil_permission_ship_and_collect(
    app: Flask, staff_user: User, customer: User
) -> None:
    order = cash_on_delivery_order(email=customer.email, user_id=customer.id)

    with pytest.raises(PermissionDenied):
        services.fulfil_order(order.number, actor_user_id=customer.id)
    services.fulfil_order(order.number, actor_user_id=staff_user.id)
    with pytest.raises(PermissionDenied):
        services.mark_delivered(order.number, actor_user_id=customer.id)
    with pytest.raises(PermissionDenied):
        services.mark_delivered(order.number)  # the cash is counted by a person

    assert statuses(order)[-1] == ("pending_payment", "fulfilled")
    assert payment_status(order.number) == PaymentStatus.PENDING


@pytest.mark.story("US-22")
def test_staff_may_cancel_a_cash_order_before_it_ships(app: Flask, staff_user: User) -> None:
    order = cash_on_delivery_order()

    services.cancel_order(order.number, reason="out of area", actor_user_id=staff_user.id)

    assert queries.get_order(order.number).status == OrderStatus.CANCELLED
    [payment] = payment_queries.payments_for(order.number)
    assert payment.status == PaymentStatus.CANCELLED


@pytest.mark.story("US-22", "US-49")
def test_the_overdue_job_cancels_bank_transfers_but_leaves_cash_orders_alone(
    app: Flask, monkeypatch: pytest.MonkeyPatch, staff_user: User
) -> None:
    # given, on day 0, an order awaiting a bank transfer, a cash order awaiting shipping
    # and a cash order shipped
    monkeypatch.setattr(clock, "utcnow", lambda: START)
    transfer = place(gateway="manual")
    start_bank_transfer(transfer)
    waiting = cash_on_delivery_order()
    shipped = cash_on_delivery_order()
    services.fulfil_order(shipped.number, actor_user_id=staff_user.id)

    # when the job runs on day 30
    monkeypatch.setattr(clock, "utcnow", lambda: START + timedelta(days=30))
    cancelled = tasks.cancel_overdue_manual_orders.delay().get()

    # then only the bank transfer is cancelled
    assert cancelled == 1
    assert queries.get_order(transfer.number).status == OrderStatus.CANCELLED
    assert queries.get_order(waiting.number).status == OrderStatus.PENDING_PAYMENT
    assert queries.get_order(shipped.number).status == OrderStatus.FULFILLED
    assert payment_status(waiting.number) == PaymentStatus.PENDING
    assert payment_status(shipped.number) == PaymentStatus.PENDING


@pytest.mark.story("US-22", "US-30")
def test_the_staff_page_offers_the_steps_of_a_cash_order(app: Flask, staff_user: User) -> None:
    order = cash_on_delivery_order()

    def actions() -> frozenset[str]:
        return queries.order_details(queries.get_order(order.number)).staff_actions

    awaiting = actions()
    services.fulfil_order(order.number, actor_user_id=staff_user.id)
    shipped = actions()
    services.mark_delivered(order.number, actor_user_id=staff_user.id)
    delivered = actions()

    assert (awaiting, shipped, delivered) == ({"fulfil", "cancel"}, {"deliver"}, {"refund"})
    assert queries.order_details(order).payment_method == "Cash on delivery"

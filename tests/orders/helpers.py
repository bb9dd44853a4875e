"""Orders in each status, reached through the services (as the shop reaches them)."""

from __future__ import annotations

from sqlalchemy import select

from funnel.accounts.models import Role
from funnel.extensions import db
from funnel.orders import queries, services
from funnel.orders.models import Order, OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments.models import PaymentTransaction, TransactionKind
from tests.factories.accounts import UserFactory
from tests.factories.orders import pay_by_card, place


def order_in(status: OrderStatus, staff_id: int, **place_arguments) -> Order:
    """A card-paid order (or one awaiting payment) brought to ``status``; an admin refunds it
    (staff hold no refund permission by default)."""
    order = place(**place_arguments)
    if status == OrderStatus.PENDING_PAYMENT:
        return order
    if status == OrderStatus.CANCELLED:
        services.cancel_order(order.number, reason="changed my mind", actor_user_id=staff_id)
        return queries.get_order(order.number)
    pay_by_card(order)
    if status in {OrderStatus.FULFILLED, OrderStatus.DELIVERED}:
        services.fulfil_order(order.number, actor_user_id=staff_id)
    if status == OrderStatus.DELIVERED:
        services.mark_delivered(order.number, actor_user_id=staff_id)
    if status == OrderStatus.REFUNDED:
        admin = UserFactory(role=Role.ADMIN)
        services.refund_order(
            order.number, idempotency_key=f"{order.number}-refund", actor_user_id=admin.id
        )
    order = queries.get_order(order.number)
    assert order.status == status
    return order


def statuses(order: Order) -> list[tuple[str | None, str]]:
    return [(event.from_status, event.to_status) for event in queries.order_events(order)]


def refund_keys(order: Order) -> list[str]:
    """The idempotency keys the order's refunds were stored under, oldest first."""
    payment = payment_queries.live_payment_for(order.number)
    return list(
        db.session.scalars(
            select(PaymentTransaction.idempotency_key)
            .where(
                PaymentTransaction.payment_id == payment.id,
                PaymentTransaction.kind == TransactionKind.REFUND,
            )
            .order_by(PaymentTransaction.id)
        )
    )

"""The orders side of a customer's page: how many orders an account placed, and what its paid
orders add up to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from funnel.accounts import queries as account_queries
from funnel.accounts.errors import UserNotFound
from funnel.accounts.models import User
from funnel.core.money import Money
from funnel.extensions import db
from funnel.orders.models import Order, OrderStatus


@dataclass(frozen=True)
class CustomerOverview:
    """An account as staff look it up: the account, how many orders it placed, and what its
    paid orders add up to (one amount per currency; refunded and cancelled orders excluded)."""

    user: User
    order_count: int
    lifetime_value: tuple[Money, ...] = ()


# Orders whose money the shop keeps: paid, and after (a cash-on-delivery order ships before it
# is paid: only its ``paid_at`` says the money came).
_KEPT = (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.DELIVERED)


def customer_overview(user_id: int) -> CustomerOverview:
    """Raises UserNotFound."""
    user = account_queries.get_user(user_id)
    if user is None:
        raise UserNotFound()
    count = db.session.scalar(
        select(func.count()).select_from(Order).where(Order.user_id == user_id)
    )
    totals = db.session.execute(
        select(Order.currency, func.sum(Order.total_minor))
        .where(Order.user_id == user_id, Order.status.in_(_KEPT), Order.paid_at.is_not(None))
        .group_by(Order.currency)
        .order_by(Order.currency)
    ).tuples()
    return CustomerOverview(
        user=user,
        order_count=int(count or 0),
        lifetime_value=tuple(Money(int(total), currency) for currency, total in totals),
    )

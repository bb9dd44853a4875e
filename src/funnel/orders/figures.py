"""Reads of the orders for the sales reports: paid orders, refunds, and what each variant sold.

An order counts as sold at ``paid_at``, the instant its payment was received in full (an order
never paid is never a sale); money given back counts at the refund's instant, whichever order
it belongs to, so that a refund lowers the net revenue of the day it was made. The reads return
plain rows; the reports cut them into the shop's days (``reports.buckets``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import aliased

from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.catalog.models import Product, Variant
from funnel.extensions import db
from funnel.orders.models import Order, OrderLine
from funnel.payments.models import (
    Payment,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)


@dataclass(frozen=True)
class PaidOrder:
    """One order paid in the range: when, in which currency, its money and units; and its
    customer (the order's email address, stored lower-cased) with the instant their first
    order ever was paid when that is in the range (None: they had paid one before it)."""

    paid_at: datetime
    currency: str
    total_minor: int
    shipping_minor: int
    tax_minor: int
    units: int
    customer: str
    first_paid_at: datetime | None


@dataclass(frozen=True)
class MoneyBack:
    """One refund that succeeded: when it was made, how much, in which currency."""

    made_at: datetime
    currency: str
    amount_minor: int


@dataclass(frozen=True)
class VariantSales:
    """What one variant (or, once deleted, one SKU) sold in the range, in one currency."""

    product_id: int | None
    product_title: str
    variant_label: str
    sku: str
    currency: str
    units: int
    revenue_minor: int


def _check_aware(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("the sales figures need timezone-aware datetimes")


def paid_orders(start: datetime, end: datetime) -> list[PaidOrder]:
    """Every order paid in ``[start, end)``, oldest first, each with its customer's first
    paid order's instant (None when it was before ``start``). Two queries: the orders over the
    ``paid_at`` index, then which of their customers had paid before, one ``email`` index
    lookup each."""
    _check_aware(start, end)
    in_range = (Order.paid_at >= start, Order.paid_at < end)
    units = (
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .where(OrderLine.order_id == Order.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            Order.paid_at,
            Order.currency,
            Order.total_minor,
            Order.shipping_minor,
            Order.tax_minor,
            units,
            Order.email,
        )
        .where(*in_range)
        .order_by(Order.paid_at, Order.id)
    ).all()
    customers = select(Order.email).where(*in_range).distinct().subquery()
    earlier = aliased(Order)
    returning = set(
        db.session.scalars(
            select(customers.c.email).where(
                select(earlier.id)
                .where(earlier.email == customers.c.email, earlier.paid_at < start)
                .exists()
            )
        )
    )
    first_in_range: dict[str, datetime] = {}
    for row in rows:
        first_in_range.setdefault(row.email, row.paid_at)
    return [
        PaidOrder(
            paid_at,
            currency,
            int(total),
            int(shipping),
            int(tax),
            int(count),
            email,
            None if email in returning else first_in_range[email],
        )
        for paid_at, currency, total, shipping, tax, count, email in rows
    ]


def money_given_back(start: datetime, end: datetime) -> list[MoneyBack]:
    """Every refund that succeeded, made in ``[start, end)``: by lines or amount from the
    order page, or the full refund of a cancelled order. Read from the payments' own
    records, so that every refund counts once whichever way it was made.

    A paid order's payment that was only authorised (the shop captures at fulfilment) and is
    voided instead of captured (the order was cancelled before it shipped) gives back its
    whole amount at the void's instant: the order counted as a sale when it was paid."""
    _check_aware(start, end)
    in_range = (
        PaymentTransaction.status == TransactionStatus.SUCCEEDED,
        PaymentTransaction.created_at >= start,
        PaymentTransaction.created_at < end,
    )
    refunds = select(
        PaymentTransaction.created_at,
        PaymentTransaction.id,
        PaymentTransaction.currency,
        PaymentTransaction.amount_minor,
    ).where(PaymentTransaction.kind == TransactionKind.REFUND, *in_range)
    released = (
        select(
            PaymentTransaction.created_at,
            PaymentTransaction.id,
            PaymentTransaction.currency,
            Payment.amount_minor,
        )
        .join(Payment, Payment.id == PaymentTransaction.payment_id)
        .join(Order, Order.number == Payment.payable_reference)
        .where(
            PaymentTransaction.kind == TransactionKind.VOID,
            Payment.capture_method == "manual",
            Order.paid_at.is_not(None),
            *in_range,
        )
    )
    rows = sorted(
        [*db.session.execute(refunds).tuples(), *db.session.execute(released).tuples()],
        key=lambda row: (row[0], row[1]),
    )
    return [MoneyBack(made_at, currency, int(amount)) for made_at, _, currency, amount in rows]


def variant_sales(start: datetime, end: datetime) -> list[VariantSales]:
    """Units and line revenue (the lines' totals as on the orders: no shipping) of each
    variant in the orders paid in ``[start, end)``, most revenue first. A deleted variant's
    lines are grouped by their SKU and keep the title they were sold under."""
    _check_aware(start, end)
    key = func.coalesce(OrderLine.variant_id, 0)
    rows = db.session.execute(
        select(
            func.max(Variant.product_id),
            func.max(func.coalesce(Product.title, OrderLine.product_title)),
            func.max(OrderLine.variant_label),
            OrderLine.sku,
            Order.currency,
            func.sum(OrderLine.quantity),
            func.sum(OrderLine.line_total_minor),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .outerjoin(Variant, Variant.id == OrderLine.variant_id)
        .outerjoin(Product, Product.id == Variant.product_id)
        .where(Order.paid_at >= start, Order.paid_at < end)
        .group_by(key, OrderLine.sku, Order.currency)
    ).tuples()
    sales = [
        VariantSales(
            int(product_id) if product_id is not None else None,
            title,
            label,
            sku,
            currency,
            int(units),
            int(revenue),
        )
        for product_id, title, label, sku, currency, units, revenue in rows
    ]
    return sorted(sales, key=lambda row: (-row.revenue_minor, row.product_title, row.sku))


def buyers_who_viewed(start: datetime, end: datetime) -> dict[int, int]:
    """By product: the distinct visitors who viewed it in ``[start, end)`` (counted in the
    funnel) and paid, in the same range, for an order holding it. The numerator of a
    product's views-to-purchase conversion: a buyer the funnel never saw view the product (a
    purchase through the API, a visitor who asked not to be tracked) is not counted, so the
    rate never passes 100 %."""
    _check_aware(start, end)
    bought = (
        select(Order.visitor_id, Variant.product_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .where(Order.paid_at >= start, Order.paid_at < end, Order.visitor_id.is_not(None))
        .distinct()
        .subquery()
    )
    # Row-value IN: each database reads the views once into a lookup (SQLite an ephemeral
    # index), where a join would scan the views once per buyer.
    viewed = select(FunnelEvent.visitor_id, FunnelEvent.product_id).where(
        FunnelEvent.stage == FunnelStage.PRODUCT_VIEW,
        FunnelEvent.occurred_at >= start,
        FunnelEvent.occurred_at < end,
        FunnelEvent.product_id.is_not(None),
    )
    rows = db.session.execute(
        select(bought.c.product_id, func.count())
        .where(tuple_(bought.c.visitor_id, bought.c.product_id).in_(viewed))
        .group_by(bought.c.product_id)
    ).tuples()
    return {int(product_id): int(count) for product_id, count in rows}

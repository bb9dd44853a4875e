"""Reads of the orders for the sales reports: paid orders, refunds, and what each variant sold.

An order counts as sold at ``paid_at``, the instant its payment was received in full (an order
never paid is never a sale); money given back counts at the refund's instant, whichever order
it belongs to, so that a refund lowers the net revenue of the day it was made. The reads over
time are grouped by the database into the buckets the reports cut (``reports.buckets``: the
shop's days, weeks or months, handed in as their UTC starts), one row per bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, union_all
from sqlalchemy.orm import aliased

from funnel.analytics import daily
from funnel.catalog.models import Product, Variant
from funnel.core.spans import span_index, span_start
from funnel.extensions import db
from funnel.orders.models import Order, OrderLine
from funnel.payments.models import (
    Payment,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)


@dataclass(frozen=True)
class BucketSales:
    """The orders paid in one bucket of time in one currency: how many, their units and money;
    and their customers (an order's email address, stored lower-cased), new when their first
    order ever was paid in this bucket, else returning."""

    bucket: int
    currency: str
    orders: int
    units: int
    total_minor: int
    shipping_minor: int
    tax_minor: int
    new_customers: int
    returning_customers: int


@dataclass(frozen=True)
class PeriodCustomers:
    """The distinct customers of one currency's orders paid in a range: new when their first
    order ever was paid in the range, else returning."""

    currency: str
    new_customers: int
    returning_customers: int


@dataclass(frozen=True)
class BucketRefunds:
    """The money given back in one bucket of time in one currency."""

    bucket: int
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


def _paid_in(start: datetime, end: datetime) -> Any:
    """The orders paid in ``[start, end)`` with their units and their customer's first paid
    order's instant (any currency, any time: one ``(email, paid_at)`` index lookup each)."""
    earlier = aliased(Order)
    first_paid = (
        select(func.min(earlier.paid_at)).where(earlier.email == Order.email).scalar_subquery()
    )
    units = (
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .where(OrderLine.order_id == Order.id)
        .scalar_subquery()
    )
    return (
        select(
            Order.paid_at,
            Order.currency,
            Order.total_minor,
            Order.shipping_minor,
            Order.tax_minor,
            units.label("units"),
            Order.email,
            first_paid.label("first_paid_at"),
        )
        .where(Order.paid_at >= start, Order.paid_at < end)
        .subquery()
    )


def sales_per_bucket(starts: Sequence[datetime], end: datetime) -> list[BucketSales]:
    """Per bucket of time and currency, the orders paid in it: bucket ``i`` is
    ``[starts[i], starts[i + 1])``, the last one ends at ``end``; buckets without an order are
    left out. The database groups the orders (``core.spans``), so one row comes back per bucket
    and currency whatever the number of orders. One query over the ``paid_at`` index."""
    if not starts:
        return []
    _check_aware(starts[0], end)
    paid = _paid_in(starts[0], end)
    # A customer is new in a bucket when their first order ever was paid in it (on or after its
    # start, as this order was). The first order's instant is named once: a database that
    # merges the subqueries repeats the lookup wherever the query names it.
    bucketed = select(
        span_index(paid.c.paid_at, starts).label("bucket"),
        case((paid.c.first_paid_at >= span_start(paid.c.paid_at, starts), paid.c.email)).label(
            "new_customer"
        ),
        paid,
    ).subquery()
    rows = db.session.execute(
        select(
            bucketed.c.bucket,
            bucketed.c.currency,
            func.count(),
            func.sum(bucketed.c.units),
            func.sum(bucketed.c.total_minor),
            func.sum(bucketed.c.shipping_minor),
            func.sum(bucketed.c.tax_minor),
            func.count(bucketed.c.new_customer.distinct()),
            func.count(bucketed.c.email.distinct()),
        )
        .group_by(bucketed.c.bucket, bucketed.c.currency)
        .order_by(bucketed.c.bucket, bucketed.c.currency)
    ).tuples()
    return [
        BucketSales(
            int(bucket),
            currency,
            int(orders),
            int(units or 0),
            int(total or 0),
            int(shipping or 0),
            int(tax or 0),
            int(new),
            int(customers) - int(new),
        )
        for bucket, currency, orders, units, total, shipping, tax, new, customers in rows
    ]


def customers_in(start: datetime, end: datetime) -> list[PeriodCustomers]:
    """Per currency, the distinct customers of the orders paid in ``[start, end)``, new and
    returning (a customer is one or the other over the range). One query."""
    _check_aware(start, end)
    paid = _paid_in(start, end)
    new_customer = case((paid.c.first_paid_at >= start, paid.c.email))
    rows = db.session.execute(
        select(
            paid.c.currency,
            func.count(new_customer.distinct()),
            func.count(paid.c.email.distinct()),
        )
        .group_by(paid.c.currency)
        .order_by(paid.c.currency)
    ).tuples()
    return [
        PeriodCustomers(currency, int(new), int(customers) - int(new))
        for currency, new, customers in rows
    ]


def refunds_per_bucket(starts: Sequence[datetime], end: datetime) -> list[BucketRefunds]:
    """Per bucket of time (as ``sales_per_bucket``) and currency, the refunds that succeeded,
    made in it: by lines or amount from the order page, or the full refund of a cancelled
    order. Read from the payments' own records, so that every refund counts once whichever
    way it was made. One grouped query.

    A paid order's payment that was only authorised (the shop captures at fulfilment) and is
    voided instead of captured (the order was cancelled before it shipped) gives back its
    whole amount at the void's instant: the order counted as a sale when it was paid."""
    if not starts:
        return []
    _check_aware(starts[0], end)
    in_range = (
        PaymentTransaction.status == TransactionStatus.SUCCEEDED,
        PaymentTransaction.created_at >= starts[0],
        PaymentTransaction.created_at < end,
    )
    refunded = select(
        PaymentTransaction.created_at,
        PaymentTransaction.currency,
        PaymentTransaction.amount_minor.label("amount_minor"),
    ).where(PaymentTransaction.kind == TransactionKind.REFUND, *in_range)
    released = (
        select(
            PaymentTransaction.created_at,
            PaymentTransaction.currency,
            Payment.amount_minor.label("amount_minor"),
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
    given_back = union_all(refunded, released).subquery()
    # Grouped by the subquery's column: a bare CASE (or, for one bucket, the literal 0) in
    # GROUP BY would be read as a column position by some databases.
    refunds = select(
        span_index(given_back.c.created_at, starts).label("bucket"),
        given_back.c.currency,
        given_back.c.amount_minor,
    ).subquery()
    rows = db.session.execute(
        select(refunds.c.bucket, refunds.c.currency, func.sum(refunds.c.amount_minor)).group_by(
            refunds.c.bucket, refunds.c.currency
        )
    ).tuples()
    return [BucketRefunds(int(index), currency, int(amount)) for index, currency, amount in rows]


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


def buyers_who_viewed(first_day: date, last_day: date, zone: ZoneInfo) -> dict[int, int]:
    """By product: the distinct visitors who viewed it from ``first_day`` to ``last_day``
    (shop days in ``zone``, both included; counted in the funnel) and paid, in the same days,
    for an order holding it. The numerator of a product's views-to-purchase conversion: a
    buyer the funnel never saw view the product (a purchase through the API, a visitor who
    asked not to be tracked) is not counted, so the rate never passes 100 %. Whether each
    buyer viewed is looked up in the funnel's daily summary (``analytics.daily``)."""
    start, end = daily.midnight(first_day, zone), daily.midnight(last_day + timedelta(1), zone)
    bought = (
        select(Order.visitor_id, Variant.product_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .where(Order.paid_at >= start, Order.paid_at < end, Order.visitor_id.is_not(None))
        .distinct()
        .subquery()
    )
    viewed = daily.viewed_in_days(
        bought.c.visitor_id, bought.c.product_id, first_day, last_day, zone
    )
    rows = db.session.execute(
        select(bought.c.product_id, func.count()).where(viewed).group_by(bought.c.product_id)
    ).tuples()
    return {int(product_id): int(count) for product_id, count in rows}

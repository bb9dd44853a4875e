"""Reads for the product funnel report: what shoppers did with each product, or with each
category's products, on their way to an order.

Only shoppers the funnel tracks count (those with a visitor id: bots, visitors who ask not to be
tracked and staff have none), so that every column counts the same people. A product deleted
since is left out (its name is gone); a product counts in the category it is in now.

- ``viewers``, ``adders``: distinct visitors with a product view, an add to cart of it in the
  range (the funnel events carry the product);
- ``checkout_visitors``: distinct visitors who started a checkout in the range holding it. The
  checkout-started event names no product, so a checkout's contents are read from the order it
  became (its lines), else from its cart as it is now;
- ``buyers`` and ``paid_units``: distinct visitors who paid, in the range, for an order holding
  it, and the units of it in those orders (the order's lines).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, union_all

from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.cart.models import CartLine
from funnel.catalog.models import Category, Product, Variant
from funnel.checkout.models import Checkout
from funnel.extensions import db
from funnel.orders.models import Order, OrderLine


@dataclass(frozen=True)
class ProductFunnelCounts:
    """One product's (or category's) funnel over a range."""

    name: str
    viewers: int = 0
    adders: int = 0
    checkout_visitors: int = 0
    buyers: int = 0
    paid_units: int = 0


@dataclass
class _Counts:
    values: dict[int, dict[str, int]] = field(default_factory=dict)

    def add(self, key: int, **counts: Any) -> None:
        self.values.setdefault(int(key), {}).update(
            {name: int(count) for name, count in counts.items()}
        )


def product_funnel_counts(
    start: datetime, end: datetime, *, by_category: bool = False
) -> dict[int, ProductFunnelCounts]:
    """By product id (or category id when ``by_category``), the funnel of every product with
    any of its steps in ``[start, end)`` (timezone-aware). Four queries, each grouped by the
    product (or the category: a visitor who viewed two of its products counts once)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("product_funnel_counts needs timezone-aware datetimes")
    key = Product.category_id if by_category else Product.id
    counts = _Counts()
    stages = {FunnelStage.PRODUCT_VIEW: "viewers", FunnelStage.ADD_TO_CART: "adders"}
    rows = db.session.execute(
        select(key, FunnelEvent.stage, func.count(FunnelEvent.visitor_id.distinct()))
        .join(Product, Product.id == FunnelEvent.product_id)
        .where(
            FunnelEvent.stage.in_(list(stages)),
            FunnelEvent.occurred_at >= start,
            FunnelEvent.occurred_at < end,
        )
        .group_by(key, FunnelEvent.stage)
    ).tuples()
    for group, stage, visitors in rows:
        counts.add(group, **{stages[FunnelStage(stage)]: visitors})
    contents = _checkout_contents(start, end)
    rows = db.session.execute(
        select(key, func.count(contents.c.visitor_id.distinct()))
        .select_from(contents)
        .join(Product, Product.id == contents.c.product_id)
        .group_by(key)
    ).tuples()
    for group, visitors in rows:
        counts.add(group, checkout_visitors=visitors)
    rows = db.session.execute(
        select(key, func.count(Order.visitor_id.distinct()), func.sum(OrderLine.quantity))
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(Order.paid_at >= start, Order.paid_at < end, Order.visitor_id.is_not(None))
        .group_by(key)
    ).tuples()
    for group, buyers, units in rows:
        counts.add(group, buyers=buyers, paid_units=units)
    names = _names(counts.values, by_category=by_category)
    return {
        group: replace(ProductFunnelCounts(names[group]), **values)
        for group, values in counts.values.items()
    }


def _checkout_contents(start: datetime, end: datetime) -> Any:
    """(visitor, product) of every checkout a tracked shopper started in the range: the lines
    of the order it became, else its cart's lines."""
    started = (
        Checkout.created_at >= start,
        Checkout.created_at < end,
        Checkout.visitor_id.is_not(None),
    )
    ordered = (
        select(Checkout.visitor_id, Variant.product_id)
        .join(OrderLine, OrderLine.order_id == Checkout.order_id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .where(*started, Checkout.order_id.is_not(None))
    )
    in_cart = (
        select(Checkout.visitor_id, Variant.product_id)
        .join(CartLine, CartLine.cart_id == Checkout.cart_id)
        .join(Variant, Variant.id == CartLine.variant_id)
        .where(*started, Checkout.order_id.is_(None))
    )
    return union_all(ordered, in_cart).subquery()


def _names(keys: Iterable[int], *, by_category: bool) -> dict[int, str]:
    ids = list(keys)
    if not ids:
        return {}
    model: Any = Category if by_category else Product
    name = Category.name if by_category else Product.title
    rows = db.session.execute(select(model.id, name).where(model.id.in_(ids))).tuples()
    return {int(row_id): text for row_id, text in rows}

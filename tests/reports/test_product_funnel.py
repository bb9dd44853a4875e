"""US-64: a product's own funnel and a category's, computed by hand: viewers and adders from
the funnel's events, checkouts from the contents of the checkouts started (the order each
became, else its cart), buyers and paid units from the orders paid; tracked shoppers only."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.catalog.models import Variant
from funnel.checkout.models import Checkout, CheckoutStatus
from funnel.core import clock
from funnel.extensions import db
from funnel.orders.models import Order
from funnel.reports.queries import product_funnel_report
from funnel.reports.splits import FunnelOf
from tests.factories.cart import cart_with
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.factories.orders import pay_by_card, place

pytestmark = [pytest.mark.story("US-64"), pytest.mark.config(CURRENCY="GBP")]
DAY = datetime(2026, 6, 10, 12, tzinfo=UTC)
DAY_BEFORE = datetime(2026, 6, 9, 23, 59, tzinfo=UTC)


def variants(title: str, category_id: int, *skus: str) -> list[Variant]:
    made = ProductFactory(
        title=title,
        category_id=category_id,
        variants=[{"sku": sku, "price": 1000, "stock_quantity": 100} for sku in skus],
    )
    return list(
        db.session.scalars(
            select(Variant).where(Variant.product_id == made.id).order_by(Variant.id)
        )
    )


def step(stage: FunnelStage, visitor: str, variant: Variant, at: datetime = DAY) -> None:
    db.session.add(
        FunnelEvent(stage=stage, visitor_id=visitor, product_id=variant.product_id, occurred_at=at)
    )
    db.session.commit()


def checkout(
    visitor: str | None,
    holding: dict[Variant, int],
    at: datetime = DAY,
    order: Order | None = None,
) -> None:
    cart = cart_with(holding)
    db.session.add(
        Checkout(
            token=secrets.token_urlsafe(16),
            cart_id=cart.id,
            visitor_id=visitor,
            created_at=at,
            expires_at=at + timedelta(hours=1),
            order_id=order.id if order else None,
            status=CheckoutStatus.COMPLETED if order else CheckoutStatus.OPEN,
        )
    )
    db.session.commit()


def paid(visitor: str | None, *lines: tuple[Variant, int]) -> Order:
    order = place(list(lines), shipping=0, tax=0, visitor_id=visitor)
    pay_by_card(order)
    return order


@pytest.fixture
def shop(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: DAY)
    kitchen = CategoryFactory(name="Kitchen").id
    wear = CategoryFactory(name="Wear").id
    (mug,) = variants("Mug", kitchen, "MUG")
    (bowl,) = variants("Bowl", kitchen, "BOWL")
    small, large = variants("Shirt", wear, "SHIRT-S", "SHIRT-L")
    # ann views the mug and the bowl and adds the mug; bob views the mug twice and adds it;
    # cat views the shirt; dan viewed the mug the day before
    for stage, visitor, variant in [
        (FunnelStage.PRODUCT_VIEW, "ann", mug),
        (FunnelStage.PRODUCT_VIEW, "ann", bowl),
        (FunnelStage.ADD_TO_CART, "ann", mug),
        (FunnelStage.PRODUCT_VIEW, "bob", mug),
        (FunnelStage.PRODUCT_VIEW, "bob", mug),
        (FunnelStage.ADD_TO_CART, "bob", mug),
        (FunnelStage.PRODUCT_VIEW, "cat", small),
    ]:
        step(stage, visitor, variant)
    step(FunnelStage.PRODUCT_VIEW, "dan", mug, DAY_BEFORE)
    # ann's checkout is open on a cart with the mug and the bowl; bob's became his paid order
    # of two mugs (its cart emptied); an untracked shopper's and eve's the day before are out
    checkout("ann", {mug: 1, bowl: 1})
    checkout("bob", {}, order=paid("bob", (mug, 2)))
    checkout(None, {small: 1})
    checkout("eve", {large: 1}, at=DAY_BEFORE)
    # fay pays for three shirts, never seen viewing; an untracked shopper's shirts are out
    paid("fay", (small, 1), (large, 2))
    paid(None, (small, 3))


def lines(report: object) -> list[tuple[str, int, int, int, int, int]]:
    return [
        (line.name, line.viewers, line.adders, line.checkout_visitors, line.buyers, line.paid_units)
        for line in report.lines  # type: ignore[attr-defined]
    ]


def test_each_products_funnel_most_viewers_first(shop: None) -> None:
    report = product_funnel_report(date(2026, 6, 10), date(2026, 6, 10), "UTC")

    # name, viewers, adders, checkouts started, buyers, paid units
    assert lines(report) == [
        ("Mug", 2, 2, 2, 1, 2),
        ("Shirt", 1, 0, 0, 1, 3),  # as many viewers as the bowl, more units
        ("Bowl", 1, 0, 1, 0, 0),
    ]
    assert report.of is FunnelOf.PRODUCT
    mug = report.lines[0]
    assert (mug.conversion, report.lines[2].conversion) == (0.5, 0)


def test_each_categorys_funnel_counts_a_visitor_once(shop: None) -> None:
    report = product_funnel_report(date(2026, 6, 10), date(2026, 6, 10), "UTC", FunnelOf.CATEGORY)

    # ann viewed the mug and the bowl, and her checkout held both: one visitor in Kitchen
    assert lines(report) == [("Kitchen", 2, 2, 2, 1, 2), ("Wear", 1, 0, 0, 1, 3)]


def test_the_day_before_has_its_own_funnel(shop: None) -> None:
    report = product_funnel_report(date(2026, 6, 9), date(2026, 6, 9), "UTC")

    assert lines(report) == [("Mug", 1, 0, 0, 0, 0), ("Shirt", 0, 0, 1, 0, 0)]


def test_the_lines_come_in_pages(shop: None) -> None:
    report = product_funnel_report(date(2026, 6, 9), date(2026, 6, 10), "UTC")

    first, second = report.page(1, 2), report.page(2, 2)

    assert [line.name for line in first.items] == ["Mug", "Shirt"]
    assert [line.name for line in second.items] == ["Bowl"]
    assert (first.total, first.pages, first.has_next, second.has_next) == (3, 2, True, False)
    assert list(report.page(3, 2).items) == []


def test_a_period_without_steps_has_no_lines(app: Flask) -> None:
    assert product_funnel_report(date(2026, 6, 1), date(2026, 6, 30), "UTC").lines == ()

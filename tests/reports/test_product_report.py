"""US-39: what each product sold, and its views-to-purchase conversion from the funnel,
computed by hand from orders and product views written at chosen instants."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from flask import Flask
from sqlalchemy import select, update

from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.catalog.models import Variant
from funnel.core import clock
from funnel.extensions import db
from funnel.orders.models import OrderLine
from funnel.reports.queries import product_report
from tests.factories.catalog import ProductFactory
from tests.factories.orders import pay_by_card, place

pytestmark = [pytest.mark.story("US-39"), pytest.mark.config(CURRENCY="GBP")]
DAY = datetime(2026, 6, 10, 12, tzinfo=UTC)


def product(title: str, *variants: tuple[str, int]) -> list[Variant]:
    made = ProductFactory(
        title=title,
        variants=[{"sku": sku, "price": price, "stock_quantity": 100} for sku, price in variants],
    )
    return list(
        db.session.scalars(
            select(Variant).where(Variant.product_id == made.id).order_by(Variant.id)
        )
    )


def viewed(visitor: str, variant: Variant, at: datetime = DAY) -> None:
    db.session.add(
        FunnelEvent(
            stage=FunnelStage.PRODUCT_VIEW,
            visitor_id=visitor,
            product_id=variant.product_id,
            occurred_at=at,
        )
    )
    db.session.commit()


def bought(visitor: str | None, *lines: tuple[Variant, int]) -> None:
    order = place(list(lines), shipping=500, tax=0, visitor_id=visitor)
    pay_by_card(order)


def test_units_and_revenue_per_product_and_variant_with_the_viewers_who_bought(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: DAY)
    small, large = product("Shirt", ("SHIRT-S", 1000), ("SHIRT-L", 1200))
    (mug,) = product("Mug", ("MUG", 500))
    (poster,) = product("Poster", ("POSTER", 300))
    # four visitors view the shirt; two of them buy it, one twice; a buyer the funnel never
    # saw (through the API) buys one too
    for visitor in ("ann", "bob", "cat", "dan"):
        viewed(visitor, small)
    bought("ann", (small, 2), (large, 1))
    bought("ann", (large, 1))
    bought("bob", (small, 1), (mug, 4))
    bought(None, (small, 1))
    # the mug is bought by bob, who never viewed it; the poster is viewed, never sold
    viewed("eve", poster)
    viewed("fay", poster)
    # a view the day before the period does not count
    viewed("gus", mug, datetime(2026, 6, 9, 12, tzinfo=UTC))

    report = product_report(date(2026, 6, 10), date(2026, 6, 10), "UTC", "GBP")

    rows = {row.title: row for row in report.products}
    assert [row.title for row in report.products] == ["Shirt", "Mug", "Poster"]
    shirt = rows["Shirt"]
    # 4 small (4000) and 2 large (2400): the lines' totals, no shipping
    assert (shirt.units, shirt.revenue_minor, shirt.currency) == (6, 6400, "GBP")
    assert {(line.sku, line.units, line.revenue_minor) for line in shirt.variants} == {
        ("SHIRT-S", 4, 4000),
        ("SHIRT-L", 2, 2400),
    }
    assert (shirt.viewers, shirt.buyers_who_viewed, shirt.conversion) == (4, 2, Fraction(1, 2))
    assert (rows["Mug"].units, rows["Mug"].revenue_minor) == (4, 2000)
    assert (rows["Mug"].viewers, rows["Mug"].buyers_who_viewed, rows["Mug"].conversion) == (
        0,
        0,
        None,
    )
    poster_row = rows["Poster"]
    assert (poster_row.units, poster_row.revenue_minor, poster_row.variants) == (0, 0, ())
    assert (poster_row.viewers, poster_row.conversion) == (2, Fraction(0))
    assert poster_row.product_id == poster.product_id


def test_a_deleted_product_keeps_the_title_it_was_sold_under(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: DAY)
    (lamp,) = product("Lamp", ("LAMP", 2500))
    bought("ann", (lamp, 1))
    # the line keeps its title when its variant goes (the key's ON DELETE SET NULL)
    db.session.execute(update(OrderLine).values(variant_id=None))
    db.session.commit()

    report = product_report(date(2026, 6, 10), date(2026, 6, 10), "UTC", "GBP")

    (row,) = report.products
    assert (row.product_id, row.title, row.units, row.revenue_minor) == (None, "Lamp", 1, 2500)

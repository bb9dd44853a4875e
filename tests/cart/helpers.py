"""Cart test helpers: what the database holds, read afresh."""

from __future__ import annotations

from sqlalchemy import func, select

from funnel.analytics.models import FunnelEvent
from funnel.cart.models import Cart, CartLine
from funnel.extensions import db


def funnel_events() -> list[tuple[str, int | None, int | None]]:
    """(stage, user id, product id) of every funnel event but visits, in order."""
    db.session.commit()  # end the read transaction: see what requests committed since
    rows = db.session.execute(
        select(FunnelEvent.stage, FunnelEvent.user_id, FunnelEvent.product_id)
        .where(FunnelEvent.stage != "visit")
        .order_by(FunnelEvent.id)
    )
    return [(stage.value, user_id, product_id) for stage, user_id, product_id in rows.tuples()]


def all_lines() -> list[tuple[int, int, int]]:
    """(cart id, variant id, quantity) of every line of every cart, read afresh."""
    db.session.commit()  # end the read transaction: see what requests committed since
    rows = db.session.execute(
        select(CartLine.cart_id, CartLine.variant_id, CartLine.quantity).order_by(CartLine.id)
    )
    return [tuple(row) for row in rows.tuples()]


def cart_count() -> int:
    db.session.commit()  # end the read transaction: see what requests committed since
    return db.session.scalar(select(func.count(Cart.id))) or 0

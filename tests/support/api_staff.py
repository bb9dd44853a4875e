"""Helpers of the staff API tests: a caller of each role, and the database state to compare."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from funnel.accounts.models import Role
from funnel.catalog.models import Product, Variant, VariantOptionValue
from funnel.extensions import db
from funnel.inventory.models import StockMovement
from funnel.orders.models import Order, OrderEvent, Refund
from funnel.payments.models import Payment
from tests.factories.accounts import UserFactory

Bearer = Callable[..., dict[str, str]]
STAFF = "/api/v1/staff"
# Who calls, in the authorisation matrix: no token, a customer, a staff member, an admin.
ROLES = ("anonymous", "customer", "staff", "admin")


def headers_for(role: str, bearer: Bearer) -> dict[str, str]:
    """The Authorization header of a new account with ``role`` (none for ``anonymous``)."""
    if role == "anonymous":
        return {}
    user = UserFactory(email=f"{role}-caller@example.com", role=Role(role))
    return bearer(user)


def catalogue_state() -> list[tuple[object, ...]]:
    """Every product, variant and option value, with the fields the staff API can change."""
    products = db.session.execute(
        sa.select(
            Product.id, Product.title, Product.slug, Product.status, Product.description
        ).order_by(Product.id)
    ).all()
    variants = db.session.execute(
        sa.select(
            Variant.id, Variant.product_id, Variant.sku, Variant.price_amount,
            Variant.title, Variant.stock_quantity,
        ).order_by(Variant.id)
    ).all()  # fmt: skip
    options = db.session.execute(
        sa.select(
            VariantOptionValue.variant_id, VariantOptionValue.name, VariantOptionValue.value
        ).order_by(VariantOptionValue.id)
    ).all()
    return [tuple(row) for row in [*products, *variants, *options]]


def stock_state() -> list[tuple[object, ...]]:
    levels = db.session.execute(sa.select(Variant.id, Variant.stock_quantity).order_by(Variant.id))
    movements = db.session.execute(
        sa.select(StockMovement.variant_id, StockMovement.quantity).order_by(StockMovement.id)
    )
    return [tuple(row) for row in [*levels, *movements]]


def orders_state() -> list[tuple[object, ...]]:
    orders = db.session.execute(sa.select(Order.number, Order.status).order_by(Order.id))
    events = db.session.execute(
        sa.select(OrderEvent.order_id, OrderEvent.to_status).order_by(OrderEvent.id)
    )
    payments = db.session.execute(
        sa.select(Payment.id, Payment.status, Payment.refunded_minor).order_by(Payment.id)
    )
    refunds = db.session.execute(
        sa.select(Refund.id, Refund.status, Refund.amount_minor).order_by(Refund.id)
    )
    return [tuple(row) for row in [*orders, *events, *payments, *refunds]]

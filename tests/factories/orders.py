"""Orders made the way the shop makes them: through the orders services, with the stock taken
and the payment created as the checkout does (in the same transaction as the order).

``place(...)`` places an order for ``lines`` (``(variant, quantity)`` pairs; a new variant with
stock by default) and, unless ``take_stock=False``, reserves and commits the stock under the
order's number. ``pay_by_card(order)`` pays it with the test gateway's 4242 card and marks it
paid; ``start_bank_transfer(order)`` creates its pending ``manual`` payment and
``start_cash_on_delivery(order)`` its pending ``cod`` payment.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from flask import current_app

from funnel.accounts.postal import PostalAddress
from funnel.catalog.models import Product, Variant
from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.extensions import db
from funnel.inventory import services as inventory
from funnel.orders import services
from funnel.orders.models import Order
from funnel.orders.services import OrderLineInput
from funnel.payments import services as payments
from funnel.payments.services import PaymentResult
from tests.factories.inventory import stocked_variant
from tests.factories.payments import card

_holders = itertools.count(1)


def money(amount: int) -> Money:
    return Money(amount, current_app.config["CURRENCY"])


def address(**overrides: Any) -> PostalAddress:
    values: dict[str, Any] = {
        "full_name": "Ann Smith",
        "line1": "1 High Street",
        "city": "Bristol",
        "postal_code": "BS1 4DJ",
        "country_code": "GB",
        "company": "",
        "line2": "Flat 2",
        "region": "",
        "phone": "+44 117 496 0000",
    }
    values.update(overrides)
    return PostalAddress(**values)


def line_for(variant: Variant, quantity: int = 1) -> OrderLineInput:
    product = db.session.get(Product, variant.product_id)
    assert product is not None
    return OrderLineInput(
        variant_id=variant.id,
        sku=variant.sku,
        product_title=product.title,
        variant_label=variant.title or "Standard",
        unit_price=variant.price,
        quantity=quantity,
    )


def place(
    lines: Sequence[tuple[Variant, int]] | None = None,
    *,
    email: str = "buyer@example.com",
    user_id: int | None = None,
    shipping: int = 500,
    tax: int = 300,
    gateway: str = "test",
    visitor_id: str | None = None,
    take_stock: bool = True,
    shipping_address: PostalAddress | None = None,
) -> Order:
    """A ``pending_payment`` order, placed (and its stock taken) in one transaction."""
    if lines is None:
        lines = [(stocked_variant(10), 2)]
    with transaction():
        order = services.place_order(
            email=email,
            user_id=user_id,
            lines=[line_for(variant, quantity) for variant, quantity in lines],
            shipping_address=shipping_address or address(),
            shipping_method_code="standard",
            shipping_method_name="Standard delivery",
            shipping=money(shipping),
            tax=money(tax),
            tax_rate_basis_points=2000,
            payment_gateway=gateway,
            visitor_id=visitor_id,
        )
        if take_stock:
            holder = f"test-checkout-{next(_holders)}"
            inventory.reserve(holder, {variant.id: quantity for variant, quantity in lines})
            inventory.commit_reservation(holder, order.number)
    return order


def pay_by_card(order: Order, *, mark_paid: bool = True) -> PaymentResult:
    result = payments.start_payment(
        payable_reference=order.number,
        amount=order.total,
        gateway="test",
        idempotency_key=f"{order.number}-payment",
        payment_method=card(),
        description=f"Order {order.number}",
    )
    assert result.is_paid
    if mark_paid:
        services.mark_paid(order.number)
    return result


def start_bank_transfer(order: Order) -> PaymentResult:
    return payments.start_payment(
        payable_reference=order.number,
        amount=order.total,
        gateway="manual",
        idempotency_key=f"{order.number}-payment",
        description=f"Order {order.number}",
    )


def paid_order(**kwargs: Any) -> Order:
    order = place(**kwargs)
    pay_by_card(order)
    return order


def start_cash_on_delivery(order: Order) -> PaymentResult:
    """The pending ``cod`` payment the checkout creates for a cash-on-delivery order."""
    return payments.start_payment(
        payable_reference=order.number,
        amount=order.total,
        gateway="cod",
        idempotency_key=f"{order.number}-payment",
        description=f"Order {order.number}",
    )


def cash_on_delivery_order(**kwargs: Any) -> Order:
    """A ``pending_payment`` order to be paid in cash on delivery (``cod`` must be enabled)."""
    order = place(gateway="cod", **kwargs)
    start_cash_on_delivery(order)
    return order

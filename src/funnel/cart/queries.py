"""Cart reads: a cart's contents priced from the catalogue, and the small look-ups of the edge.

``cart_contents`` runs three queries however many lines the cart holds: the lines joined with
their variants and products, the variants' option values (for the labels), and the inventory's
availability (which already subtracts other customers' unexpired reservations).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from flask import current_app
from sqlalchemy import bindparam, func, select

from funnel.cart.errors import (
    CartLineExceedsStock,
    CartVariantNotFound,
    InvalidQuantity,
    ProductUnavailable,
)
from funnel.cart.models import Cart, CartLine
from funnel.catalog.models import (
    THUMBNAIL_SIZES,
    Product,
    ProductImage,
    ProductStatus,
    Variant,
    VariantOptionValue,
    thumbnail_name,
)
from funnel.catalog.pricing import PriceDisplay
from funnel.core.money import Money
from funnel.extensions import db
from funnel.inventory.queries import available_quantities

MAX_ID = 2**31 - 1  # ids are 32-bit integers on every database: larger ones match nothing
NO_LONGER_AVAILABLE = "No longer available"
OUT_OF_STOCK = "Out of stock — please remove it"


def reservation_holder(cart_id: int) -> str:
    """The stock reservation holder of this cart's checkout.

    A checkout that reserves under this name is not counted against its own cart when the cart
    checks availability (``available_quantities(..., excluding_holder=...)``).
    """
    return f"cart:{cart_id}"


@dataclass(frozen=True)
class CartLineView:
    line_id: int
    variant_id: int
    product_id: int
    sku: str
    product_title: str
    product_slug: str
    variant_label: str
    unit_price: Money
    quantity: int
    line_total: Money
    available: int
    problem: str | None
    image_filename: str | None = None  # the product's first image (its original)

    @property
    def thumbnail(self) -> str | None:
        """The media path of the line's small picture (None: the product has no image)."""
        if self.image_filename is None:
            return None
        return thumbnail_name(self.image_filename, THUMBNAIL_SIZES[0])

    @property
    def is_available(self) -> bool:
        """Whether the line can be checked out as it is."""
        return self.problem is None


@dataclass(frozen=True)
class CartContents:
    cart_id: int
    lines: list[CartLineView]
    subtotal: Money | None  # None when the cart is empty
    item_count: int  # units, summed over the lines
    has_problems: bool  # some line cannot be checked out as it is

    @property
    def is_empty(self) -> bool:
        return not self.lines

    def shown_subtotal(self, prices: PriceDisplay) -> Money | None:
        """The subtotal as the shopper sees it: the sum of the lines' shown totals (the lines
        the subtotal counts; None when the cart is empty)."""
        if self.subtotal is None:
            return None
        total = Money.zero(self.subtotal.currency)
        for line in self.lines:
            if line.unit_price.currency == total.currency:
                total += prices.line(line.unit_price, line.quantity)
        return total


def line_problem(*, is_active: bool, quantity: int, available: int) -> str | None:
    """Why a line cannot be checked out as it is, in words for the customer (None: it can)."""
    if not is_active:
        return NO_LONGER_AVAILABLE
    if available <= 0:
        return OUT_OF_STOCK
    if quantity > available:
        return f"Only {available} left — please lower the quantity"
    return None


# The statements below are built once: carts are read by every add and every checkout step.
_OPTION_VALUES = (
    select(VariantOptionValue.variant_id, VariantOptionValue.value)
    .where(VariantOptionValue.variant_id.in_(bindparam("variant_ids", expanding=True)))
    .order_by(VariantOptionValue.variant_id, VariantOptionValue.position, VariantOptionValue.id)
)
_FIRST_IMAGE = (
    select(ProductImage.filename)
    .where(ProductImage.product_id == Product.id)
    .order_by(ProductImage.position, ProductImage.id)
    .limit(1)
    .correlate(Product)
    .scalar_subquery()
)
_LINES = (
    select(
        CartLine.id,
        CartLine.variant_id,
        CartLine.quantity,
        Variant.sku,
        Variant.title,
        Variant.price_amount,
        Variant.currency,
        Product.id,
        Product.title,
        Product.slug,
        Product.status,
        _FIRST_IMAGE,
    )
    .join(Variant, Variant.id == CartLine.variant_id)
    .join(Product, Product.id == Variant.product_id)
    .where(CartLine.cart_id == bindparam("cart_id"))
    .order_by(CartLine.id)
)


def variant_labels(variant_ids: list[int], fallbacks: dict[int, str]) -> dict[int, str]:
    """``"M / Red"`` per variant, from its option values (one query), else its fallback."""
    values: dict[int, list[str]] = defaultdict(list)
    if variant_ids:
        rows = db.session.execute(_OPTION_VALUES, {"variant_ids": variant_ids})
        for variant_id, value in rows.tuples():
            values[variant_id].append(value)
    return {
        variant_id: " / ".join(values[variant_id]) or fallbacks[variant_id]
        for variant_id in variant_ids
    }


def cart_contents(cart_id: int) -> CartContents:
    """The cart's lines (oldest first) with catalogue prices, availability and problems.

    Prices always come from the catalogue now, never from when the line was added. A line whose
    product is a draft or archived says "No longer available"; one asking for more than is
    available says how many are left. A line priced in another currency than the shop's (the
    setting changed) is flagged "No longer available" and left out of the subtotal. An unknown
    cart reads as empty. Three queries, whatever the number of lines.
    """
    rows = db.session.execute(_LINES, {"cart_id": cart_id}).all()
    if not rows:
        return CartContents(cart_id, [], None, 0, has_problems=False)
    variant_ids = [row[1] for row in rows]
    labels = variant_labels(variant_ids, {row[1]: row[4] or row[3] for row in rows})
    available = available_quantities(variant_ids, excluding_holder=reservation_holder(cart_id))
    currency = current_app.config["CURRENCY"]
    lines: list[CartLineView] = []
    subtotal = Money.zero(currency)
    for (
        line_id,
        variant_id,
        quantity,
        sku,
        _variant_title,
        price_amount,
        price_currency,
        product_id,
        product_title,
        product_slug,
        status,
        image_filename,
    ) in rows:
        unit_price = Money(int(price_amount), price_currency)
        line_total = unit_price * quantity
        units = available.get(variant_id, 0)
        is_sellable = status == ProductStatus.ACTIVE and price_currency == currency
        problem = line_problem(is_active=is_sellable, quantity=quantity, available=units)
        if price_currency == currency:
            subtotal += line_total
        lines.append(
            CartLineView(
                line_id=line_id,
                variant_id=variant_id,
                product_id=product_id,
                sku=sku,
                product_title=product_title,
                product_slug=product_slug,
                variant_label=labels[variant_id],
                unit_price=unit_price,
                quantity=quantity,
                line_total=line_total,
                available=units,
                problem=problem,
                image_filename=image_filename,
            )
        )
    return CartContents(
        cart_id=cart_id,
        lines=lines,
        subtotal=subtotal,
        item_count=sum(line.quantity for line in lines),
        has_problems=any(line.problem for line in lines),
    )


def cart_id_for_user(user_id: int) -> int | None:
    return db.session.scalar(select(Cart.id).where(Cart.user_id == user_id))


@dataclass(frozen=True)
class CartOwner:
    """Who may reach a cart: an account (``user_id``), or whoever holds a guest's ``token``."""

    user_id: int | None
    token: str

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


# Built once: every cart request (a page, an add, an API call) asks one of these first.
_CART_OWNER = select(Cart.user_id, Cart.token).where(Cart.id == bindparam("cart_id"))
_GUEST_CART_OF_TOKEN = select(Cart.id).where(
    Cart.token == bindparam("token"), Cart.user_id.is_(None)
)


def cart_owner(cart_id: int) -> CartOwner | None:
    """The cart's owner and token, for access checks (None: no such cart, or not an id)."""
    if not is_valid_id(cart_id):
        return None
    row = db.session.execute(_CART_OWNER, {"cart_id": cart_id}).first()
    return CartOwner(row[0], row[1]) if row is not None else None


def guest_cart_id_for_token(token: str) -> int | None:
    """The guest cart with this token (an account's cart is never found by token)."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(_GUEST_CART_OF_TOKEN, {"token": token})


# The units of a cart, built once per way of finding it: every page's navigation shows them.
_UNITS = select(func.coalesce(func.sum(CartLine.quantity), 0)).join(
    Cart, Cart.id == CartLine.cart_id
)
_UNITS_OF_CART = _UNITS.where(Cart.id == bindparam("cart_id"))
_UNITS_OF_ACCOUNT = _UNITS.where(Cart.user_id == bindparam("user_id"))
_UNITS_OF_GUEST_TOKEN = _UNITS.where(Cart.token == bindparam("token"), Cart.user_id.is_(None))


def item_count(
    *, cart_id: int | None = None, user_id: int | None = None, token: str | None = None
) -> int:
    """Units in a cart found by id, by account or by guest token: one query (0 when none)."""
    if cart_id is not None:
        units = db.session.scalar(_UNITS_OF_CART, {"cart_id": cart_id})
    elif user_id is not None:
        units = db.session.scalar(_UNITS_OF_ACCOUNT, {"user_id": user_id})
    elif token:
        units = db.session.scalar(_UNITS_OF_GUEST_TOKEN, {"token": token[:64]})
    else:
        return 0
    return int(units or 0)


def is_valid_id(value: object) -> bool:
    """Whether ``value`` can be a row id (a positive 32-bit integer, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def checked_quantity(quantity: object) -> int:
    """``quantity`` if it is a whole number of at least 1. Raises InvalidQuantity."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        message = "Enter a whole number of 1 or more."
        raise InvalidQuantity(message, fields={"quantity": [message]})
    return quantity


class SellableVariant(NamedTuple):
    """A variant on sale, with what an add to cart tells the shopper about it."""

    id: int
    product_id: int
    sku: str
    product_title: str


_SELLABLE = (
    select(Variant.id, Variant.product_id, Variant.sku, Product.title, Product.status)
    .join(Product, Product.id == Variant.product_id)
    .where(Variant.id == bindparam("variant_id"))
)


def sellable_variant(variant_id: object) -> SellableVariant:
    """The variant, if its product is on sale. Raises CartVariantNotFound, ProductUnavailable."""
    if not is_valid_id(variant_id):
        raise CartVariantNotFound()
    row = db.session.execute(_SELLABLE, {"variant_id": variant_id}).one_or_none()
    if row is None:
        raise CartVariantNotFound()
    if row.status != ProductStatus.ACTIVE:
        raise ProductUnavailable("This product is no longer sold.")
    return SellableVariant(row.id, row.product_id, row.sku, row.title)


def available_for_cart(cart_id: int | None, variant_id: int) -> int:
    """Units of the variant this cart may hold (its own checkout reservation not counted)."""
    holder = reservation_holder(cart_id) if cart_id is not None else None
    return available_quantities([variant_id], excluding_holder=holder).get(variant_id, 0)


def quantity_in_cart(cart_id: int | None, variant_id: int) -> int:
    if cart_id is None:
        return 0
    quantity = db.session.scalar(
        select(CartLine.quantity).where(
            CartLine.cart_id == cart_id, CartLine.variant_id == variant_id
        )
    )
    return int(quantity or 0)


def check_stock_for(available: int, held: int, adding: int) -> None:
    """Raise CartLineExceedsStock when ``held + adding`` units exceed ``available``."""
    if held + adding <= available:
        return
    if held and available > held:
        detail = (
            f"Only {available} left and your cart already holds {held}: "
            f"you can add up to {available - held} more."
        )
    elif held and available:
        detail = f"Only {available} left, and your cart already holds {held}."
    else:
        detail = None
    raise CartLineExceedsStock(available, detail)


def check_addable(cart_id: int | None, variant_id: object, quantity: int) -> SellableVariant:
    """Whether ``quantity`` more units of the variant fit in the cart (``None``: no cart yet),
    checked before a cart is made for them. Returns the variant.

    Raises CartVariantNotFound, ProductUnavailable, CartLineExceedsStock (with the quantity left).
    """
    checked_quantity(quantity)
    variant = sellable_variant(variant_id)
    check_stock_for(
        available_for_cart(cart_id, variant.id), quantity_in_cart(cart_id, variant.id), quantity
    )
    return variant

"""What the checkout's use cases share: the locked checkout, stock reservations, the token."""

from __future__ import annotations

import secrets
from datetime import timedelta

from funnel.cart.queries import NO_LONGER_AVAILABLE, CartContents, reservation_holder
from funnel.checkout import queries
from funnel.checkout.errors import (
    CartEmpty,
    CartNeedsAttention,
    CheckoutNotFound,
    HoldLimitReached,
    SoldOut,
)
from funnel.checkout.models import Checkout, CheckoutStatus
from funnel.core import clock
from funnel.inventory import services as inventory
from funnel.inventory.errors import (
    InsufficientStock,
    OutOfStock,
    ReservationLimitReached,
    ShortLine,
)
from funnel.inventory.services.reservations import reservation_minutes


def holder_of(checkout: Checkout) -> str:
    """The stock reservation holder: the cart's, so the cart does not count its own hold."""
    return reservation_holder(checkout.cart_id)


def lock_open_checkout(token: str | None, cart_id: int | None) -> Checkout:
    """The browser's open checkout, locked. Raises CheckoutNotFound."""
    checkout = queries.find_checkout(token, cart_id, lock=True)
    if checkout is None or checkout.status != CheckoutStatus.OPEN:
        raise CheckoutNotFound()
    return checkout


def checked_contents(contents: CartContents) -> CartContents:
    """The cart, if it can be checked out. Raises CartEmpty, CartNeedsAttention (a line whose
    product is no longer sold). Stock is the reservation's to judge."""
    if contents.is_empty:
        raise CartEmpty()
    if any(line.problem == NO_LONGER_AVAILABLE for line in contents.lines):
        raise CartNeedsAttention("Some items in your cart are no longer sold: remove them first.")
    return contents


def quantities_of(contents: CartContents) -> dict[int, int]:
    return {line.variant_id: line.quantity for line in contents.lines}


def _names(contents: CartContents) -> dict[int, str]:
    return {
        line.variant_id: f"{line.product_title} ({line.variant_label})" for line in contents.lines
    }


def hold_limit_reached(lines: list[ShortLine], contents: CartContents) -> HoldLimitReached:
    """The share limit in the customer's words: product, variant, how many they may hold."""
    names = _names(contents)
    return HoldLimitReached(
        [
            f"{names.get(line.variant_id, line.sku)}: "
            + (
                "you already hold all you may of it in other checkouts"
                if line.available <= 0
                else f"at most {line.available} more"
            )
            + f", your cart holds {line.requested}"
            for line in lines
        ]
    )


def sold_out(lines: list[ShortLine], contents: CartContents) -> SoldOut:
    """The shortage in the customer's words: product, variant, units left."""
    names = _names(contents)
    return SoldOut(
        [
            f"{names.get(line.variant_id, line.sku)}: "
            + ("sold out" if line.available <= 0 else f"only {line.available} left")
            + f", your cart holds {line.requested}"
            for line in lines
        ]
    )


def reserve_cart(checkout: Checkout, contents: CartContents) -> None:
    """(Re)reserve the cart's quantities for ``RESERVATION_MINUTES`` from now and move the
    checkout's expiry with them, counted against the checkout's ``reservation_owner``.
    Raises SoldOut naming the short lines, HoldLimitReached naming the lines over the share
    one customer may hold."""
    try:
        inventory.reserve(
            holder_of(checkout), quantities_of(contents), owner=checkout.reservation_owner
        )
    except InsufficientStock as error:
        raise sold_out(error.lines, contents) from error
    except ReservationLimitReached as error:
        raise hold_limit_reached(error.lines, contents) from error
    checkout.expires_at = clock.utcnow() + timedelta(minutes=reservation_minutes())


def take_stock(checkout: Checkout, contents: CartContents, order_number: str) -> None:
    """Turn the reservation into the order's sale (joins the caller's transaction).

    Call ``reserve_cart`` first in the same transaction: it locks the variants' rows (in id
    order) before the order's lines refer to them. Taking the row locks after the lines'
    foreign keys took shared locks on the same rows would deadlock two buyers on PostgreSQL
    and MariaDB. Raises SoldOut.
    """
    try:
        inventory.commit_reservation(
            holder_of(checkout), order_number, expected=quantities_of(contents)
        )
    except (InsufficientStock, OutOfStock) as error:
        raise sold_out(error.lines, contents) from error


def new_submit_token(checkout: Checkout) -> None:
    """Issue a new one-time token for the pay form (the previous one stops working)."""
    checkout.submit_nonce = secrets.token_urlsafe(32)
    token = queries.derive_submit_token(checkout.token, checkout.submit_nonce)
    checkout.submit_token_hash = queries.token_hash(token)


def forget_review(checkout: Checkout) -> None:
    """Something the totals depend on changed: the customer must review again."""
    checkout.reviewed_total_minor = None
    checkout.submit_nonce = None
    checkout.submit_token_hash = None

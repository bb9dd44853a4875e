"""The checkout's steps before payment: contact, address, shipping method, review.

Each runs in one transaction on the locked checkout row, so that two tabs of one browser take
turns. A step that changes what the totals depend on (address, method) asks for a new review.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from funnel.accounts import postal
from funnel.accounts import services as account_services
from funnel.accounts.errors import AddressInvalid, InvalidEmail
from funnel.accounts.models import normalise_email
from funnel.accounts.postal import PostalAddress
from funnel.analytics import services as analytics
from funnel.analytics.models import FunnelStage
from funnel.cart.queries import cart_contents
from funnel.checkout import queries
from funnel.checkout.errors import (
    CheckoutInvalidInput,
    CheckoutNotFound,
    OrderInProgress,
    StepMissing,
)
from funnel.checkout.models import Checkout
from funnel.checkout.services.common import (
    checked_contents,
    forget_review,
    lock_open_checkout,
    new_submit_token,
    reserve_cart,
)
from funnel.checkout.services.outcomes import abandon_awaiting_action
from funnel.core import clock
from funnel.core.database import transaction
from funnel.extensions import db
from funnel.inventory.services.reservations import reservation_minutes
from funnel.orders.models import Order


def start_checkout(
    *,
    cart_id: int,
    email: str,
    user_id: int | None = None,
    visitor_id: str | None = None,
    token: str | None = None,
    reservation_owner: str | None = None,
) -> Checkout:
    """Start (or go on with) the checkout of a cart: record the contact email and reserve the
    cart's quantities for ``RESERVATION_MINUTES``.

    ``token`` is the browser's current checkout, taken up again if it is still open for this
    cart; otherwise the cart's open checkout is (a cart has at most one, enforced by the
    database even for two requests at the same instant), or a new one is made.
    ``reservation_owner`` is the client the reservations count against (see
    ``inventory.reserve``).
    Raises CheckoutInvalidInput (email), CartEmpty, CartNeedsAttention, SoldOut (naming the
    short lines; nothing is reserved), HoldLimitReached, OrderInProgress (the cart's checkout
    has an order whose payment is under way: a cart is paid for once; an order whose payment
    waits for the customer's own 3-D Secure step is given up first, see
    ``abandon_awaiting_action``).
    Side effects: a ``checkouts`` row, the reservations, a ``checkout_started`` funnel event
    (once per checkout).
    """
    arguments = {
        "cart_id": cart_id,
        "email": email,
        "user_id": user_id,
        "visitor_id": visitor_id,
        "token": token,
        "reservation_owner": reservation_owner,
    }
    try:
        return start_checkout_once(**arguments)
    except OrderInProgress as in_progress:
        if not abandon_awaiting_action(in_progress.number):
            raise
    return start_checkout_once(**arguments)


def start_checkout_once(
    *,
    cart_id: int,
    email: str,
    user_id: int | None = None,
    visitor_id: str | None = None,
    token: str | None = None,
    reservation_owner: str | None = None,
    holds_stock: bool = True,
) -> Checkout:
    """``start_checkout`` without giving up an order awaiting 3-D Secure: OrderInProgress is
    raised as it is, so that this may join the caller's transaction. With ``holds_stock``
    False nothing is reserved: the caller reviews the checkout in the same transaction, and
    the review holds the stock (the headless checkout reserves once, not twice)."""
    try:
        checked_email = normalise_email(email or "")
    except InvalidEmail as error:
        raise CheckoutInvalidInput(error.detail, fields={"email": [error.detail]}) from error
    with transaction():
        contents = checked_contents(cart_contents(cart_id))
        checkout = queries.find_checkout(token, cart_id, lock=True) if token else None
        if checkout is None or checkout.status != "open":
            checkout = _open_checkout_of_cart(cart_id) or _new_checkout(cart_id)
        if checkout.order_id is not None:
            raise OrderInProgress(_order_number(checkout.order_id))
        checkout.email = checked_email
        checkout.user_id = user_id
        checkout.visitor_id = visitor_id or checkout.visitor_id
        checkout.reservation_owner = reservation_owner
        if holds_stock:
            reserve_cart(checkout, contents)
        db.session.flush()
        analytics.record_event(
            FunnelStage.CHECKOUT_STARTED,
            checkout.visitor_id,
            user_id=user_id,
            dedupe_key=f"checkout_started:{checkout.id}",
        )
        return checkout


def _open_checkout_of_cart(cart_id: int) -> Checkout | None:
    """The cart's open checkout, locked (after a duplicate-key error too: a locking read sees
    the row the other transaction committed)."""
    return db.session.scalar(
        select(Checkout)
        .where(Checkout.open_cart_id == cart_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _new_checkout(cart_id: int) -> Checkout:
    """A new open checkout for the cart; when another request opened one at the same moment,
    the unique ``open_cart_id`` refuses the second and that one is taken up instead."""
    checkout = Checkout(
        token=secrets.token_urlsafe(32),
        cart_id=cart_id,
        open_cart_id=cart_id,
        expires_at=clock.utcnow() + timedelta(minutes=reservation_minutes()),
    )
    try:
        with db.session.begin_nested():
            db.session.add(checkout)
    except IntegrityError as error:
        existing = _open_checkout_of_cart(cart_id)
        if existing is None:
            raise CheckoutNotFound() from error
        return existing
    return checkout


def _order_number(order_id: int) -> str:
    order = db.session.get(Order, order_id)
    return order.number if order is not None else ""


def checked_address(values: Mapping[str, object]) -> PostalAddress:
    """The shipping address in what the customer entered (the rules are ``accounts.postal``'s).

    Raises CheckoutInvalidInput with a message per wrong field (the form's field names).
    """
    try:
        return postal.parse(values)
    except AddressInvalid as error:
        raise CheckoutInvalidInput(fields=error.fields) from error


def _ready(checkout: Checkout) -> Checkout:
    if checkout.order_id is not None:
        raise StepMissing("complete", "Your order has been placed: its payment is under way.")
    return checkout


def set_address(
    token: str | None,
    cart_id: int | None,
    address: PostalAddress,
    *,
    save_to_address_book: bool = False,
) -> Checkout:
    """Record where the order goes (a snapshot; see ``checked_address``). Raises
    CheckoutNotFound, StepMissing. Side effects: the review must be done again; with
    ``save_to_address_book``, a signed-in customer's address book keeps the address too
    (``accounts.services.remember_address``: not twice), in the same transaction; a guest's
    checkout has no book, and the flag changes nothing."""
    with transaction():
        checkout = _ready(lock_open_checkout(token, cart_id))
        if checkout.email is None:
            raise StepMissing("contact")
        for name, value in address.columns(prefix="ship_").items():
            setattr(checkout, name, value)
        forget_review(checkout)
        if save_to_address_book and checkout.user_id is not None:
            account_services.remember_address(checkout.user_id, address)
        return checkout


def set_shipping_method(token: str | None, cart_id: int | None, code: str) -> Checkout:
    """Choose one of the configured shipping methods. Raises CheckoutNotFound, StepMissing,
    CheckoutInvalidInput. Side effects: the review must be done again."""
    method = queries.pricing_policy().method(code)
    if method is None:
        message = "Choose one of the shipping methods."
        raise CheckoutInvalidInput(message, fields={"shipping_method": [message]})
    with transaction():
        checkout = _ready(lock_open_checkout(token, cart_id))
        if not checkout.has_address:
            raise StepMissing("address")
        checkout.shipping_method_code = method.code
        forget_review(checkout)
        return checkout


def confirm_review(token: str | None, cart_id: int | None) -> Checkout:
    """The customer has seen the lines and totals: remember that total, hold the stock for
    another ``RESERVATION_MINUTES`` and issue the pay form's one-time token.

    Raises CheckoutNotFound, StepMissing, CartEmpty, CartNeedsAttention, SoldOut.
    """
    with transaction():
        checkout = _ready(lock_open_checkout(token, cart_id))
        contents = checked_contents(cart_contents(checkout.cart_id))
        totals = queries.checkout_quote(checkout, contents)
        if checkout.email is None:
            raise StepMissing("contact")
        if totals is None:
            raise StepMissing("shipping" if checkout.has_address else "address")
        reserve_cart(checkout, contents)
        checkout.reviewed_total_minor = totals.total.amount
        new_submit_token(checkout)
        return checkout

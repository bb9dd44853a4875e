"""Which checkout a browser may use, and which order confirmations it may see.

The browser's checkout is the one whose token is in its session *and* that belongs to its
current cart, so nobody reaches another browser's checkout. An order's confirmation opens only
for the browser that placed it (its session remembers the last few order numbers) or for the
signed-in owner.
"""

from __future__ import annotations

from flask import session
from flask_login import current_user

from funnel.cart.access import current_cart_id
from funnel.checkout import queries
from funnel.checkout.errors import CheckoutNotFound
from funnel.checkout.models import Checkout, CheckoutStatus
from funnel.orders.models import Order

ORDERS_KEY = "checkout_orders"
REMEMBERED_ORDERS = 10
SESSION_KEY = "checkout_token"


def signed_in_user_id() -> int | None:
    return int(current_user.id) if current_user.is_authenticated else None


def current_checkout() -> Checkout | None:
    """This browser's checkout (any status), if its cart is still the browser's cart."""
    return queries.find_checkout(session.get(SESSION_KEY), current_cart_id())


def open_checkout() -> Checkout:
    checkout = current_checkout()
    if checkout is None or checkout.status != CheckoutStatus.OPEN:
        raise CheckoutNotFound()
    return checkout


def remember_order(number: str) -> None:
    """This browser placed the order: it may see its confirmation page."""
    numbers = [each for each in session.get(ORDERS_KEY, []) if each != number]
    session[ORDERS_KEY] = [*numbers, number][-REMEMBERED_ORDERS:]


def may_see(order: Order | None) -> bool:
    """The buyer only: the browser that placed it, or its signed-in owner."""
    if order is None:
        return False
    if order.number in session.get(ORDERS_KEY, []):
        return True
    return bool(current_user.is_authenticated and order.user_id == int(current_user.id))

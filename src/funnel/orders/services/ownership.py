"""Guest orders join the account that proves it owns their email.

Accounts sit below orders, so the verification of an email cannot reach the orders; the orders
domain attaches them instead, whenever it lists a customer's orders (the "My orders" page and
``GET /me/orders``). Whichever way an email was verified (the customer's link, staff marking
it), the next list shows the orders.
"""

from __future__ import annotations

from sqlalchemy import select, update

from funnel.accounts import queries as account_queries
from funnel.core.database import transaction
from funnel.extensions import db
from funnel.orders.models import Order


def attach_guest_orders(user_id: int) -> int:
    """Attach to the account ``user_id`` the guest orders (no account) placed with its email,
    compared case-insensitively, once the account's email is verified; an unverified, unknown
    or disabled account gets none. Returns how many orders were attached (0 most of the time:
    one read, and no write unless there is something to attach). Idempotent."""
    user = account_queries.get_user(user_id)
    if user is None or not user.is_email_verified or user.is_disabled:
        return 0
    # Both addresses are stored normalised (lower case): an equality the email index answers.
    guest_orders = (Order.user_id.is_(None), Order.email == user.email.lower())
    if db.session.scalar(select(Order.id).where(*guest_orders).limit(1)) is None:
        return 0
    with transaction():
        result = db.session.execute(
            update(Order)
            .where(*guest_orders)
            .values(user_id=user.id)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount

"""The checkout's periodic job: give up on checkouts left behind.

- An open checkout whose last payment attempt was sent and never answered (no order placed
  yet) is settled at its expiry: the gateway is asked; a payment it took or holds places the
  order after all (or is given back); one it never received is cancelled, once no answer can
  still be on its way.
- An open checkout without an order, untouched for ``ABANDON_AFTER`` past its expiry, is
  ``abandoned`` (its reservations have long stopped counting; the inventory's job deletes them).
- An open checkout whose order's payment was left half-way (the customer never came back from
  3-D Secure, or the payment was never submitted) is given until its expiry; then the order is
  cancelled (the payment voided at the gateway, the stock returned) and the checkout
  abandoned. A payment still ``processing`` is left to its webhook. A payment sent whose
  answer was lost is first looked up at the gateway: charged, the order is paid after all;
  unknown to the gateway, the order is cancelled (once no answer can still be on its way).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from funnel.checkout.attempts import parse_attempt_reference
from funnel.checkout.models import Checkout, CheckoutStatus
from funnel.checkout.services.outcomes import apply_result
from funnel.core import clock
from funnel.core.database import transaction
from funnel.core.errors import DomainError
from funnel.extensions import db
from funnel.orders import services as orders
from funnel.orders.models import Order, OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.gateways import STAFF_SETTLED_GATEWAYS
from funnel.payments.models import Payment, PaymentStatus

log = logging.getLogger(__name__)

ABANDON_AFTER = timedelta(hours=24)
BATCH_SIZE = 200
UNFINISHED = frozenset({PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION})


def _abandon_idle() -> int:
    with transaction():
        result = db.session.execute(
            update(Checkout)
            .where(
                Checkout.status == CheckoutStatus.OPEN,
                Checkout.order_id.is_(None),
                Checkout.expires_at <= clock.utcnow() - ABANDON_AFTER,
            )
            .values(status=CheckoutStatus.ABANDONED, submit_token_hash=None, open_cart_id=None)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount


def _settle_unanswered_attempts() -> int:
    """Settle the unanswered last attempts of expired checkouts (see the module).

    The live payments of attempts are few (an attempt's payment is answered, or handed to its
    order, within the request that made it): they are read by their reference's prefix on
    the unique index, and matched with their checkouts here rather than by a string built in
    SQL (whose collation MariaDB would not compare with the column's)."""
    live = db.session.execute(
        select(Payment.id, Payment.active_payable_reference)
        .where(Payment.active_payable_reference.like("checkout:%"))
        .order_by(Payment.id)
        .limit(BATCH_SIZE)
    ).all()
    attempts = {
        parsed: payment_id
        for payment_id, reference in live
        if (parsed := parse_attempt_reference(reference or "")) is not None
    }
    expired = set(
        db.session.execute(
            select(Checkout.id, Checkout.payment_attempts).where(
                Checkout.id.in_({checkout_id for checkout_id, _ in attempts}),
                Checkout.status == CheckoutStatus.OPEN,
                Checkout.order_id.is_(None),
                Checkout.expires_at <= clock.utcnow(),
            )
        ).tuples()
    )
    db.session.commit()  # end the read: the gateway is asked outside any transaction
    settled = 0
    for checkout_id, attempt in sorted(expired):
        payment_id = attempts.get((checkout_id, attempt))
        if payment_id is None:
            continue
        try:
            result = payments.reconcile_payment(payment_id)
            if result.status == PaymentStatus.PENDING:
                # The gateway never received it: cancelled once no answer can still arrive.
                payments.void_payment(payment_id, reason="not answered before the checkout expired")
            else:
                apply_result(result)
        except DomainError:
            log.exception("could not settle the last attempt of checkout %s", checkout_id)
            continue
        settled += 1
    return settled


def _cancel_unfinished() -> int:
    rows = db.session.execute(
        select(Checkout.id, Order.id, Order.number, Order.payment_gateway)
        .join(Order, Order.id == Checkout.order_id)
        .where(
            Checkout.status == CheckoutStatus.OPEN,
            Checkout.expires_at <= clock.utcnow(),
            Order.status == OrderStatus.PENDING_PAYMENT,
        )
        .order_by(Checkout.id)
        .limit(BATCH_SIZE)
    ).all()
    db.session.commit()  # end the read: cancel_order runs its own transactions
    cancelled = 0
    for checkout_id, order_id, number, gateway in rows:
        payment = payment_queries.live_payment_for(number)
        is_settled_by_staff = gateway in STAFF_SETTLED_GATEWAYS
        if not is_settled_by_staff and payment is not None and payment.is_outcome_unknown:
            try:
                if _settled_by_the_gateway(payment.id):
                    continue
            except DomainError:
                log.exception("could not learn the outcome of the payment of %s", number)
                continue
            payment = payment_queries.live_payment_for(number)
        if is_settled_by_staff or (payment is not None and payment.status not in UNFINISHED):
            continue
        try:
            change = orders.cancel_order(order_id, reason="The payment was not completed in time")
        except DomainError:
            log.exception("could not cancel the unfinished order %s", number)
            continue
        with transaction():
            db.session.execute(
                update(Checkout)
                .where(Checkout.id == checkout_id, Checkout.status == CheckoutStatus.OPEN)
                .values(status=CheckoutStatus.ABANDONED, submit_token_hash=None, open_cart_id=None)
                .execution_options(synchronize_session=False)
            )
        cancelled += int(change.changed)
    return cancelled


def _settled_by_the_gateway(payment_id: int) -> bool:
    """A payment whose answer was lost: ask the gateway, then act on what it says as the
    customer's request would have (paid: the order is paid; processing: left to its webhook).
    True when that settled it; False when the order may still be cancelled (the gateway has
    it awaiting action, or never received it: ``cancel_order`` checks again)."""
    result = payments.reconcile_payment(payment_id)
    if result.is_paid or result.status == PaymentStatus.PROCESSING:
        apply_result(result)
        return True
    return False


def expire_checkouts() -> tuple[int, int]:
    """Abandon idle checkouts, cancel orders whose payment was left half-way, and settle
    attempts never answered.

    Returns ``(abandoned, settled)``: settled counts the orders cancelled and the attempts
    settled. Call outside a transaction (gateway calls).
    """
    cancelled = _cancel_unfinished() + _settle_unanswered_attempts()
    abandoned = _abandon_idle()
    if abandoned or cancelled:
        log.info("checkouts: %d abandoned, %d unfinished orders cancelled", abandoned, cancelled)
    return abandoned, cancelled

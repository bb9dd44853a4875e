"""Refunding an order, in full or in part, through the gateway that took its payment: by
lines (units of some lines, perhaps the shipping, perhaps back to stock) or by an amount."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import StrEnum

from funnel.accounts.permissions import Permission
from funnel.core.database import in_transaction
from funnel.core.errors import DomainError
from funnel.core.money import Money
from funnel.orders.emails import schedule_order_email
from funnel.orders.errors import InvalidOrderInput, OrderPaymentMissing
from funnel.orders.models import NOTE_LENGTH, Order, OrderStatus, RefundStatus
from funnel.orders.services import refund_records, returns
from funnel.orders.services.refund_records import RefundRequest
from funnel.orders.services.results import OrderRefund, RefundLineInput
from funnel.orders.services.state import (
    change_result,
    change_status,
    lock_order,
    order_transaction,
    read_order,
    record_event,
    transition_error,
)
from funnel.orders.services.workflow import check_permission
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.errors import GatewayUnavailable
from funnel.payments.models import PaymentStatus

REFUNDABLE = frozenset(
    {OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.DELIVERED, OrderStatus.REFUNDED}
)
DASHBOARD_TOKEN_LENGTHS = range(16, 65)


class RefundSource(StrEnum):
    """Where a staff refund request comes from: each keeps its own key format."""

    DASHBOARD = "dashboard"  # the order page's form, with a one-time token in the page
    STAFF_API = "staff_api"  # the staff API, with the caller's Idempotency-Key header


def refund_request_key(source: RefundSource, client_key: str, *, staff_user_id: int) -> str:
    """The idempotency key ``refund_order`` is given for a staff request carrying ``client_key``.

    The key is stored for good (``payment_transactions.idempotency_key``) and sent to the
    gateway, so its formats never change: a retry after a deploy must find the first attempt.

    - dashboard: ``order-refund-<token>``, the form's one-time token (16 to 64 printable ASCII
      characters, surrounding spaces ignored);
    - staff API: ``staff-api-refund-<staff_user_id>-<hash>``, the first 40 hex digits of the
      SHA-256 of the header (surrounding spaces ignored): the key column is bounded, and the
      gateway sees no text the caller chose. Keys are per staff member.

    Raises InvalidOrderInput (field ``idempotency_key``) for a dashboard token that is not one.
    """
    key = client_key.strip()
    if source == RefundSource.DASHBOARD:
        if len(key) not in DASHBOARD_TOKEN_LENGTHS or not key.isascii() or not key.isprintable():
            raise InvalidOrderInput(fields={"idempotency_key": ["Reload the page and retry."]})
        return f"order-refund-{key}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"staff-api-refund-{staff_user_id}-{digest}"


def refund_order(
    order: Order | int | str,
    amount: Money | None = None,
    *,
    idempotency_key: str,
    actor_user_id: int | None,
    reason: str = "",
    lines: Sequence[RefundLineInput] = (),
    shipping: bool = False,
    return_number: str | None = None,
) -> OrderRefund:
    """Refund a paid (shipped, delivered) order: ``lines`` (units of some of its lines, each
    perhaps back to stock) and/or its ``shipping``, or else ``amount`` (None: all that is left).

    A line refund's amount is the units' price and their share of the tax (``orders.pricing``);
    never more units of a line than were ordered minus those refunded, the shipping once, and
    never more money than the payment has left. The refund is recorded ``pending`` (holding
    its units) before ``payments.refund_payment`` is called outside any transaction under
    ``idempotency_key``, so that two refunds at once cannot both take the last unit and a
    double submit or a retry with the same key refunds once (the replay returns ``amount``
    zero and changes nothing). When the payment is refunded in full the order becomes
    ``refunded``; a partial refund leaves the status and records an event. Only the units of
    lines with ``restock`` go back to stock. ``return_number`` names a received return the
    refund settles: it becomes ``refunded``, linked to the refund (ReturnNotFound,
    InvalidReturnTransition when it is not one). Call outside ``transaction()``.
    Raises OrderNotFound, InvalidOrderTransition (not paid, or cancelled), InvalidOrderInput
    (amount with lines, amount in another currency or not positive, reason too long, a line
    not of this order, units that cannot go back to stock), RefundExceedsOrder (more units
    than are left, the shipping again), OrderPaymentMissing (no payment that took money),
    PermissionDenied (the actor lacks ``orders.refund``: admins only by default, since a
    refund moves money), and payments' NothingLeftToRefund (refunded in full: the one answer
    however refunds met), RefundExceedsPayment, RefundFailed, GatewayUnavailable (retry with
    the same key: the refund stays under way until then), PaymentIdempotencyKeyReused.
    Side effects: a refund at the gateway, a refund record with its lines, an OrderEvent,
    maybe the status and ``refunded_at``, ``returned`` stock movements, the refund email
    (listing the lines) after commit.
    """
    if in_transaction():
        raise RuntimeError(
            "refund_order() calls the payment gateway: call it outside transaction()"
        )
    check_permission(actor_user_id, Permission.ORDERS_REFUND)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if len(reason) > NOTE_LENGTH:
        raise InvalidOrderInput(fields={"reason": [f"At most {NOTE_LENGTH} characters."]})
    request = RefundRequest(tuple(lines or ()), bool(shipping), amount, reason)
    current = read_order(order)
    if current.status not in REFUNDABLE:
        raise transition_error(current, OrderStatus.REFUNDED)
    if request.is_by_lines and amount is not None:
        raise InvalidOrderInput(
            fields={"amount": ["Refund either items (and shipping) or an amount, not both."]}
        )
    if amount is not None and (
        not isinstance(amount, Money) or amount.currency != current.currency or amount.amount <= 0
    ):
        raise InvalidOrderInput(
            fields={"amount": [f"Give an amount above zero, in {current.currency}."]}
        )
    payment = payment_queries.live_payment_for(current.number)
    if payment is None or payment.status not in {
        PaymentStatus.SUCCEEDED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    }:
        raise OrderPaymentMissing(f"Order {current.number} has no payment that took money.")

    with order_transaction():
        locked = lock_order(current.id)
        if locked.status not in REFUNDABLE:
            raise transition_error(locked, OrderStatus.REFUNDED)
        settled = (
            returns.check_refundable(locked, return_number, idempotency_key)
            if return_number
            else None
        )
        record, is_new = refund_records.reserve(
            locked, payment, request, idempotency_key, actor_user_id
        )
        if settled is not None:
            returns.hold_for_refund(settled, record)
        record_id, to_refund = record.id, Money(record.amount_minor, current.currency)
    try:
        result = payments.refund_payment(
            payment.id, to_refund, idempotency_key, reason=reason, actor_user_id=actor_user_id
        )
    except GatewayUnavailable:
        raise  # the outcome is unknown: the refund stays under way until retried
    except DomainError:
        with order_transaction():
            lock_order(current.id)
            refund_records.release(record_id)
        raise
    is_full = result.payment_status == PaymentStatus.REFUNDED
    note = f"refund of {result.amount.format()}" + (f": {reason}" if reason else "")
    refunded = {
        "refund_amount_minor": result.amount.amount,
        "currency": result.amount.currency,
        "refunded_total_minor": result.refunded.amount,
    }

    with order_transaction():
        locked = lock_order(current.id)
        previous = locked.status
        record = refund_records.find_refund(idempotency_key)
        if (
            record is None
            or record.status != RefundStatus.PENDING
            or (is_new and not result.changed)
        ):
            # A replay (or the key's refund was made before refunds were recorded).
            if record is not None and record.status == RefundStatus.PENDING:
                refund_records.release(record.id)
                record = None
            return OrderRefund(
                change=change_result(locked, previous, False),
                amount=Money.zero(current.currency),
                refunded_total=result.refunded,
                is_full=is_full,
                stock_returned=False,
                refund_id=None if record is None else record.id,
            )
        changed = False
        if is_full and previous in {
            OrderStatus.PAID,
            OrderStatus.FULFILLED,
            OrderStatus.DELIVERED,
        }:
            changed = change_status(
                locked,
                OrderStatus.REFUNDED,
                actor_user_id=actor_user_id,
                note=note,
                details=refunded,
            )
        else:
            # A partial refund is no transition, but the history shows who gave what back.
            record_event(
                locked,
                previous,
                previous,
                actor_user_id=actor_user_id,
                note=note,
                action="order.refunded_partly",
                details=refunded,
            )
        returned = refund_records.settle(record, locked, actor_user_id, note)
        if return_number:
            returns.settle_with_refund(locked, return_number, record, actor_user_id)
        schedule_order_email(
            "refunded", locked.id, refund_minor=result.amount.amount, refund_id=record.id
        )
        return OrderRefund(
            change=change_result(locked, previous, changed),
            amount=result.amount,
            refunded_total=result.refunded,
            is_full=is_full,
            stock_returned=returned,
            refund_id=record.id,
        )

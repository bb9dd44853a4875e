"""Refunds: all or part of a succeeded payment, once per idempotency key, never more than paid.

Three steps, so that no row lock is held during the gateway call:

1. reserve the amount (``refund_pending_minor``) with one conditional UPDATE that refuses to
   pass the payment's amount, and record a ``pending`` refund transaction under the key;
2. call the gateway with the same key (a retry gets the first answer);
3. settle: move the amount from pending to ``refunded_minor`` and the status to
   ``partially_refunded`` or ``refunded``, or release it when the gateway refused.

A crash between the steps leaves a pending transaction: calling ``refund_payment`` again with
the same key resumes it.
"""

from __future__ import annotations

from sqlalchemy import select, update

from funnel.core import metrics
from funnel.core.database import in_transaction, transaction
from funnel.core.money import Money
from funnel.extensions import db
from funnel.payments.errors import (
    InvalidPaymentInput,
    InvalidTransition,
    NothingLeftToRefund,
    PaymentIdempotencyKeyReused,
    PaymentNotFound,
    RefundExceedsPayment,
    RefundFailed,
)
from funnel.payments.gateways import get_gateway
from funnel.payments.models import (
    Payment,
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)
from funnel.payments.services import state
from funnel.payments.services.results import RefundResult, refund_result

REFUNDABLE = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


def _existing(idempotency_key: str, lock: bool = True) -> PaymentTransaction | None:
    statement = select(PaymentTransaction).where(
        PaymentTransaction.idempotency_key == idempotency_key
    )
    if lock:
        statement = statement.with_for_update()
    return db.session.scalar(statement.execution_options(populate_existing=True))


def _check(transaction: PaymentTransaction, payment_id: int, amount: Money) -> None:
    same = (transaction.kind, transaction.payment_id, transaction.amount) == (
        TransactionKind.REFUND,
        payment_id,
        amount,
    )
    if not same:
        raise PaymentIdempotencyKeyReused()


def _reserve(
    payment_id: int, amount: Money, key: str, reason: str, actor_user_id: int | None
) -> tuple[PaymentTransaction, bool]:
    """Step 1. Returns the refund transaction and whether it is new."""
    with transaction():
        # Lock the payment first: refunds of one payment queue here, so the plain read of the
        # key below cannot race (a locking read of a missing key would take a gap lock).
        payment = state.lock_payment(payment_id)
        existing = _existing(key, lock=False)
        if existing is not None:
            _check(existing, payment_id, amount)
            return existing, False
        if payment.status == PaymentStatus.REFUNDED:
            raise NothingLeftToRefund("This payment has been refunded in full.")
        if payment.status not in REFUNDABLE:
            raise InvalidTransition(f"A payment that is {payment.status.value} cannot be refunded.")
        if amount.currency != payment.currency:
            raise InvalidPaymentInput(fields={"amount": [f"Refund in {payment.currency}."]})
        reserved = db.session.execute(
            update(Payment)
            .where(
                Payment.id == payment_id,
                Payment.status.in_(REFUNDABLE),
                Payment.refunded_minor + Payment.refund_pending_minor + amount.amount
                <= Payment.amount_minor,
            )
            .values(refund_pending_minor=Payment.refund_pending_minor + amount.amount)
            .execution_options(synchronize_session=False)
        )
        if reserved.rowcount != 1:
            if payment.refundable.amount <= 0:
                raise NothingLeftToRefund(
                    "What was paid is refunded or being refunded by another request."
                )
            raise RefundExceedsPayment(
                f"At most {payment.refundable.format()} can still be refunded."
            )
        refund = state.record_transaction(
            payment,
            TransactionKind.REFUND,
            TransactionStatus.PENDING,
            key,
            amount_minor=amount.amount,
            reason=reason,
            actor_user_id=actor_user_id,
        )
        if refund is None:
            # The same key, at the same moment, from another request: undo ours, use theirs.
            raise _SameKeyRace()
        return refund, True


class _SameKeyRace(Exception):
    pass


def refund_payment(
    payment_id: int,
    amount: Money,
    idempotency_key: str,
    *,
    reason: str = "",
    actor_user_id: int | None = None,
) -> RefundResult:
    """Refund ``amount`` of a succeeded payment through its gateway, once per key.

    The same key again returns the first refund (``changed`` False), resuming it if it was
    interrupted. Call outside ``transaction()``.
    Raises InvalidPaymentInput (amount not positive, other currency), InvalidTransition (the
    payment is not succeeded or partially refunded), NothingLeftToRefund (refunded in full, or
    the rest is held by refunds under way), RefundExceedsPayment, PaymentIdempotencyKeyReused
    (the key was used for another refund), RefundFailed (the gateway refused; nothing refunded,
    the amount is released), GatewayUnavailable (retry with the same key), PaymentNotFound.
    Side effects: a refund transaction; the payment's refunded amount and status.
    """
    if in_transaction():
        raise RuntimeError("refund_payment() calls the gateway: call it outside transaction()")
    if not isinstance(amount, Money) or amount.amount <= 0:
        raise InvalidPaymentInput(fields={"amount": ["The refund must be more than zero."]})
    if not isinstance(idempotency_key, str) or not 8 <= len(idempotency_key) <= 200:
        raise InvalidPaymentInput(fields={"idempotency_key": ["Use 8 to 200 characters."]})
    try:
        refund, is_new = _reserve(payment_id, amount, idempotency_key, reason, actor_user_id)
    except _SameKeyRace:
        refund, is_new = _reserve(payment_id, amount, idempotency_key, reason, actor_user_id)
    payment = db.session.get(Payment, payment_id, populate_existing=True)
    if payment is None:
        raise PaymentNotFound()
    if refund.status != TransactionStatus.PENDING:
        return refund_result(refund, payment, changed=False)

    operation = get_gateway(payment.gateway).refund(
        payment.gateway_payment_id or "", amount, idempotency_key
    )
    with transaction():
        locked = state.lock_payment(payment_id)
        refund = _existing(idempotency_key)
        assert refund is not None
        if refund.status != TransactionStatus.PENDING:
            return refund_result(refund, locked, changed=False)
        if not operation.is_successful:
            refund.status = TransactionStatus.FAILED
            refund.failure_code = (operation.failure_code or "refund_failed")[:64]
            db.session.execute(
                update(Payment)
                .where(Payment.id == payment_id)
                .values(refund_pending_minor=Payment.refund_pending_minor - amount.amount)
                .execution_options(synchronize_session=False)
            )
            failed = True
            metrics.refund_outcome(locked.gateway, "failed", amount.amount, amount.currency)
        else:
            refund.status = TransactionStatus.SUCCEEDED
            refund.gateway_reference = operation.gateway_reference
            refunded = locked.refunded_minor + amount.amount
            target = (
                PaymentStatus.REFUNDED
                if refunded >= locked.amount_minor
                else PaymentStatus.PARTIALLY_REFUNDED
            )
            changed = state.change_status(
                locked,
                target,
                reason=f"refund of {amount.format()}" + (f": {reason}" if reason else ""),
                actor="staff" if actor_user_id else "system",
                actor_user_id=actor_user_id,
                values={
                    "refunded_minor": Payment.refunded_minor + amount.amount,
                    "refund_pending_minor": Payment.refund_pending_minor - amount.amount,
                },
            )
            if not changed:
                raise RuntimeError("refund could not be settled: the payment row moved")
            failed = False
            metrics.refund_outcome(locked.gateway, "succeeded", amount.amount, amount.currency)
        db.session.flush()
        result = refund_result(refund, state.lock_payment(payment_id), changed=is_new)
    if failed:
        raise RefundFailed()
    return result

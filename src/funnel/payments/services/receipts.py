"""Bank transfers received, perhaps in parts: staff record each sum as it reaches the account.

A receipt is a ``charge`` transaction with the day the funds arrived (``received_on``); the
payment's ``received_minor`` adds them up, and the payment succeeds when it reaches the
amount. Each receipt is recorded under its request key, so a double submit or a retry of the
same receipt records it once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.extensions import db
from funnel.payments.errors import (
    InvalidPaymentInput,
    InvalidTransition,
    ManualAmountAboveDue,
    ManualAmountMismatch,
)
from funnel.payments.gateways import STAFF_SETTLED_GATEWAYS
from funnel.payments.models import (
    Payment,
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)
from funnel.payments.services import state
from funnel.payments.services.results import PaymentResult, payment_result

BANK_TRANSFER = "manual"


@dataclass(frozen=True)
class Receipt:
    """What recording a sum received did: ``changed`` False for a receipt already recorded
    under its key; ``received_before`` and ``received`` are the totals before and after;
    ``is_complete`` once the payment has its whole amount (it succeeded)."""

    payment_id: int
    changed: bool
    amount: Money
    received_before: Money
    received: Money
    still_due: Money
    is_complete: bool


def receipt_key(payment: Payment, request_key: str) -> str:
    """The transaction key of one request's receipt (bounded, whatever the request key)."""
    digest = hashlib.sha256(request_key.encode()).hexdigest()[:40]
    return f"receipt:{payment.id}:{digest}"


def _outcome(payment: Payment, amount: Money, before: int, changed: bool) -> Receipt:
    currency = payment.currency
    return Receipt(
        payment_id=payment.id,
        changed=changed,
        amount=amount,
        received_before=Money(before, currency),
        received=payment.received,
        still_due=payment.still_due,
        is_complete=payment.status != PaymentStatus.PENDING,
    )


def record_bank_transfer(
    payment_id: int,
    by_user_id: int,
    *,
    amount: Money | None,
    received_on: date,
    request_key: str,
    is_partial: bool = False,
    note: str = "",
) -> Receipt:
    """Record ``amount`` (None: all that is still due) of a pending bank transfer, received
    on ``received_on``. Less than is still due is refused unless ``is_partial`` (the payment
    stays pending, with what it received so far); reaching the amount, it succeeds.
    The same ``request_key`` again records nothing (``changed`` False). Joins the caller's
    transaction.
    Raises InvalidTransition (not a bank transfer, or not pending), InvalidPaymentInput (an
    amount of zero or less, or in another currency), ManualAmountMismatch (less than is due,
    not confirmed as partial), ManualAmountAboveDue (more than is still due).
    Side effects: a charge transaction with the day received; ``received_minor``; at the full
    amount, the status change to ``succeeded`` by the user.
    """
    with transaction():
        payment = state.lock_payment(payment_id)
        key = receipt_key(payment, request_key)
        already = db.session.scalar(
            select(PaymentTransaction).where(PaymentTransaction.idempotency_key == key)
        )
        if already is not None:
            return _outcome(payment, already.amount, payment.received_minor, changed=False)
        if payment.gateway != BANK_TRANSFER:
            raise InvalidTransition("Only a bank transfer is received in parts.")
        if payment.status != PaymentStatus.PENDING:
            raise InvalidTransition(
                f"A payment that is {payment.status.value} has nothing left to receive."
            )
        due = payment.still_due
        amount = due if amount is None else amount
        if amount.currency != payment.currency or amount.amount <= 0:
            raise InvalidPaymentInput(
                f"Give an amount in {payment.currency}, more than zero.",
                fields={"amount_received": [f"Give an amount in {payment.currency}, above 0."]},
            )
        if amount.amount > due.amount:
            raise ManualAmountAboveDue(
                f"{amount.format()} received is more than the {due.format()} still due: "
                "record at most what is due, and return the difference to the customer.",
                fields={"amount_received": [f"At most {due.format()} is still due."]},
            )
        if amount.amount < due.amount and not is_partial:
            raise ManualAmountMismatch(
                f"{amount.format()} received, {due.format()} still due: confirm it as a "
                "partial payment, or record the amount due.",
                fields={"is_partial": ["Confirm that this is a partial payment."]},
            )
        before = payment.received_minor
        state.record_transaction(
            payment,
            TransactionKind.CHARGE,
            TransactionStatus.SUCCEEDED,
            key,
            amount_minor=amount.amount,
            gateway_reference=payment.gateway_payment_id,
            reason=note or "bank transfer received",
            actor_user_id=by_user_id,
            received_on=received_on,
        )
        db.session.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(received_minor=Payment.received_minor + amount.amount)
            .execution_options(synchronize_session=False)
        )
        db.session.expire(payment)
        if before + amount.amount == payment.amount_minor:
            state.change_status(
                payment,
                PaymentStatus.SUCCEEDED,
                reason=note or "funds received",
                actor="staff",
                actor_user_id=by_user_id,
            )
        return _outcome(payment, amount, before, changed=True)


def mark_manual_payment_received(
    payment_id: int,
    by_user_id: int,
    *,
    amount_received: Money | None = None,
    note: str = "",
) -> PaymentResult:
    """Staff record the funds of an offline payment (``manual``: a bank transfer; ``cod``:
    cash at delivery): it succeeds.

    Marking a payment already received changes nothing (``changed`` is False).
    Raises InvalidTransition (not a manual payment, or cancelled/failed), ManualAmountMismatch
    (``amount_received`` differs from the amount due), PaymentNotFound.
    Side effects: a charge transaction and a status change to ``succeeded`` by the user.
    """
    with transaction():
        payment = state.lock_payment(payment_id)
        if payment.gateway not in STAFF_SETTLED_GATEWAYS:
            raise InvalidTransition("Only bank transfer and cash payments are marked received.")
        if amount_received is not None and amount_received != payment.amount:
            raise ManualAmountMismatch(
                f"{amount_received.format()} received, {payment.amount.format()} due."
            )
        previous = payment.status
        if previous != PaymentStatus.PENDING:
            if previous in {
                PaymentStatus.SUCCEEDED,
                PaymentStatus.PARTIALLY_REFUNDED,
                PaymentStatus.REFUNDED,
            }:
                return payment_result(payment)
            raise InvalidTransition(f"A payment that is {previous.value} cannot be marked paid.")
        changed = state.change_status(
            payment,
            PaymentStatus.SUCCEEDED,
            reason=note or "funds received",
            actor="staff",
            actor_user_id=by_user_id,
        )
        if changed:
            state.record_transaction(
                payment,
                TransactionKind.CHARGE,
                TransactionStatus.SUCCEEDED,
                f"{payment.idempotency_key}:charge",
                gateway_reference=payment.gateway_payment_id,
                reason=note or "funds received",
                actor_user_id=by_user_id,
            )
        return payment_result(payment, previous, changed)

"""The payment state machine: the one place where a payment's status changes.

A change is one conditional UPDATE (``... WHERE id = :id AND status = :from``) whose row count
says whether this caller made it: when the confirm path and the webhook path race for the same
payment, one of them changes it and the other sees it already moved. Each change writes a
``PaymentEvent`` row in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from funnel.core import metrics
from funnel.extensions import db
from funnel.payments.errors import InvalidTransition, PaymentNotFound
from funnel.payments.gateways.base import GatewayOutcome, OutcomeStatus
from funnel.payments.models import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)
from funnel.payments.services.results import PaymentResult, payment_result

log = logging.getLogger(__name__)

S = PaymentStatus
TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.PENDING: frozenset(
        {S.REQUIRES_ACTION, S.PROCESSING, S.AUTHORIZED, S.SUCCEEDED, S.FAILED, S.CANCELLED}
    ),
    S.REQUIRES_ACTION: frozenset({S.PROCESSING, S.AUTHORIZED, S.SUCCEEDED, S.FAILED, S.CANCELLED}),
    S.PROCESSING: frozenset({S.AUTHORIZED, S.SUCCEEDED, S.FAILED, S.CANCELLED}),
    S.AUTHORIZED: frozenset({S.SUCCEEDED, S.CANCELLED}),
    S.SUCCEEDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}
_FROM_OUTCOME = {
    OutcomeStatus.SUCCEEDED: S.SUCCEEDED,
    OutcomeStatus.AUTHORIZED: S.AUTHORIZED,
    OutcomeStatus.REQUIRES_ACTION: S.REQUIRES_ACTION,
    OutcomeStatus.PROCESSING: S.PROCESSING,
    OutcomeStatus.PENDING: S.PENDING,
    OutcomeStatus.FAILED: S.FAILED,
    OutcomeStatus.CANCELLED: S.CANCELLED,
}

# The charge's outcomes, counted by gateway (refunds are counted as refunds).
_COUNTED_OUTCOMES = frozenset({S.SUCCEEDED, S.AUTHORIZED, S.FAILED, S.CANCELLED})


def can_change(from_status: PaymentStatus, to_status: PaymentStatus) -> bool:
    return to_status in TRANSITIONS[from_status]


def lock_payment(payment_id: int) -> Payment:
    """The payment, freshly read and locked for this transaction. Raises PaymentNotFound."""
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None:
        raise PaymentNotFound()
    return payment


def change_status(
    payment: Payment,
    to_status: PaymentStatus,
    *,
    reason: str,
    actor: str,
    actor_user_id: int | None = None,
    values: dict[str, Any] | None = None,
) -> bool:
    """Move ``payment`` to ``to_status`` (with ``values``) if it is still in the status read.

    Returns False when another transaction changed it first. Raises InvalidTransition when the
    state machine forbids the move. Side effects: one UPDATE and one PaymentEvent row.
    """
    from_status = payment.status
    if not can_change(from_status, to_status):
        raise InvalidTransition(
            f"A payment that is {from_status.value} cannot become {to_status.value}."
        )
    changes = dict(values or {})
    changes["status"] = to_status
    if to_status in {S.FAILED, S.CANCELLED}:
        changes["active_payable_reference"] = None
    if to_status == S.SUCCEEDED:
        changes["received_minor"] = Payment.amount_minor  # it has all its money now
    result = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status == from_status)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.expire(payment)
        return False
    db.session.add(
        PaymentEvent(
            payment_id=payment.id,
            from_status=from_status.value,
            to_status=to_status.value,
            reason=reason[:255],
            actor=actor[:64],
            actor_user_id=actor_user_id,
        )
    )
    db.session.flush()
    if to_status in _COUNTED_OUTCOMES:
        metrics.payment_outcome(
            payment.gateway, to_status.value, payment.amount_minor, payment.currency
        )
    db.session.expire(payment)
    log.info(
        "payment %s: %s -> %s (%s)", payment.public_id, from_status.value, to_status.value, actor
    )
    return True


def record_transaction(
    payment: Payment,
    kind: TransactionKind,
    status: TransactionStatus,
    idempotency_key: str,
    *,
    amount_minor: int | None = None,
    gateway_reference: str | None = None,
    failure_code: str | None = None,
    reason: str = "",
    actor_user_id: int | None = None,
    received_on: date | None = None,
) -> PaymentTransaction | None:
    """Add a transaction row once per key; None when the key is already recorded."""
    transaction = PaymentTransaction(
        payment_id=payment.id,
        kind=kind,
        status=status,
        amount_minor=payment.amount_minor if amount_minor is None else amount_minor,
        currency=payment.currency,
        idempotency_key=idempotency_key,
        gateway_reference=gateway_reference,
        failure_code=failure_code,
        reason=reason[:255],
        actor_user_id=actor_user_id,
        received_on=received_on,
    )
    try:
        with db.session.begin_nested():
            db.session.add(transaction)
    except IntegrityError:
        return None
    return transaction


def apply_outcome(
    payment: Payment, outcome: GatewayOutcome, *, reason: str, actor: str
) -> PaymentResult:
    """Record what the gateway says about a locked ``payment``.

    An outcome the payment has moved past (a late "processing" after a webhook's "succeeded",
    a "succeeded" after a refund) changes nothing: gateways deliver out of order.
    """
    previous = payment.status
    target = _FROM_OUTCOME[outcome.status]
    values: dict[str, Any] = {}
    if payment.gateway_payment_id is None:
        values["gateway_payment_id"] = outcome.gateway_payment_id
    if outcome.card_brand and payment.card_brand is None:
        values["card_brand"] = outcome.card_brand[:20]
        values["card_last4"] = (outcome.card_last4 or "")[:4] or None
    if target == S.REQUIRES_ACTION:
        values["next_action_url"] = outcome.next_action_url
    if target == S.FAILED:
        values["failure_code"] = (outcome.failure_code or "payment_failed")[:64]
        values["failure_message"] = (outcome.failure_message or "The payment did not go through.")[
            :255
        ]

    if target == previous or not can_change(previous, target):
        if values and target == previous:
            db.session.execute(
                update(Payment)
                .where(Payment.id == payment.id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            db.session.expire(payment)
        elif target != previous:
            log.info(
                "payment %s: %s outcome ignored, already %s",
                payment.public_id,
                target.value,
                previous.value,
            )
        return payment_result(payment, previous, changed=False)

    changed = change_status(payment, target, reason=reason, actor=actor, values=values)
    if changed and target in {S.SUCCEEDED, S.AUTHORIZED, S.FAILED}:
        record_transaction(
            payment,
            TransactionKind.CHARGE,
            TransactionStatus.FAILED if target == S.FAILED else TransactionStatus.SUCCEEDED,
            f"{payment.idempotency_key}:charge",
            gateway_reference=payment.gateway_payment_id or outcome.gateway_payment_id,
            failure_code=values.get("failure_code"),
            reason=reason,
        )
    return payment_result(payment, previous, changed=changed)


def record_created(payment: Payment) -> None:
    """The first event of a payment: created ``pending``."""
    db.session.add(
        PaymentEvent(
            payment_id=payment.id,
            from_status=None,
            to_status=payment.status.value,
            reason="created",
            actor="system",
        )
    )

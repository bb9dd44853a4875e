"""Charges found in a gateway's own records that our books do not show as taken.

Reconciliation (the checkout's job) lists what the gateway charged and hands here the charges
whose payment never recorded its success:

- ``record_found_charge``: the payment is still awaiting its outcome (the customer's return and
  the webhook were both lost, or our commit was): it becomes ``succeeded`` with one event, as
  the webhook would have made it;
- ``refund_stray_charge``: the payment had ended ``failed`` or ``cancelled`` in our books, yet
  the gateway took the money (a customer who tried the card again in the gateway's own form
  after we recorded a decline): it is given back in full at the gateway, under a key derived
  from the charge, and recorded as a refund transaction of that payment. Its status stays as it
  is: in our books it never took money.
"""

from __future__ import annotations

from sqlalchemy import select

from funnel.core import metrics
from funnel.core.database import in_transaction, transaction
from funnel.extensions import db
from funnel.payments.errors import InvalidTransition, RefundFailed
from funnel.payments.gateways import get_gateway
from funnel.payments.gateways.base import GatewayCharge, GatewayOutcome, OutcomeStatus
from funnel.payments.models import (
    Payment,
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)
from funnel.payments.services import state
from funnel.payments.services.results import PaymentResult
from funnel.payments.services.submissions import current_payment

ENDED = frozenset({PaymentStatus.FAILED, PaymentStatus.CANCELLED})


def charge_refund_key(gateway_payment_id: str) -> str:
    """The idempotency key of the refund of a charge found unhonoured: one per charge, so
    that every run (and a run racing another) asks the gateway for the same one refund."""
    return f"charge:{gateway_payment_id}:refund"


def _check_same(payment: Payment, charge: GatewayCharge) -> None:
    if payment.gateway_payment_id not in (None, charge.gateway_payment_id):
        raise InvalidTransition("The charge belongs to another gateway payment.")
    if payment.amount != charge.amount:
        raise InvalidTransition(
            f"The gateway charged {charge.amount.format()}, the payment is for "
            f"{payment.amount.format()}."
        )


def record_found_charge(payment_id: int, charge: GatewayCharge) -> PaymentResult:
    """Record that the gateway took ``charge`` for a payment still awaiting its outcome.

    A payment already succeeded (or refunded since) is returned unchanged (``changed`` False).
    Raises InvalidTransition (the charge is not this payment's, its amount differs, or the
    payment ended failed or cancelled: see ``refund_stray_charge``), PaymentNotFound.
    Side effects: the payment's status, gateway id and one PaymentEvent; its charge transaction.
    """
    with transaction():
        payment = state.lock_payment(payment_id)
        _check_same(payment, charge)
        if payment.status in ENDED:
            raise InvalidTransition(f"A payment that is {payment.status.value} took no money.")
        outcome = GatewayOutcome(OutcomeStatus.SUCCEEDED, charge.gateway_payment_id)
        return state.apply_outcome(
            payment,
            outcome,
            reason="found succeeded in the gateway's records",
            actor=f"gateway:{payment.gateway}",
        )


def refund_stray_charge(payment_id: int, charge: GatewayCharge, *, reason: str) -> bool:
    """Give back at the gateway what ``charge`` took for a payment that ended failed or
    cancelled, once per charge; True when this call recorded the refund.

    Call outside ``transaction()``. Raises InvalidTransition (the payment is not failed or
    cancelled, or the charge is not its own), RefundFailed (the gateway refused),
    GatewayUnavailable (retry: the same key asks for the same refund), PaymentNotFound.
    Side effects: a refund at the gateway; a refund transaction under ``charge_refund_key``.
    """
    if in_transaction():
        raise RuntimeError("refund_stray_charge() calls the gateway: call it outside transaction()")
    key = charge_refund_key(charge.gateway_payment_id)
    payment = current_payment(payment_id)
    recorded = db.session.scalar(
        select(PaymentTransaction.id).where(PaymentTransaction.idempotency_key == key)
    )
    if recorded is not None:
        return False
    if payment.status not in ENDED:
        raise InvalidTransition(f"A payment that is {payment.status.value} is refunded as usual.")
    if payment.gateway_payment_id not in (None, charge.gateway_payment_id):
        raise InvalidTransition("The charge belongs to another gateway payment.")
    amount = charge.amount - charge.refunded
    operation = get_gateway(payment.gateway).refund(charge.gateway_payment_id, amount, key)
    if not operation.is_successful:
        metrics.refund_outcome(payment.gateway, "failed", amount.amount, amount.currency)
        raise RefundFailed()
    with transaction():
        locked = state.lock_payment(payment_id)
        added = state.record_transaction(
            locked,
            TransactionKind.REFUND,
            TransactionStatus.SUCCEEDED,
            key,
            amount_minor=amount.amount,
            gateway_reference=operation.gateway_reference,
            reason=reason,
        )
        if added is not None:
            metrics.refund_outcome(locked.gateway, "succeeded", amount.amount, amount.currency)
        return added is not None

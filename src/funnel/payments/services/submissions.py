"""Payments whose gateway answer was lost: recorded as sent before the call, asked about after.

A worker can die (or be killed by the server's timeout) after the gateway took the money and
before the shop stored the gateway's answer. So ``submit_payment`` first commits
``submitted_at``, then calls the gateway. A payment still ``pending`` with ``submitted_at`` and
no gateway id has an unknown outcome: ``reconcile_payment`` asks the gateway by our idempotency
key (``find_payment``) and records what it says, and nothing cancels such a payment before
asking. A gateway that has no trace of it after ``SUBMISSION_TIMEOUT`` never received it (no
request of ours runs that long); before then the call may still be on its way, and the
payment is left alone (``GatewayUnavailable``: try again later).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from funnel.core import clock
from funnel.core.database import transaction
from funnel.extensions import db
from funnel.payments.errors import GatewayUnavailable, PaymentNotFound
from funnel.payments.gateways import get_gateway
from funnel.payments.models import Payment
from funnel.payments.services import state
from funnel.payments.services.results import PaymentResult, payment_result

# Longer than any request may run (gunicorn's timeout, 30 s by default, ends it sooner).
SUBMISSION_TIMEOUT = timedelta(minutes=5)


def current_payment(payment_id: int) -> Payment:
    """The payment as committed now. Raises PaymentNotFound."""
    payment = db.session.scalar(
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    )
    if payment is None:
        raise PaymentNotFound()
    return payment


def mark_submitted(payment_id: int) -> bool:
    """Commit that the payment is being sent, before the gateway call; True the first time."""
    with transaction():
        marked = db.session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.submitted_at.is_(None))
            .values(submitted_at=clock.utcnow())
            .execution_options(synchronize_session=False)
        )
        return marked.rowcount == 1


def forget_submission(payment_id: int) -> None:
    """The gateway refused the first sending outright (an invalid card): nothing was created
    there. (After a lost answer the mark stays: that first sending may have charged.)"""
    with transaction():
        db.session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.gateway_payment_id.is_(None))
            .values(submitted_at=None)
            .execution_options(synchronize_session=False)
        )


def reconcile_payment(payment_id: int) -> PaymentResult:
    """Ask the gateway what became of a payment whose answer was lost, and record it.

    A payment whose outcome is known is returned as it is. When the gateway has the payment,
    its state is recorded (succeeded, authorised, awaiting action, failed ...), with the gateway
    id. When it has none, the payment stays as it is (``is_outcome_unknown`` stays True: see
    ``may_give_up``). Call outside ``transaction()``.
    Raises GatewayUnavailable, PaymentNotFound.
    """
    payment = current_payment(payment_id)
    if not payment.is_outcome_unknown:
        return payment_result(payment)
    gateway = get_gateway(payment.gateway)
    outcome = gateway.find_payment(payment.idempotency_key)
    if outcome is None:
        return payment_result(payment)
    with transaction():
        locked = state.lock_payment(payment_id)
        return state.apply_outcome(
            locked,
            outcome,
            reason="found at the gateway after its answer was lost",
            actor=f"gateway:{gateway.name}",
        )


def check_may_give_up(payment: Payment) -> None:
    """Raise GatewayUnavailable while a payment the gateway has no trace of was sent too
    recently to be sure it never arrives (see the module)."""
    if not payment.is_outcome_unknown or payment.submitted_at is None:
        return
    if clock.utcnow() - payment.submitted_at < SUBMISSION_TIMEOUT:
        raise GatewayUnavailable(
            "The payment's outcome is not known yet: the gateway has not answered. "
            "Try again in a few minutes."
        )

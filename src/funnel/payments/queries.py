"""Reads of payments (no writes): for checkout, staff pages and jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from funnel.core import clock
from funnel.extensions import db
from funnel.payments.errors import PaymentNotFound
from funnel.payments.models import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)

DEFAULT_MANUAL_PAYMENT_DAYS = 7


def get_payment(payment_id: int) -> Payment:
    """Raises PaymentNotFound."""
    payment = db.session.get(Payment, payment_id, populate_existing=True)
    if payment is None:
        raise PaymentNotFound()
    return payment


def payment_by_public_id(public_id: str) -> Payment:
    """Raises PaymentNotFound."""
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.public_id == public_id[:32])
        .execution_options(populate_existing=True)
    )
    if payment is None:
        raise PaymentNotFound()
    return payment


def payment_for_charge(
    gateway: str, gateway_payment_id: str, public_id: str | None
) -> Payment | None:
    """Our payment of a charge in the gateway's records: by the gateway's id, else (its answer
    lost before we stored that id) by our id in the charge's metadata; None for a charge the
    shop never made."""
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.gateway == gateway, Payment.gateway_payment_id == gateway_payment_id[:255])
        .execution_options(populate_existing=True)
    )
    if payment is not None or not public_id:
        return payment
    return db.session.scalar(
        select(Payment)
        .where(Payment.gateway == gateway, Payment.public_id == public_id[:32])
        .execution_options(populate_existing=True)
    )


def payment_by_key(idempotency_key: str) -> Payment | None:
    """The payment made under our idempotency key, if any."""
    return db.session.scalar(
        select(Payment)
        .where(Payment.idempotency_key == idempotency_key)
        .execution_options(populate_existing=True)
    )


def succeeded_payments(
    gateway: str, created_since: datetime, settled_before: datetime
) -> list[Payment]:
    """The payments through ``gateway`` created from ``created_since`` that had succeeded
    before ``settled_before`` (and still are), oldest first: each must have a charge in the
    gateway's list (index ``payments (gateway, status, created_at)``)."""
    return list(
        db.session.scalars(
            select(Payment)
            .where(
                Payment.gateway == gateway,
                Payment.status == PaymentStatus.SUCCEEDED,
                Payment.created_at >= created_since,
                Payment.updated_at < settled_before,
            )
            .order_by(Payment.created_at, Payment.id)
        )
    )


def payments_for(payable_reference: str) -> list[Payment]:
    """Every payment attempt for a payable, oldest first."""
    return list(
        db.session.scalars(
            select(Payment)
            .where(Payment.payable_reference == payable_reference)
            .order_by(Payment.created_at, Payment.id)
            .execution_options(populate_existing=True)
        )
    )


def refunds_recorded(payment_id: int) -> int:
    """What our books say was refunded of a payment, in minor units: its refund transactions
    that succeeded or are on their way (a stray charge's refund included)."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(PaymentTransaction.amount_minor), 0)).where(
            PaymentTransaction.payment_id == payment_id,
            PaymentTransaction.kind == TransactionKind.REFUND,
            PaymentTransaction.status.in_((TransactionStatus.SUCCEEDED, TransactionStatus.PENDING)),
        )
    )
    return int(total or 0)


def live_payment_for(payable_reference: str) -> Payment | None:
    """The payable's payment that is paid or may still be paid (at most one), if any."""
    return db.session.scalar(
        select(Payment)
        .where(Payment.active_payable_reference == payable_reference)
        .execution_options(populate_existing=True)
    )


def payment_history(payment_id: int) -> list[PaymentEvent]:
    return list(
        db.session.scalars(
            select(PaymentEvent)
            .where(PaymentEvent.payment_id == payment_id)
            .order_by(PaymentEvent.id)
        )
    )


def payment_transactions(payment_id: int) -> list[PaymentTransaction]:
    return list(
        db.session.scalars(
            select(PaymentTransaction)
            .where(PaymentTransaction.payment_id == payment_id)
            .order_by(PaymentTransaction.id)
        )
    )


def manual_payment_days() -> int:
    return int(current_app.config.get("MANUAL_PAYMENT_DAYS", DEFAULT_MANUAL_PAYMENT_DAYS))


def overdue_manual_payments(
    at: datetime | None = None, limit: int = 500, *, partly_received: bool = False
) -> list[Payment]:
    """Manual payments (bank transfers) still pending after ``MANUAL_PAYMENT_DAYS``, oldest
    first: checkout cancels their payables (and ``void_payment`` cancels each payment). Cash
    on delivery (``cod``) is not among them: it is paid when the parcel arrives.
    ``partly_received``: instead, those that received part of their amount, which no job
    cancels (the customer's money would be kept): staff settle them."""
    cutoff = (at or clock.utcnow()) - timedelta(days=manual_payment_days())
    received = Payment.received_minor > 0 if partly_received else Payment.received_minor == 0
    return list(
        db.session.scalars(
            select(Payment)
            .where(
                Payment.gateway == "manual",
                Payment.status == PaymentStatus.PENDING,
                Payment.created_at < cutoff,
                received,
            )
            .order_by(Payment.created_at, Payment.id)
            .limit(limit)
        )
    )


def bank_transfer_receipts(payment_id: int) -> list[PaymentTransaction]:
    """The sums an offline payment received, with the day each arrived, oldest first."""
    return list(
        db.session.scalars(
            select(PaymentTransaction)
            .where(
                PaymentTransaction.payment_id == payment_id,
                PaymentTransaction.kind == TransactionKind.CHARGE,
                PaymentTransaction.status == TransactionStatus.SUCCEEDED,
            )
            .order_by(PaymentTransaction.id)
        )
    )

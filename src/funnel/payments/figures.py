"""Reads for the reports: how the payments started with each payment method ended.

A payment is one attempt to pay (a checkout's submission, an order's payment through the API):
it counts at the instant it was created, in the state it is in now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from funnel.extensions import db
from funnel.payments.models import Payment, PaymentStatus

# Paid: the money was taken (perhaps given back since, which is the refunds' business).
PAID = frozenset(
    {
        PaymentStatus.AUTHORIZED,
        PaymentStatus.SUCCEEDED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    }
)
# Not ended yet: waiting for the shopper, the bank or staff.
OPEN = frozenset({PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING})


@dataclass(frozen=True)
class MethodAttempts:
    """The payments started with one method (gateway) in a range, by how they ended."""

    gateway: str
    attempts: int
    paid: int
    failed: int
    cancelled: int
    still_open: int


def attempts_by_method(start: datetime, end: datetime) -> list[MethodAttempts]:
    """Every method with a payment created in ``[start, end)`` (timezone-aware), by name.
    One grouped query."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("attempts_by_method needs timezone-aware datetimes")
    rows = db.session.execute(
        select(Payment.gateway, Payment.status, func.count())
        .where(Payment.created_at >= start, Payment.created_at < end)
        .group_by(Payment.gateway, Payment.status)
    ).tuples()
    counts: dict[str, dict[PaymentStatus, int]] = {}
    for gateway, status, count in rows:
        counts.setdefault(gateway, {})[PaymentStatus(status)] = int(count)
    return [
        MethodAttempts(
            gateway=gateway,
            attempts=sum(by_status.values()),
            paid=sum(count for status, count in by_status.items() if status in PAID),
            failed=by_status.get(PaymentStatus.FAILED, 0),
            cancelled=by_status.get(PaymentStatus.CANCELLED, 0),
            still_open=sum(count for status, count in by_status.items() if status in OPEN),
        )
        for gateway, by_status in sorted(counts.items())
    ]

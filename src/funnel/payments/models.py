"""Payment tables: payments, their money movements, their status history, webhook events.

A payment knows only the opaque ``payable_reference`` of what it pays for (an order number, say):
the payments domain knows nothing of orders. Status changes only through the payments services,
with a conditional UPDATE (see ``services/state.py``), and each change writes a ``PaymentEvent``.

``active_payable_reference`` equals ``payable_reference`` while a payment may still take money
and becomes NULL when it fails or is cancelled: its unique constraint lets one payable have at
most one live payment, on every database (NULLs never collide).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.models import TimestampMixin, now
from funnel.core.money import Money
from funnel.extensions import db


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    AUTHORIZED = "authorized"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class TransactionKind(enum.StrEnum):
    CHARGE = "charge"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class TransactionStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _enum(kind: type[enum.StrEnum], length: int) -> Enum:
    return Enum(
        kind,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def _in(column: str, kind: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(member.value) for member in kind)})"


class Payment(TimestampMixin, db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(_in("status", PaymentStatus), name="status"),
        CheckConstraint("capture_method IN ('automatic', 'manual')", name="capture_method"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("refunded_minor >= 0", name="refunded_non_negative"),
        CheckConstraint("refund_pending_minor >= 0", name="refund_pending_non_negative"),
        CheckConstraint(
            "refunded_minor + refund_pending_minor <= amount_minor", name="refunds_within_amount"
        ),
        CheckConstraint(
            "received_minor >= 0 AND received_minor <= amount_minor", name="received_within_amount"
        ),
        UniqueConstraint("gateway", "gateway_payment_id"),
        Index(None, "payable_reference", "created_at"),
        Index(None, "gateway", "status", "created_at"),
        Index(None, "status", "created_at"),  # the failed payments, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    payable_reference: Mapped[str] = mapped_column(String(64))
    active_payable_reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    gateway: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(
        _enum(PaymentStatus, 24), default=PaymentStatus.PENDING
    )
    capture_method: Mapped[str] = mapped_column(String(16), default="automatic")
    description: Mapped[str] = mapped_column(String(255), default="")
    return_url: Mapped[str] = mapped_column(String(2000), default="")
    gateway_payment_id: Mapped[str | None] = mapped_column(String(255))
    next_action_url: Mapped[str | None] = mapped_column(String(2000))
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(String(255))
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_pending_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # What the payment has taken so far: all of it once it succeeds; for an offline payment
    # (a bank transfer arriving in parts) the sum staff have recorded, while still pending.
    received_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Committed before the gateway is called: set with no gateway id, the outcome is unknown
    # (the gateway may have taken money) until the gateway is asked by our idempotency key.
    submitted_at: Mapped[datetime | None] = mapped_column()

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_minor, self.currency)

    @property
    def received(self) -> Money:
        return Money(self.received_minor, self.currency)

    @property
    def still_due(self) -> Money:
        """What is left to receive (zero once the payment has its money)."""
        if self.status != PaymentStatus.PENDING:
            return Money.zero(self.currency)
        return Money(self.amount_minor - self.received_minor, self.currency)

    @property
    def is_partly_received(self) -> bool:
        """An offline payment that has received part of its amount, and waits for the rest."""
        return self.status == PaymentStatus.PENDING and self.received_minor > 0

    @property
    def refundable(self) -> Money:
        """What may still be refunded (refunds under way count as taken)."""
        if self.status not in {PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED}:
            return Money.zero(self.currency)
        left = self.amount_minor - self.refunded_minor - self.refund_pending_minor
        return Money(left, self.currency)

    @property
    def is_outcome_unknown(self) -> bool:
        """Sent to the gateway, whose answer was never recorded (a worker died, a timeout)."""
        return (
            self.status == PaymentStatus.PENDING
            and self.gateway_payment_id is None
            and self.submitted_at is not None
        )

    def __repr__(self) -> str:
        return f"<Payment {self.public_id} {self.status.value}>"


class PaymentTransaction(db.Model):
    """One movement of money at the gateway: charge, capture, void or refund."""

    __tablename__ = "payment_transactions"
    __table_args__ = (
        CheckConstraint(_in("kind", TransactionKind), name="kind"),
        CheckConstraint(_in("status", TransactionStatus), name="status"),
        CheckConstraint("amount_minor >= 0", name="amount_non_negative"),
        Index(None, "payment_id", "created_at"),
        Index(None, "kind", "status", "created_at"),  # the refunds of a range of days
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    kind: Mapped[TransactionKind] = mapped_column(_enum(TransactionKind, 16))
    status: Mapped[TransactionStatus] = mapped_column(_enum(TransactionStatus, 16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    idempotency_key: Mapped[str] = mapped_column(String(220), unique=True)
    gateway_reference: Mapped[str | None] = mapped_column(String(255))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(255), default="")
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    # The day an offline payment's funds arrived (staff read it on the bank statement).
    received_on: Mapped[date | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


class PaymentEvent(db.Model):
    """One status change: from, to, why, who (a user id, or "gateway:<name>" / "system")."""

    __tablename__ = "payment_events"
    __table_args__ = (Index(None, "payment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(String(255), default="")
    actor: Mapped[str] = mapped_column(String(64))
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=now)


class WebhookEvent(db.Model):
    """A gateway event applied once: its id is unique per gateway."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("gateway", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=now)

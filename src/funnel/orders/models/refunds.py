"""Refunds: each refund of an order, and how many units of which line it gave back."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from funnel.core.models import now
from funnel.extensions import db
from funnel.orders.models.order import NOTE_LENGTH, REFUND_KEY_LENGTH

if TYPE_CHECKING:
    from funnel.orders.models.order import OrderLine


class RefundStatus(enum.StrEnum):
    PENDING = "pending"  # recorded, its lines held, while the gateway is asked
    SUCCEEDED = "succeeded"  # the money went back (a refused refund leaves no row)


class Refund(db.Model):
    """One refund of an order: what it gave back (``amount_minor``, of which
    ``shipping_minor`` for the shipping), by whom, why, and which lines (its ``RefundLine``s;
    none for a refund of an amount). ``request_key`` is the idempotency key it was made under:
    the same request refunds once. A pending refund holds its lines' units, so that two
    refunds at once cannot both take the last unit of a line."""

    __tablename__ = "order_refunds"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'succeeded')", name="status"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "shipping_minor >= 0 AND shipping_minor <= amount_minor", name="shipping_within"
        ),
        Index(None, "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    request_key: Mapped[str] = mapped_column(String(REFUND_KEY_LENGTH), unique=True)
    status: Mapped[RefundStatus] = mapped_column(
        Enum(
            RefundStatus,
            native_enum=False,
            length=16,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        ),
        default=RefundStatus.PENDING,
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str] = mapped_column(String(NOTE_LENGTH), default="")
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    refunded_at: Mapped[datetime | None]

    lines: Mapped[list[RefundLine]] = relationship(
        back_populates="refund", order_by="RefundLine.id", lazy="raise"
    )

    @property
    def is_by_lines(self) -> bool:
        """Made from lines (and perhaps the shipping), not a bare amount."""
        return bool(self.lines) or self.shipping_minor > 0


class RefundLine(db.Model):
    """How many units of one order line a refund gave back, for how much, and whether they
    went back to stock."""

    __tablename__ = "order_refund_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_minor >= 0", name="amount_non_negative"),
        UniqueConstraint("refund_id", "order_line_id"),
        Index(None, "order_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("order_refunds.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    is_restocked: Mapped[bool] = mapped_column(Boolean, default=False)

    refund: Mapped[Refund] = relationship(back_populates="lines", lazy="raise_on_sql")
    order_line: Mapped[OrderLine] = relationship(lazy="raise")

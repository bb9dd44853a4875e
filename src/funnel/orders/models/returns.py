"""Return requests: a customer asks to send back units of a delivered order's lines, staff
approve or reject the request, receive the parcel (some units back to stock) and refund it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
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
from funnel.orders.models.order import NOTE_LENGTH, NUMBER_LENGTH, REQUEST_KEY_LENGTH

if TYPE_CHECKING:
    from funnel.orders.models.order import Order, OrderLine

# An order's number, "-R" and the request's place among the order's returns.
RETURN_NUMBER_LENGTH = NUMBER_LENGTH + 8


class ReturnStatus(enum.StrEnum):
    REQUESTED = "requested"  # the customer asked; staff have not answered
    APPROVED = "approved"  # staff agreed: the customer sends the items
    REJECTED = "rejected"  # staff refused (the note says why): final
    RECEIVED = "received"  # the items came back (some perhaps back to stock)
    REFUNDED = "refunded"  # a refund of the order was made for it: final

    @property
    def label(self) -> str:
        return RETURN_STATUS_LABELS[self]


RETURN_STATUS_LABELS = {
    ReturnStatus.REQUESTED: "Requested",
    ReturnStatus.APPROVED: "Approved",
    ReturnStatus.REJECTED: "Rejected",
    ReturnStatus.RECEIVED: "Received",
    ReturnStatus.REFUNDED: "Refunded",
}
R = ReturnStatus
# The steps each status allows; only the returns service takes them (refunded: by a refund).
RETURN_TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    R.REQUESTED: frozenset({R.APPROVED, R.REJECTED}),
    R.APPROVED: frozenset({R.RECEIVED}),
    R.REJECTED: frozenset(),
    R.RECEIVED: frozenset({R.REFUNDED}),
    R.REFUNDED: frozenset(),
}
# Returns whose units are spoken for: the customer cannot ask for them again.
OPEN_RETURN_STATUSES = frozenset({R.REQUESTED, R.APPROVED, R.RECEIVED})
_STATUS_VALUES = ", ".join(f"'{status.value}'" for status in ReturnStatus)


class ReturnRequest(db.Model):
    """One return request of an order: its number (``FN-7K3QX9MD-R1``), status, the
    customer's reason, staff's note, and the refund that settled it."""

    __tablename__ = "order_returns"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_VALUES})", name="status"),
        CheckConstraint("sequence > 0", name="sequence_positive"),
        UniqueConstraint("order_id", "sequence"),
        Index(None, "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(RETURN_NUMBER_LENGTH), unique=True)
    status: Mapped[ReturnStatus] = mapped_column(
        Enum(
            ReturnStatus,
            native_enum=False,
            length=16,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        ),
        default=ReturnStatus.REQUESTED,
    )
    reason: Mapped[str] = mapped_column(String(NOTE_LENGTH))
    staff_note: Mapped[str] = mapped_column(String(NOTE_LENGTH), default="")
    # The customer's one-time form token or API idempotency key: a double submit asks once.
    request_key: Mapped[str | None] = mapped_column(String(REQUEST_KEY_LENGTH), unique=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("order_refunds.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    decided_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship(lazy="raise")
    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="return_request", order_by="ReturnLine.id", lazy="raise"
    )

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def transitions(self) -> frozenset[ReturnStatus]:
        return RETURN_TRANSITIONS[self.status]


class ReturnLine(db.Model):
    """How many units of one order line the customer asked to return, and how many of them
    went back to stock when they arrived."""

    __tablename__ = "order_return_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "restocked_quantity >= 0 AND restocked_quantity <= quantity", name="restocked_within"
        ),
        UniqueConstraint("return_id", "order_line_id"),
        Index(None, "order_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("order_returns.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    restocked_quantity: Mapped[int] = mapped_column(Integer, default=0)

    return_request: Mapped[ReturnRequest] = relationship(
        back_populates="lines", lazy="raise_on_sql"
    )
    order_line: Mapped[OrderLine] = relationship(lazy="raise")

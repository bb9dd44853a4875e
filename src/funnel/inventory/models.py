"""Inventory tables: the stock ledger (``stock_movements``) and reservations.

Every change of ``variants.stock_quantity`` writes one ``StockMovement``; for every variant
with movements, ``stock_quantity`` equals the sum of their quantities. A variant whose stock
was set by the catalogue (or the demo loader) gets an ``opening_balance`` movement the first
time inventory changes it; ``opening_variant_id`` (set on opening rows only, unique) lets the
database itself refuse a second opening balance for the same variant.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import funnel.accounts.models
import funnel.catalog.models  # noqa: F401  (users and variants: foreign keys refer to them)
from funnel.core.models import now
from funnel.extensions import db

ORDER_REFERENCE_LENGTH = 64
HOLDER_LENGTH = 128
OWNER_LENGTH = 64
NOTE_LENGTH = 500


class MovementReason(enum.StrEnum):
    """Why a variant's stock changed."""

    OPENING_BALANCE = "opening_balance"  # the level set by the catalogue, recorded lazily
    RECEIVED = "received"  # goods in
    COUNTED = "counted"  # a stock count set the level
    DAMAGED = "damaged"  # written off
    RETURNED = "returned"  # a customer's return put back on the shelf
    ADJUSTMENT = "adjustment"  # any other staff change
    CORRECTION = "correction"  # fixing an earlier mistake
    SALE = "sale"  # an order took it
    CANCELLATION_RETURN = "cancellation_return"  # a cancelled order gave it back
    REFUND_RETURN = "refund_return"  # a refunded order gave it back

    @property
    def label(self) -> str:
        """How staff read the reason in a movement history."""
        return _REASON_LABELS[self]


_REASON_LABELS = {
    MovementReason.OPENING_BALANCE: "Opening balance",
    MovementReason.RECEIVED: "Received",
    MovementReason.COUNTED: "Counted",
    MovementReason.DAMAGED: "Damaged",
    MovementReason.RETURNED: "Customer return",
    MovementReason.ADJUSTMENT: "Adjustment",
    MovementReason.CORRECTION: "Correction",
    MovementReason.SALE: "Sale",
    MovementReason.CANCELLATION_RETURN: "Cancelled order",
    MovementReason.REFUND_RETURN: "Refunded order",
}

STAFF_REASONS = frozenset(
    {
        MovementReason.RECEIVED,
        MovementReason.COUNTED,
        MovementReason.DAMAGED,
        MovementReason.RETURNED,
        MovementReason.ADJUSTMENT,
        MovementReason.CORRECTION,
    }
)
ORDER_RETURN_REASONS = frozenset(
    {
        MovementReason.CANCELLATION_RETURN,
        MovementReason.REFUND_RETURN,
        MovementReason.RETURNED,
    }
)
_REASON_VALUES = ", ".join(f"'{reason.value}'" for reason in MovementReason)


class StockMovement(db.Model):
    """One signed change of one variant's stock, with the level it left behind."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(f"reason IN ({_REASON_VALUES})", name="reason"),
        CheckConstraint("balance_after >= 0", name="balance_after_non_negative"),
        Index(None, "variant_id", "id"),
        Index(None, "order_reference"),
        Index(None, "actor_id"),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[MovementReason] = mapped_column(
        Enum(
            MovementReason,
            native_enum=False,
            length=32,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        )
    )
    balance_after: Mapped[int] = mapped_column(Integer)
    # Nullable and SET NULL: the ledger outlives a deleted account.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    order_reference: Mapped[str | None] = mapped_column(String(ORDER_REFERENCE_LENGTH))
    note: Mapped[str] = mapped_column(String(NOTE_LENGTH), default="")
    opening_variant_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)

    def __repr__(self) -> str:
        return f"<StockMovement {self.variant_id} {self.quantity:+d} {self.reason.value}>"


class StockReservation(db.Model):
    """Units of a variant held for a checkout (``holder``) until ``expires_at``, on behalf of
    ``owner``.

    An expired reservation stops counting at once (every query filters ``expires_at > now``);
    a job deletes it later.
    """

    __tablename__ = "stock_reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        UniqueConstraint("holder", "variant_id"),
        Index(None, "variant_id", "expires_at"),
        Index(None, "expires_at"),
        Index(None, "owner", "variant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    holder: Mapped[str] = mapped_column(String(HOLDER_LENGTH))
    # Who asked for it (a client's pseudonymous key), so that no one holds more than their
    # share of a variant through many holders (carts); None: not counted against anyone.
    owner: Mapped[str | None] = mapped_column(String(OWNER_LENGTH))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=now)

    def __repr__(self) -> str:
        return f"<StockReservation {self.holder} {self.variant_id} x{self.quantity}>"

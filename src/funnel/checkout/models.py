"""The checkout: server-side state of one customer's way from cart to order.

Nothing the client sends is trusted for money: the lines and totals are always computed again
from the cart and the catalogue. The address is a snapshot (like an order's), the email the
one typed (or the account's). ``submit_token_hash`` is the SHA-256 of the pay form's one-time
token (the token itself is never stored); it is emptied in the transaction that places the
order, so a second submission of the same form finds it used.

``status``: ``open`` while the customer goes through the steps (and while the payment of its
order is under way: ``order_id`` is set), ``completed`` once the order is paid or its payment
is being confirmed (the cart is then emptied), ``abandoned`` when the job gives up on it.
A cart has at most one open checkout (``open_cart_id``, unique), so one order under way.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

import funnel.cart.models
import funnel.orders.models  # noqa: F401  (carts and orders: foreign keys refer to them)
from funnel.core.models import now
from funnel.core.money import Money
from funnel.extensions import db

TOKEN_LENGTH = 64
EMAIL_LENGTH = 254
VISITOR_ID_LENGTH = 64
RESERVATION_OWNER_LENGTH = 64


class CheckoutStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


_STATUS_VALUES = ", ".join(f"'{status.value}'" for status in CheckoutStatus)


class Checkout(db.Model):
    __tablename__ = "checkouts"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_VALUES})", name="status"),
        CheckConstraint("reviewed_total_minor IS NULL OR reviewed_total_minor >= 0", name="total"),
        Index("ix_checkouts_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH), unique=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    # ``cart_id`` while open, NULL once completed or abandoned: unique, so that a cart has at
    # most one open checkout (and so one order under way) on every database.
    open_cart_id: Mapped[int | None] = mapped_column(unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    ship_full_name: Mapped[str | None] = mapped_column(String(200))
    ship_company: Mapped[str | None] = mapped_column(String(200))
    ship_line1: Mapped[str | None] = mapped_column(String(200))
    ship_line2: Mapped[str | None] = mapped_column(String(200))
    ship_city: Mapped[str | None] = mapped_column(String(100))
    ship_region: Mapped[str | None] = mapped_column(String(100))
    ship_postal_code: Mapped[str | None] = mapped_column(String(20))
    ship_country_code: Mapped[str | None] = mapped_column(String(2))
    ship_phone: Mapped[str | None] = mapped_column(String(40))
    shipping_method_code: Mapped[str | None] = mapped_column(String(32))
    reviewed_total_minor: Mapped[int | None] = mapped_column(BigInteger)
    submit_nonce: Mapped[str | None] = mapped_column(String(64))
    submit_token_hash: Mapped[str | None] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    payment_attempts: Mapped[int] = mapped_column(default=0)
    visitor_id: Mapped[str | None] = mapped_column(String(VISITOR_ID_LENGTH))
    # The client whose share of the stock this checkout's reservations count against.
    reservation_owner: Mapped[str | None] = mapped_column(String(RESERVATION_OWNER_LENGTH))
    status: Mapped[CheckoutStatus] = mapped_column(
        Enum(
            CheckoutStatus,
            native_enum=False,
            create_constraint=False,
            length=16,
            values_callable=lambda members: [member.value for member in members],
        ),
        default=CheckoutStatus.OPEN,
    )
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    expires_at: Mapped[datetime]

    @property
    def has_address(self) -> bool:
        return self.ship_line1 is not None

    def __repr__(self) -> str:
        return f"Checkout(id={self.id!r}, status={self.status!r}, order_id={self.order_id!r})"


class FindingKind(enum.StrEnum):
    """What reconciliation found a gateway charge to be (``matched`` is never stored)."""

    PAID = "paid"
    REFUNDED = "refunded"
    FOREIGN = "foreign"
    UNRESOLVED = "unresolved"
    MISSING_CHARGE = "missing_charge"
    MISSING_REFUND = "missing_refund"


# Settled by the reconciliation itself (the order paid, the charge refunded): stored resolved,
# with what it did as the note. The others wait for staff.
SETTLED_KINDS = frozenset({FindingKind.PAID, FindingKind.REFUNDED})
_KIND_VALUES = ", ".join(f"'{kind.value}'" for kind in FindingKind)
FINDING_DETAIL_LENGTH = 500
ACTION_NOTE_LENGTH = 2000


class ReconciliationFinding(db.Model):
    """One charge a reconciliation run found not matched, and what was done about it.

    One row per (gateway, charge, kind): a second run, or two racing, insert nothing more.
    ``resolved_by_id`` and ``resolved_by_email`` are None for the findings the reconciliation
    settled itself; the email is kept as it was, should the account go.
    """

    __tablename__ = "reconciliation_findings"
    __table_args__ = (
        UniqueConstraint(
            "gateway", "gateway_charge_id", "kind", name="uq_reconciliation_findings_charge_kind"
        ),
        CheckConstraint(f"kind IN ({_KIND_VALUES})", name="kind"),
        CheckConstraint("amount_minor >= 0", name="amount"),
        # The staff list: open ones first, newest first.
        Index("ix_reconciliation_findings_resolved_at_found_at", "resolved_at", "found_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(32))
    gateway_charge_id: Mapped[str] = mapped_column(String(255))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[FindingKind] = mapped_column(
        Enum(
            FindingKind,
            native_enum=False,
            create_constraint=False,
            length=16,
            values_callable=lambda members: [member.value for member in members],
        )
    )
    # An order number, a checkout attempt's reference or another payable's; None: foreign.
    reference: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(FINDING_DETAIL_LENGTH))
    found_at: Mapped[datetime] = mapped_column(default=now)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_by_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    action_note: Mapped[str | None] = mapped_column(String(ACTION_NOTE_LENGTH))

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

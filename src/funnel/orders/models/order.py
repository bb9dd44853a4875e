"""Order tables: orders, their lines (a snapshot of what was bought) and status events.

An order copies what it needs at the moment it is placed (prices, SKUs, titles, the shipping
address): later changes to the catalogue or the address book never rewrite it. Money is
integer minor units (``*_minor``) in the order's one currency, exposed as ``Money``; the
database itself checks that the total adds up. The status changes only through
``funnel.orders.services`` (a conditional UPDATE), and every change writes an ``OrderEvent``.
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
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

import funnel.accounts.models
import funnel.catalog.models  # noqa: F401  (users and variants: foreign keys refer to them)
from funnel.core.models import now
from funnel.core.money import Money
from funnel.extensions import db
from funnel.payments.gateways import CASH_ON_DELIVERY

NUMBER_LENGTH = 16
EMAIL_LENGTH = 254
VISITOR_ID_LENGTH = 64
NOTE_LENGTH = 500
CARRIER_CODE_LENGTH = 32
CARRIER_NAME_LENGTH = 100
TRACKING_NUMBER_LENGTH = 64
TRACKING_URL_LENGTH = 500
REQUEST_KEY_LENGTH = 100
REFUND_KEY_LENGTH = 200


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    FULFILLED = "fulfilled"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        """The status as customers and staff read it."""
        return STATUS_LABELS[self]


STATUS_LABELS = {
    OrderStatus.PENDING_PAYMENT: "Awaiting payment",
    OrderStatus.PAID: "Paid",
    OrderStatus.FULFILLED: "Shipped",
    OrderStatus.DELIVERED: "Delivered",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.REFUNDED: "Refunded",
}
S = OrderStatus
# The status workflow: the steps each status allows. Only the orders services take them.
# paid -> cancelled happens only together with a full refund (``cancel_order`` refunds first).
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.FULFILLED, S.CANCELLED, S.REFUNDED}),
    S.FULFILLED: frozenset({S.DELIVERED, S.REFUNDED}),
    S.DELIVERED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}
# Steps only an order paid in cash on delivery takes: it ships before it is paid (and is paid
# when it is delivered: ``orders.services.mark_delivered`` records the cash).
ON_DELIVERY_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.FULFILLED}),
}
# Where staff may move an order by hand (the other statuses follow from what happens to it).
STAFF_TARGETS = (
    OrderStatus.PAID,
    OrderStatus.FULFILLED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
)
_STATUS_VALUES = ", ".join(f"'{status.value}'" for status in OrderStatus)


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_VALUES})", name="status"),
        CheckConstraint(
            "subtotal_minor >= 0 AND shipping_minor >= 0 AND tax_minor >= 0",
            name="amounts_non_negative",
        ),
        CheckConstraint(
            "total_minor = subtotal_minor + shipping_minor + tax_minor", name="total_adds_up"
        ),
        CheckConstraint("tax_rate_basis_points >= 0", name="tax_rate_non_negative"),
        Index(None, "user_id", "placed_at"),
        Index(None, "status", "placed_at"),
        Index(None, "payment_gateway", "placed_at"),
        # a customer's orders (the staff search) and their first order paid (the sales reports)
        Index(None, "email", "paid_at"),
        Index(None, "placed_at"),
        Index(None, "paid_at"),  # the sales reports read the orders paid in a range
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(NUMBER_LENGTH), unique=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[OrderStatus] = mapped_column(
        Enum(
            OrderStatus,
            native_enum=False,
            length=24,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        ),
        default=OrderStatus.PENDING_PAYMENT,
    )
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate_basis_points: Mapped[int] = mapped_column(Integer)
    shipping_method_code: Mapped[str] = mapped_column(String(32))
    shipping_method_name: Mapped[str] = mapped_column(String(100))
    ship_full_name: Mapped[str] = mapped_column(String(200))
    ship_company: Mapped[str | None] = mapped_column(String(200))
    ship_line1: Mapped[str] = mapped_column(String(200))
    ship_line2: Mapped[str | None] = mapped_column(String(200))
    ship_city: Mapped[str] = mapped_column(String(100))
    ship_region: Mapped[str | None] = mapped_column(String(100))
    ship_postal_code: Mapped[str] = mapped_column(String(20))
    ship_country_code: Mapped[str] = mapped_column(String(2))
    ship_phone: Mapped[str | None] = mapped_column(String(40))
    payment_gateway: Mapped[str] = mapped_column(String(32))
    visitor_id: Mapped[str | None] = mapped_column(String(VISITOR_ID_LENGTH))
    placed_at: Mapped[datetime] = mapped_column(default=now)
    paid_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", lazy="raise"
    )

    def _money(self, minor: int) -> Money:
        return Money(minor, self.currency)

    @property
    def subtotal(self) -> Money:
        return self._money(self.subtotal_minor)

    @property
    def shipping(self) -> Money:
        return self._money(self.shipping_minor)

    @property
    def tax(self) -> Money:
        return self._money(self.tax_minor)

    @property
    def total(self) -> Money:
        return self._money(self.total_minor)

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    @property
    def is_paid_on_delivery(self) -> bool:
        """Cash on delivery: the order ships unpaid and is paid when delivered."""
        return self.payment_gateway == CASH_ON_DELIVERY

    @property
    def is_awaiting_cash(self) -> bool:
        """Paid on delivery and not paid yet: delivering it records the cash."""
        return self.is_paid_on_delivery and self.paid_at is None

    @property
    def transitions(self) -> frozenset[OrderStatus]:
        """The statuses this order may move to now (``TRANSITIONS``, and for cash on
        delivery ``ON_DELIVERY_TRANSITIONS``)."""
        allowed = TRANSITIONS[self.status]
        if self.is_paid_on_delivery:
            allowed |= ON_DELIVERY_TRANSITIONS.get(self.status, frozenset())
        return allowed

    @property
    def tax_rate_percent(self) -> str:
        """The tax rate as a percentage for display, e.g. ``"20"`` or ``"8.25"``."""
        whole, hundredths = divmod(self.tax_rate_basis_points, 100)
        return f"{whole}" if not hundredths else f"{whole}.{hundredths:02d}".rstrip("0")

    def __repr__(self) -> str:
        return f"<Order {self.number} {self.status.value}>"


class OrderLine(db.Model):
    """One line as bought: the variant's SKU, titles and unit price at that moment."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_minor >= 0", name="unit_price_non_negative"),
        CheckConstraint("line_total_minor = unit_price_minor * quantity", name="line_total"),
        Index(None, "order_id", "id"),
        Index(None, "variant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id", ondelete="SET NULL"))
    sku: Mapped[str] = mapped_column(String(64))
    product_title: Mapped[str] = mapped_column(String(200))
    variant_label: Mapped[str] = mapped_column(String(200))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total_minor: Mapped[int] = mapped_column(BigInteger)

    # Loaded lines find their order in the session's identity map (no query).
    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise_on_sql")

    @property
    def unit_price(self) -> Money:
        return Money(self.unit_price_minor, self.order.currency)

    @property
    def line_total(self) -> Money:
        return Money(self.line_total_minor, self.order.currency)


class OrderEvent(db.Model):
    """One status change (or, with equal statuses, a step such as a partial refund): from,
    to, who (a user id; None for the system or the customer's checkout), why, when."""

    __tablename__ = "order_events"
    __table_args__ = (Index(None, "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(NOTE_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def to_label(self) -> str:
        return _label(self.to_status)

    @property
    def from_label(self) -> str | None:
        return None if self.from_status is None else _label(self.from_status)


def _label(status: str) -> str:
    try:
        return OrderStatus(status).label
    except ValueError:
        return status

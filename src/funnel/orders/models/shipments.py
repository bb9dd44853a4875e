"""Shipments: the parcels an order leaves in, and how many units of which line each holds."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from funnel.core.models import now
from funnel.extensions import db
from funnel.orders.models.order import (
    CARRIER_CODE_LENGTH,
    CARRIER_NAME_LENGTH,
    REQUEST_KEY_LENGTH,
    TRACKING_NUMBER_LENGTH,
    TRACKING_URL_LENGTH,
)

if TYPE_CHECKING:
    from funnel.orders.models.order import OrderLine


class Shipment(db.Model):
    """One parcel sent: what went (its ``ShipmentLine``s), by which carrier, under which
    tracking number, when and by whom. ``request_key`` is the one-time key of the request that
    made it (a form's token, an API caller's Idempotency-Key): the same request ships once."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("order_id", "request_key"),
        Index(None, "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    carrier: Mapped[str] = mapped_column(String(CARRIER_CODE_LENGTH))
    carrier_name: Mapped[str] = mapped_column(String(CARRIER_NAME_LENGTH))
    tracking_number: Mapped[str] = mapped_column(String(TRACKING_NUMBER_LENGTH), default="")
    tracking_url: Mapped[str | None] = mapped_column(String(TRACKING_URL_LENGTH))
    request_key: Mapped[str | None] = mapped_column(String(REQUEST_KEY_LENGTH))
    shipped_at: Mapped[datetime] = mapped_column(default=now)
    shipped_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    lines: Mapped[list[ShipmentLine]] = relationship(
        back_populates="shipment", order_by="ShipmentLine.id", lazy="raise"
    )

    @property
    def unit_count(self) -> int:
        return sum(line.quantity for line in self.lines)


class ShipmentLine(db.Model):
    """How many units of one order line went in a shipment."""

    __tablename__ = "shipment_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        UniqueConstraint("shipment_id", "order_line_id"),
        Index(None, "order_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines", lazy="raise_on_sql")
    order_line: Mapped[OrderLine] = relationship(lazy="raise")

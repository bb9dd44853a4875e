"""Funnel events: one row per step a visitor takes towards an order.

``user_id`` and ``product_id`` are plain integers without foreign keys: analytics knows no
other domain, and events outlive deleted accounts and products. ``dedupe_key`` (unique,
nullable) makes an event that must happen once (a visit per visitor and day, an order paid)
safe to record from concurrent requests.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, CheckConstraint, Date, Enum, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from funnel.analytics.sources import (
    CAMPAIGN_LENGTH,
    DEVICE_LENGTH,
    LANDING_PATH_LENGTH,
    MEDIUM_LENGTH,
    SOURCE_LENGTH,
)
from funnel.core.models import now
from funnel.extensions import db

VISITOR_ID_LENGTH = 64
ORDER_REFERENCE_LENGTH = 64
DEDUPE_KEY_LENGTH = 160
# An event written this long after it happened is late: the funnel summary may have counted
# its day already (it summarises a day ``SETTLE_AFTER`` after it ends), so it is noted for the
# summary's next run (``LateFunnelEvent``). Events are written as they happen, or within
# seconds when batched; only a batch kept while the database was away is late.
LATE_AFTER = timedelta(minutes=2)
SETTLE_AFTER = timedelta(minutes=10)


class FunnelStage(enum.StrEnum):
    """The stages of the sales funnel, in funnel order."""

    VISIT = "visit"
    PRODUCT_VIEW = "product_view"
    ADD_TO_CART = "add_to_cart"
    CHECKOUT_STARTED = "checkout_started"
    PAYMENT_ATTEMPTED = "payment_attempted"
    ORDER_PAID = "order_paid"


_STAGE_VALUES = ", ".join(f"'{stage.value}'" for stage in FunnelStage)


def _stage_type() -> Enum:
    """The stage as its value, in a VARCHAR (no database enum type to migrate)."""
    return Enum(
        FunnelStage,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class FunnelEvent(db.Model):
    __tablename__ = "funnel_events"
    __table_args__ = (
        CheckConstraint(f"stage IN ({_STAGE_VALUES})", name="stage"),
        # The reports count distinct visitors (and products) per stage over a range of days
        # from this index alone, without reading the events themselves.
        Index(None, "stage", "occurred_at", "visitor_id", "product_id"),
        Index(None, "occurred_at"),
    )

    # 64-bit where the database has it; SQLite's INTEGER primary key is 64-bit already.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    stage: Mapped[FunnelStage] = mapped_column(_stage_type())
    visitor_id: Mapped[str] = mapped_column(String(VISITOR_ID_LENGTH))
    user_id: Mapped[int | None] = mapped_column(Integer)
    product_id: Mapped[int | None] = mapped_column(Integer)
    order_reference: Mapped[str | None] = mapped_column(String(ORDER_REFERENCE_LENGTH))
    occurred_at: Mapped[datetime] = mapped_column(default=now)
    dedupe_key: Mapped[str | None] = mapped_column(String(DEDUPE_KEY_LENGTH), unique=True)
    # Where a visit came from and on what device (``sources``): on visit events only.
    source: Mapped[str | None] = mapped_column(String(SOURCE_LENGTH))
    medium: Mapped[str | None] = mapped_column(String(MEDIUM_LENGTH))
    campaign: Mapped[str | None] = mapped_column(String(CAMPAIGN_LENGTH))
    landing_path: Mapped[str | None] = mapped_column(String(LANDING_PATH_LENGTH))
    device: Mapped[str | None] = mapped_column(String(DEVICE_LENGTH))

    def __repr__(self) -> str:
        return f"<FunnelEvent {self.stage.value} {self.visitor_id}>"


class FunnelVisitorDay(db.Model):
    """A visitor who reached a stage on a shop day: the daily summary the funnel reports read
    instead of the events (``summaries`` keeps it, ``daily`` reads it).

    ``previous_day`` is the last earlier day the visitor reached the same stage (None for the
    first). It turns "distinct visitors over a period" into a plain count: a visitor counts
    once in ``[first, last]`` on the one day of theirs in it whose ``previous_day`` is before
    ``first``. Days are the shop's, in ``FunnelSummaryState.time_zone``.
    """

    __tablename__ = "funnel_visitor_days"
    __table_args__ = (
        CheckConstraint(f"stage IN ({_STAGE_VALUES})", name="stage"),
        # The counts over a period read this index alone.
        Index(None, "stage", "day", "previous_day"),
    )

    stage: Mapped[FunnelStage] = mapped_column(_stage_type(), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(VISITOR_ID_LENGTH), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    previous_day: Mapped[date | None] = mapped_column(Date)


# The stages whose events name a product, summarised per product too.
PRODUCT_STAGES = (FunnelStage.PRODUCT_VIEW, FunnelStage.ADD_TO_CART)


class FunnelProductVisitorDay(db.Model):
    """A visitor who viewed (or added to cart) a product on a shop day: ``FunnelVisitorDay``
    per product, for the distinct viewers of each product over a period. ``previous_day`` is
    the visitor's last earlier day at that stage with that product."""

    __tablename__ = "funnel_product_visitor_days"
    __table_args__ = (
        CheckConstraint("stage IN ('product_view', 'add_to_cart')", name="stage"),
        # The counts per product over a period, and who viewed what, read this index alone.
        Index(
            "ix_funnel_product_visitor_days_by_day",
            "stage",
            "day",
            "previous_day",
            "product_id",
            "visitor_id",
        ),
    )

    stage: Mapped[FunnelStage] = mapped_column(_stage_type(), primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    visitor_id: Mapped[str] = mapped_column(String(VISITOR_ID_LENGTH), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    previous_day: Mapped[date | None] = mapped_column(Date)


class FunnelSummaryState(db.Model):
    """How far the daily summary goes: every shop day up to ``summarised_through`` (in
    ``time_zone``) is in ``funnel_visitor_days``; the reports count later days from the events.
    One row (id 1), or none before the first run."""

    __tablename__ = "funnel_summary_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    summarised_through: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class LateFunnelEvent(db.Model):
    """An event written well after it happened (a batch of product views kept while the
    database was away): its day may be summarised already, so the next summary run adds it."""

    __tablename__ = "late_funnel_events"
    __table_args__ = (CheckConstraint(f"stage IN ({_STAGE_VALUES})", name="stage"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    stage: Mapped[FunnelStage] = mapped_column(_stage_type())
    visitor_id: Mapped[str] = mapped_column(String(VISITOR_ID_LENGTH))
    product_id: Mapped[int | None] = mapped_column(Integer)
    occurred_at: Mapped[datetime]

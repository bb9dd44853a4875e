"""Stored settings: one row per key with its JSON value, and the history of every change.

A key without a row has its initial value (from the environment). ``changed_by_id`` is a plain
integer without a foreign key, as in analytics: settings sit below accounts, and the history
keeps the email of who changed what even if the account goes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.models import now
from funnel.extensions import db

KEY_LENGTH = 64
EMAIL_LENGTH = 254


class ShopSetting(db.Model):
    __tablename__ = "shop_settings"

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime] = mapped_column(default=now)
    updated_by_id: Mapped[int | None] = mapped_column(Integer)


class SettingChange(db.Model):
    """Who changed a setting, when, from what to what (JSON before and after)."""

    __tablename__ = "shop_setting_changes"
    __table_args__ = (Index(None, "changed_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    before: Mapped[str] = mapped_column(Text)  # JSON
    after: Mapped[str] = mapped_column(Text)  # JSON
    changed_at: Mapped[datetime] = mapped_column(default=now)
    changed_by_id: Mapped[int | None] = mapped_column(Integer)
    changed_by_email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))

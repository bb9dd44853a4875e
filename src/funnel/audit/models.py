"""Audit entries: one row per staff change, written once and never edited.

``actor_user_id`` is a plain integer without a foreign key, as in analytics: the audit log sits
below accounts, and an entry must outlive the account that made it. ``before`` and ``after``
hold JSON objects of the changed fields only (None for a creation's before or a deletion's
after). ``object_id`` is text: most objects are known by their database id, orders by their
number.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.models import now
from funnel.extensions import db

ACTION_LENGTH = 64
OBJECT_TYPE_LENGTH = 32
OBJECT_ID_LENGTH = 64
OBJECT_LABEL_LENGTH = 200
# The longest text the log is searched by (an object's id or a part of its name).
SEARCH_LENGTH = 100
# The longest text form of an IPv6 address (with an embedded IPv4 one).
ADDRESS_LENGTH = 45


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index(None, "occurred_at"),
        Index(None, "actor_user_id", "occurred_at"),
        Index(None, "object_type", "object_id"),
    )

    # 64-bit where the database has it; SQLite's INTEGER primary key is 64-bit already.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    occurred_at: Mapped[datetime] = mapped_column(default=now)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    client_address: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))
    action: Mapped[str] = mapped_column(String(ACTION_LENGTH))
    object_type: Mapped[str] = mapped_column(String(OBJECT_TYPE_LENGTH))
    object_id: Mapped[str] = mapped_column(String(OBJECT_ID_LENGTH))
    object_label: Mapped[str] = mapped_column(String(OBJECT_LABEL_LENGTH), default="")
    before: Mapped[str | None] = mapped_column(Text)  # JSON object
    after: Mapped[str | None] = mapped_column(Text)  # JSON object

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} {self.object_type}:{self.object_id}>"

"""One piece of feedback: what the shopper wrote, from which page, and what staff did with it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.models import UTCDateTime, now
from funnel.extensions import db
from funnel.feedback.paths import PAGE_PATH_LENGTH

MESSAGE_LENGTH = 2000
REPLY_LENGTH = 2000
EMAIL_LENGTH = 254


class Feedback(db.Model):
    __tablename__ = "feedback"
    # The inbox: open items (no handled_at) or handled ones, newest first.
    __table_args__ = (Index("ix_feedback_handled_at_created_at", "handled_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message: Mapped[str] = mapped_column(String(MESSAGE_LENGTH))
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    # The storefront page it was sent from: a path on this shop, without its query string.
    page_path: Mapped[str | None] = mapped_column(String(PAGE_PATH_LENGTH))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reply: Mapped[str | None] = mapped_column(String(REPLY_LENGTH))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def is_handled(self) -> bool:
        return self.handled_at is not None

    @property
    def can_reply(self) -> bool:
        """Staff can answer once, by email, when the shopper left an address."""
        return self.email is not None and self.reply is None

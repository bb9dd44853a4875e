"""Reading feedback for the staff inbox: open or handled items, newest first, and one item."""

from __future__ import annotations

import enum

import sqlalchemy as sa

from funnel.accounts.models import User
from funnel.core.pagination import Page, paginate
from funnel.extensions import db
from funnel.feedback.errors import FeedbackNotFound
from funnel.feedback.models import Feedback

INBOX_PAGE_SIZE = 50


class FeedbackState(enum.StrEnum):
    OPEN = "open"
    HANDLED = "handled"


def inbox(state: FeedbackState, number: int = 1, size: int = INBOX_PAGE_SIZE) -> Page[Feedback]:
    """Page ``number`` of the items in ``state``, newest first (ties by id, newest first)."""
    handled = Feedback.handled_at.is_not(None)
    statement = (
        sa.select(Feedback)
        .where(handled if state == FeedbackState.HANDLED else Feedback.handled_at.is_(None))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
    )
    return paginate(db.session, statement, number, size)


def count_by_state() -> dict[FeedbackState, int]:
    """How many items are open and how many handled (for the inbox's filter links)."""
    handled = sa.func.count(Feedback.handled_at)
    row = db.session.execute(sa.select(sa.func.count(Feedback.id), handled)).one()
    return {FeedbackState.OPEN: row[0] - row[1], FeedbackState.HANDLED: row[1]}


def get_feedback(feedback_id: int) -> Feedback:
    """One item. Raises FeedbackNotFound."""
    feedback = db.session.get(Feedback, feedback_id)
    if feedback is None:
        raise FeedbackNotFound()
    return feedback


def staff_email(user_id: int | None) -> str | None:
    """The address of the staff member who handled or answered an item (for the item page)."""
    if user_id is None:
        return None
    return db.session.scalar(sa.select(User.email).where(User.id == user_id))

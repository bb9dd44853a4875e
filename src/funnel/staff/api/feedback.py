"""Staff feedback operations (``reports.view``): the inbox, open or handled, newest first, and
marking an item handled; each one call of ``feedback.queries`` or ``feedback.services``."""

from __future__ import annotations

from typing import Any

from funnel.accounts.permissions import Permission
from funnel.core.api import errors
from funnel.core.api.paging import PagePosition
from funnel.feedback import services
from funnel.feedback.queries import INBOX_PAGE_SIZE, FeedbackState, get_feedback, inbox
from funnel.feedback.schemas import (
    MAX_FEEDBACK_PAGE_SIZE,
    HandledFeedbackSchema,
    StaffFeedbackPageSchema,
    StaffFeedbackQuerySchema,
    staff_feedback_representation,
)
from funnel.staff.api import bp
from funnel.staff.api.access import staff_caller, staff_permission

FEEDBACK_ID = "<id:feedback_id>"


@bp.route("/feedback", methods=["GET"])
@bp.response(200, StaffFeedbackPageSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.REPORTS_VIEW)
@bp.arguments(StaffFeedbackQuerySchema, location="query", as_kwargs=True)
def list_staff_feedback(**parameters: Any) -> dict[str, Any]:
    """Shoppers' feedback, newest first: open or handled

    `state`: `open` (the default) or `handled`. Follow `next_cursor` for the next page, with
    the same filter; it is null on the last one. Needs `reports.view`.
    """
    position = PagePosition.of(
        parameters, default_size=INBOX_PAGE_SIZE, max_size=MAX_FEEDBACK_PAGE_SIZE
    )
    page = inbox(FeedbackState(parameters["state"]), position.number, position.size)
    return {
        "items": [staff_feedback_representation(item) for item in page.items],
        "next_cursor": position.next_cursor(page),
    }


@bp.route(f"/feedback/{FEEDBACK_ID}/handled", methods=["POST"])
@bp.response(200, HandledFeedbackSchema)
@errors(bp, 404)
@staff_permission(bp, Permission.REPORTS_VIEW)
def mark_staff_feedback_handled(feedback_id: int) -> dict[str, Any]:
    """Mark feedback handled

    It leaves the open inbox for the handled one; marking it again answers `changed: false`.
    The change is in the audit log. Needs `reports.view`.
    """
    change = services.set_handled(feedback_id, True, actor_user_id=staff_caller().id)
    return {
        "changed": change.changed,
        "feedback": staff_feedback_representation(get_feedback(change.feedback_id)),
    }

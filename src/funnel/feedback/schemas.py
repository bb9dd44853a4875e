"""Feedback over the JSON API: what a shopper sends, and the items staff read.

The schemas bound shape and size; the service states the rules (a message blank once trimmed,
an email that is not an address) and answers them with a 422 ``invalid_feedback``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import marshmallow as ma
from marshmallow import validate

from funnel.core.api.paging import cursor_parameter, next_cursor_field
from funnel.feedback.models import EMAIL_LENGTH, MESSAGE_LENGTH

MAX_FEEDBACK_PAGE_SIZE = 100
STATES = ("open", "handled")


class FeedbackInputSchema(ma.Schema):
    message = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=MESSAGE_LENGTH),
        metadata={"description": "What the shopper has to say (up to 2,000 characters)"},
    )
    email = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=EMAIL_LENGTH),
        metadata={"description": "Where an answer may be sent (optional)"},
    )
    page = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={
            "description": "The shop's page it is about, as a path (`/products/mug`); the "
            "query string is dropped, and anything but a path on this shop is not kept"
        },
    )


class SentFeedbackSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    page = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "The path kept, or null"}
    )
    created_at = ma.fields.DateTime(required=True)


class FeedbackItem(Protocol):
    """What the staff representation reads (``feedback.models.Feedback``)."""

    id: int
    message: str
    email: str | None
    page_path: str | None
    user_id: int | None
    created_at: datetime
    handled_at: datetime | None
    reply: str | None
    replied_at: datetime | None


class StaffFeedbackQuerySchema(ma.Schema):
    state = ma.fields.String(
        load_default="open",
        validate=validate.OneOf(STATES),
        metadata={"description": "open (the default) or handled"},
    )
    limit = ma.fields.Integer(
        validate=validate.Range(min=1, max=MAX_FEEDBACK_PAGE_SIZE),
        metadata={"description": "Page size (default 50)"},
    )
    cursor = cursor_parameter()


class StaffFeedbackSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    message = ma.fields.String(required=True)
    email = ma.fields.String(required=True, allow_none=True)
    page = ma.fields.String(required=True, allow_none=True)
    user_id = ma.fields.Integer(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    is_handled = ma.fields.Boolean(required=True)
    handled_at = ma.fields.DateTime(required=True, allow_none=True)
    reply = ma.fields.String(required=True, allow_none=True)
    replied_at = ma.fields.DateTime(required=True, allow_none=True)


class StaffFeedbackPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(StaffFeedbackSchema), required=True)
    next_cursor = next_cursor_field()


class HandledFeedbackSchema(ma.Schema):
    changed = ma.fields.Boolean(
        required=True, metadata={"description": "False when it was handled already"}
    )
    feedback = ma.fields.Nested(StaffFeedbackSchema, required=True)


def staff_feedback_representation(item: FeedbackItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "message": item.message,
        "email": item.email,
        "page": item.page_path,
        "user_id": item.user_id,
        "created_at": item.created_at,
        "is_handled": item.handled_at is not None,
        "handled_at": item.handled_at,
        "reply": item.reply,
        "replied_at": item.replied_at,
    }

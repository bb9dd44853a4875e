"""What the feedback tests compare: the stored rows, and the form as a browser sends it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from funnel.extensions import db
from funnel.feedback import services
from funnel.feedback.models import Feedback


def feedback_state() -> list[tuple[object, ...]]:
    """Every stored item as (message, email, page path, user id, handled?, reply)."""
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Feedback).order_by(Feedback.id))
    return [
        (row.message, row.email, row.page_path, row.user_id, row.is_handled, row.reply)
        for row in rows
    ]


def send_form(client: FlaskClient, **fields: Any) -> TestResponse:
    data = {"message": "Love the mugs", "email": "", "page": "/products/mug", **fields}
    return client.post("/feedback", data=data)


def stored(message: str = "Love the mugs", email: str | None = "shopper@example.com") -> int:
    """A piece of feedback sent as a shopper would (through the service); its id."""
    return services.send_feedback(message, email, "/products/mug").id

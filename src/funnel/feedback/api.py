"""Feedback over the JSON API: ``POST /feedback``, anonymous or with a bearer token (the
account is then noted). The same service as the storefront's form, and the same rate limit
per client address (the counter is shared)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from funnel.accounts.access import authenticate, bearer_secret
from funnel.core.api import API_PREFIX, errors
from funnel.feedback import services
from funnel.feedback.limits import feedback_limit
from funnel.feedback.schemas import FeedbackInputSchema, SentFeedbackSchema

bp = Blueprint("feedback_api", __name__, url_prefix=API_PREFIX, description="Shoppers' feedback")

OPTIONAL_BEARER = [{}, {"bearerAuth": []}]


@bp.route("/feedback", methods=["POST"])
@feedback_limit
@bp.doc(security=OPTIONAL_BEARER)
@bp.response(201, SentFeedbackSchema)
@errors(bp, 400, 401, 413, 429)
@bp.arguments(FeedbackInputSchema)
def send_feedback(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Send feedback to the shop

    A message (up to 2,000 characters, not blank once trimmed), an optional `email` for an
    answer, and optionally the `page` it is about as a path on this shop (the query string is
    dropped; anything else is not kept). Staff read it in their feedback inbox. With a bearer
    token the account is noted; a token that is not live is a 401. A message blank once
    trimmed or an email that is not an address is a 422 `invalid_feedback`. Limited per client
    address, shared with the storefront's form: past it, a 429.
    """
    user_id = authenticate().id if bearer_secret() is not None else None
    feedback = services.send_feedback(data["message"], data["email"], data["page"], user_id)
    return {"id": feedback.id, "page": feedback.page_path, "created_at": feedback.created_at}, 201

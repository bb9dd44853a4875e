"""The rate limit on sending feedback, shared by the form and the API (one counter per client
address): a client cannot send more by switching from the page to ``POST /api/v1/feedback``.
Only feedback that was stored counts; a form sent back with its errors costs nothing."""

from __future__ import annotations

from typing import Any

from flask import Response

from funnel.extensions import limiter

FEEDBACK_PER_CLIENT = "5 per 10 minutes"


def _stored(response: Response) -> bool:
    """The page redirects to its thank-you message (303), the API answers 201."""
    return response.status_code in (201, 303)


def feedback_limit(function: Any) -> Any:
    return limiter.shared_limit(
        FEEDBACK_PER_CLIENT, scope="feedback", methods=["POST"], deduct_when=_stored
    )(function)

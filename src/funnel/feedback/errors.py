"""Feedback's domain errors (stable codes, mapped once at the edge)."""

from __future__ import annotations

from funnel.core.errors import Conflict, NotFound, ValidationFailed


class InvalidFeedback(ValidationFailed):
    """A message blank or too long, an email that is not an address, a reply too long."""

    code = "invalid_feedback"
    title = "The feedback is not valid"


class FeedbackNotFound(NotFound):
    code = "feedback_not_found"
    title = "No such feedback"


class FeedbackCannotBeAnswered(Conflict):
    """No email was left, or it was answered already: one reply, by email, per item."""

    code = "feedback_cannot_be_answered"
    title = "This feedback cannot be answered by email"

"""Analytics errors, each with a stable ``code``."""

from __future__ import annotations

from funnel.core.errors import DomainError, ValidationFailed


class InvalidFunnelEvent(ValidationFailed):
    code = "invalid_funnel_event"
    title = "The funnel event is not valid"


class InvalidVisitorId(DomainError):
    """An API call's ``Funnel-Visitor`` header that is not a visitor id (400)."""

    code = "visitor_id_invalid"
    status = 400
    title = "The Funnel-Visitor header is not a visitor id"

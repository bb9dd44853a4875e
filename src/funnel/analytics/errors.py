"""Analytics errors, each with a stable ``code``."""

from __future__ import annotations

from funnel.core.errors import ValidationFailed


class InvalidFunnelEvent(ValidationFailed):
    code = "invalid_funnel_event"
    title = "The funnel event is not valid"

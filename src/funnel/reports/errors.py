"""Errors of the reports domain, each with a stable ``code``."""

from __future__ import annotations

from funnel.core.errors import ValidationFailed


class InvalidReportPeriod(ValidationFailed):
    """Days of a report that are not a period it can show (422, messages by field)."""

    code = "invalid_report_period"
    title = "The report's days are not right"

"""Audit log errors, each with a stable ``code``."""

from __future__ import annotations

from funnel.core.errors import ValidationFailed


class InvalidAuditFilter(ValidationFailed):
    """A filter of the audit log that is not one (an unknown kind of object, a bad date)."""

    code = "invalid_audit_filter"
    title = "The audit log filter is not valid"

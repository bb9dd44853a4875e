"""Domain errors: each has a stable ``code`` and an HTTP status, mapped once at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

BEARER_CHALLENGE = 'Bearer realm="funnel"'
PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """Base of every business error. Subclasses set ``code``, ``status`` and ``title``;
    ``headers`` go on the response (a 401's ``WWW-Authenticate`` challenge)."""

    code: ClassVar[str] = "domain_error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "The request could not be completed"
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)


class MalformedRequest(DomainError):
    """A request that cannot be read (a JSON body nested too deep); ``fields`` says where."""

    code = "malformed_request"
    status = 400
    title = "The request is malformed"


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = "Not found"


class AuthenticationRequired(DomainError):
    """No credentials, or credentials that are unknown, expired or revoked (API tokens)."""

    code = "authentication_required"
    status = 401
    title = "Authentication required"
    headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": BEARER_CHALLENGE}


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    title = "You do not have permission to do this"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "The request conflicts with the current state"


class ValidationFailed(DomainError):
    """Input that breaks a rule; ``fields`` maps a field name to its messages."""

    code = "validation_failed"
    status = 422
    title = "Some fields are not valid"

    def __init__(self, detail: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(detail, fields=fields or {})
        self.fields = fields or {}


RETRY_AFTER_SECONDS = 10


class ServiceUnavailable(DomainError):
    """The shop cannot answer now, through no fault of the request: try again shortly."""

    code = "service_unavailable"
    status = 503
    title = "The shop is not available right now"
    headers: ClassVar[Mapping[str, str]] = {"Retry-After": str(RETRY_AFTER_SECONDS)}


class DatabaseUnavailable(ServiceUnavailable):
    """The database could not be reached (or refused the connection): nothing was changed."""

    code = "database_unavailable"
    title = "The shop is not available right now"


class RequestTimedOut(ServiceUnavailable):
    """The request ran past the shop's request deadline: its work was rolled back."""

    code = "request_timeout"
    title = "The request took too long"

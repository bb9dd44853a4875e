"""HTTP plumbing shared by every blueprint: error pages, problem+json, security headers."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from funnel.core.database import UNAVAILABLE_ERRORS, is_statement_timeout
from funnel.core.errors import (
    BEARER_CHALLENGE,
    PROBLEM_JSON,
    DatabaseUnavailable,
    DomainError,
    RequestTimedOut,
    ServiceUnavailable,
    ValidationFailed,
)
from funnel.core.limits import limiter
from funnel.core.logs import current_request_id

log = logging.getLogger(__name__)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def content_security_policy(extra_sources: Mapping[str, Iterable[str]] | None = None) -> str:
    """The shop's policy with ``extra_sources`` allowed, by directive (a page that loads a
    payment gateway's script sets this on its own answer)."""
    directives: dict[str, list[str]] = {}
    for directive in CONTENT_SECURITY_POLICY.split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    for name, sources in (extra_sources or {}).items():
        base = directives.setdefault(name, list(directives["default-src"]))
        base.extend(source for source in sources if source not in base)
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


def wants_json() -> bool:
    """API paths, and clients that prefer JSON over HTML, get problem+json errors."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_JSON])
    return best in {"application/json", PROBLEM_JSON}


def problem_response(
    status: int, title: str, detail: str, code: str, **extra: Any
) -> tuple[Response, int]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body["code"] = code
    if status >= 500 and (request_id := current_request_id()):
        # what a client quotes to support: the id of the log lines of this failure
        body["request_id"] = request_id
    body.update({key: _jsonable(value) for key, value in extra.items() if value is not None})
    response = jsonify(body)
    response.mimetype = PROBLEM_JSON
    return response, status


def _jsonable(value: Any) -> Any:
    """Domain errors may carry dataclasses (short stock lines...): plain JSON for clients."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {key: _jsonable(item) for key, item in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def error_response(
    status: int, title: str, detail: str, code: str, **extra: Any
) -> tuple[Response | str, int]:
    if wants_json():
        return problem_response(status, title, detail, code, **extra)
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Any:
        extra = dict(error.extra)
        if isinstance(error, ValidationFailed):
            extra["fields"] = error.fields
        if isinstance(error, ServiceUnavailable) and not wants_json():
            # A page that needs no database: the usual layout asks it for the cart and account.
            page = render_template(
                "errors/unavailable.html", title=error.title, detail=error.detail
            )
            return page, error.status, dict(error.headers)
        response, status = error_response(
            error.status, error.title, error.detail, error.code, **extra
        )
        headers = dict(error.headers)
        if status == 401 and wants_json():
            headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)
        return response, status, headers

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if error.code is None or error.code < 400:
            return error
        status = error.code
        code = (error.name or "error").lower().replace(" ", "_")
        detail = error.description or error.name
        if status == 429:
            detail = _too_many_requests_detail()
        fields = _invalid_fields(error)
        if fields is not None:
            # webargs (API input) rejected the request: the fields and their messages.
            title = "Some fields are not valid" if status == 422 else "The request is malformed"
            code = "validation_failed" if status == 422 else "malformed_request"
            detail = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in fields.items())
            response, status = error_response(status, title, detail[:500], code, fields=fields)
        else:
            response, status = error_response(status, error.name, detail, code)
        return response, status, _passed_on_headers(error)

    def _database_unavailable(error: Exception) -> Any:
        """An outage, not a bug: a 503 with Retry-After, logged in one line (the driver's
        message: the statement's parameters may hold personal data)."""
        cause = str(getattr(error, "orig", None) or error).strip()
        if is_statement_timeout(error):
            log.warning("a statement ran past the request deadline: %s", cause)
            return _domain_error(RequestTimedOut())
        log.error("database unavailable: %s", cause)
        return _domain_error(
            DatabaseUnavailable(
                "The shop cannot reach its database; nothing was changed. "
                "Please try again in a moment."
            )
        )

    for error_class in UNAVAILABLE_ERRORS:
        app.register_error_handler(error_class, _database_unavailable)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response | str, int]:
        log.exception("unhandled error", exc_info=error)
        return error_response(
            500,
            "Something went wrong",
            "An unexpected error happened on our side. It has been logged.",
            "internal_error",
        )


def _invalid_fields(error: HTTPException) -> dict[str, list[str]] | None:
    """The ``{field: [messages]}`` of a webargs validation error, one level per location
    (``json``, ``query``...) removed and nested names joined with dots; None for other errors."""
    data = getattr(error, "data", None)
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, dict):
        return None
    fields: dict[str, list[str]] = {}

    def collect(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                name = str(key) if key != "_schema" else ""
                collect(f"{prefix}.{name}" if prefix and name else (name or prefix), item)
        elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            fields.setdefault(prefix or "body", []).extend(value)
        else:
            fields.setdefault(prefix or "body", []).append(str(value))

    for location_messages in messages.values():
        collect("", location_messages)
    return fields


def _too_many_requests_detail() -> str:
    """Say when to try again, in words, from the limit that was hit (its window's reset)."""
    current = limiter.current_limit
    if current is None:
        return "Too many attempts in a short time. Please wait a little and try again."
    seconds = max(1, int(current.reset_at - time.time()))
    wait = f"{seconds} seconds" if seconds < 120 else f"about {(seconds + 59) // 60} minutes"
    return f"Too many attempts in a short time. Please try again in {wait}."


def _passed_on_headers(error: HTTPException) -> dict[str, str]:
    """Keep the headers the original error carried (Allow on 405, Retry-After on 429)."""
    response = error.get_response()
    headers: dict[str, str] = {}
    for name in ("Retry-After", "Allow", "RateLimit-Limit", "X-RateLimit-Limit"):
        if name in response.headers:
            headers[name] = response.headers[name]
    return headers


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def add_security_headers(response: Response) -> Response:
    """The security headers a view did not set itself, on every answer. The names present are
    read once (``Headers.setdefault`` scans them all for each header: a tenth of a kept page's
    CPU)."""
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    hsts_seconds = current_app.config.get("HSTS_SECONDS", 0)
    if hsts_seconds > 0:
        # Sent on every answer in production: behind a TLS proxy the app may see plain http,
        # and browsers ignore the header on a response that did not come over HTTPS anyway.
        policy = f"max-age={hsts_seconds}"
        if current_app.config.get("HSTS_INCLUDE_SUBDOMAINS", True):
            policy += "; includeSubDomains"
        headers.setdefault("Strict-Transport-Security", policy)
    return response

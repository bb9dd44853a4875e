"""What the account pages share: a domain error's messages beside their fields, the safe
``next`` target after sign-in, a form page's status, the per-account rate limit key."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from funnel.core.errors import DomainError, ValidationFailed

INVALID = 422


def user_rate_key() -> str:
    return f"user:{current_user.get_id()}"


def show_errors(form: FlaskForm, error: DomainError, rename: dict[str, str] | None = None) -> None:
    """Put a domain error's messages beside the fields they concern (or atop the form)."""
    if isinstance(error, ValidationFailed) and error.fields:
        messages = error.fields
    else:
        messages = {getattr(error, "field", None) or "": [error.detail]}
    for name, field_messages in messages.items():
        field = form._fields.get((rename or {}).get(name, name)) if name else None
        if field is None:
            form.form_errors.extend(field_messages)
        else:
            field.errors = [*field.errors, *field_messages]


def safe_next() -> str | None:
    """The ``next`` target when it stays on this site; None otherwise (no open redirect)."""
    target = request.args.get("next", "")
    if not target or len(target) > 2048 or any(char in target for char in "\\\r\n\t"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.scheme not in {"http", "https"} or parts.netloc != request.host:
            return None
        return urlunsplit(("", "", parts.path or "/", parts.query, ""))
    if not parts.path.startswith("/") or target.startswith("//"):
        return None
    return target


def render_form(template: str, form: FlaskForm, **context: object) -> ResponseReturnValue:
    status = INVALID if form.is_submitted() else 200
    return render_template(template, form=form, **context), status

"""Idempotency keys for API operations that create orders, payments or refunds.

A client that is not sure its request arrived (a timeout, a dropped connection) sends it
again with the same ``Idempotency-Key`` header, and the shop does the work once:

- same key, same request (method, path, body) -> the stored response, with the header
  ``Idempotent-Replayed: true``;
- same key, another request -> 422 ``idempotency_key_reused``; nothing runs;
- same key while the first request is still running -> 409 ``idempotency_request_in_progress``;
  the client retries a moment later and gets the stored response.

Keys are scoped to the caller (a hash of the credentials it presents: a bearer token or a
cart's secret), so two clients never see each other's responses, and kept for
``IDEMPOTENCY_KEY_HOURS`` (24 by default; a job deletes older ones).

What is stored: responses the operation produced, success or a final refusal (4xx). Not
stored, so that the same key may be tried again: server errors (the work was rolled back),
and answers that say "not now" or "not you" (401, 403, 404, 409, 429). A request whose worker
died is taken over after ``IDEMPOTENCY_LOCK_SECONDS`` (60: longer than a request may run, as
gunicorn's timeout, 30 s by default, ends it sooner).

The caller is checked first: a request refused for who is calling (401, 403, 404 for an object
it may not reach, 429) never claims a key, so it writes nothing and cannot learn whether a key
is in use. The operation's access decorators go above ``@idempotent``, and checks that need the
operation's arguments are its ``authorize`` callable.

Knows no domain: an ``api`` module puts ``@idempotent(bp)`` under ``@bp.route(...)`` and the
access decorators.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, request
from flask_smorest import Blueprint
from sqlalchemy import Integer, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.dialects import mysql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core import clock
from funnel.core.api import errors
from funnel.core.database import UNAVAILABLE_ERRORS, db, transaction
from funnel.core.errors import Conflict, ValidationFailed
from funnel.core.models import now

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
LOCK_SECONDS = 60
RELEASE_FIRST_PAUSE = 0.25  # seconds; doubled after each failed try, up to the longest
RELEASE_LONGEST_PAUSE = 5.0
DEFAULT_KEEP_HOURS = 24
# Answers that are not the operation's final word on this request: not stored.
NOT_STORED = frozenset({401, 403, 404, 409, 429})
REPLAYED_HEADERS = ("Content-Type", "Location")
CREDENTIAL_HEADERS = ("Authorization", "Cart-Secret")

LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


class IdempotencyKeyReused(ValidationFailed):
    code = "idempotency_key_reused"
    title = "This idempotency key was used for another request"


class IdempotencyRequestInProgress(Conflict):
    code = "idempotency_request_in_progress"
    title = "A request with this idempotency key is still running"


class IdempotencyRecord(db.Model):
    """One idempotency key of one caller: the request's fingerprint, then its response."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column("idempotency_key", String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[str | None] = mapped_column(LongText)
    locked_at: Mapped[datetime | None] = mapped_column(default=now)
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)

    @property
    def is_complete(self) -> bool:
        return self.response_status is not None


@dataclass(frozen=True)
class _Claim:
    record_id: int


def caller_scope() -> str:
    """The caller, as the SHA-256 of the credentials it presents (none: its address)."""
    parts = [f"{name}={request.headers.get(name, '')}" for name in CREDENTIAL_HEADERS]
    if not any(request.headers.get(name) for name in CREDENTIAL_HEADERS):
        parts.append(f"address={request.remote_addr or ''}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def request_fingerprint() -> str:
    """Method, path, query and body; a JSON body compared by content, not by its spacing."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.full_path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def checked_key(raw: str | None) -> str:
    """The header's value: 1 to 255 visible ASCII characters. Raises ValidationFailed."""
    key = (raw or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        message = f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters."
        raise ValidationFailed(message, fields={HEADER: [message]})
    return key


def _replay(record: IdempotencyRecord) -> Response:
    headers = json.loads(record.response_headers or "{}")
    response = Response(record.response_body or "", status=record.response_status)
    for name, value in headers.items():
        response.headers[name] = value
    response.headers[REPLAY_HEADER] = "true"
    return response


def _find(scope: str, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    )


def _take_over(record: IdempotencyRecord) -> bool:
    """Claim a record whose request never finished (its worker died); True when this won."""
    with transaction():
        taken = db.session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.id == record.id,
                IdempotencyRecord.response_status.is_(None),
                IdempotencyRecord.locked_at == record.locked_at,
            )
            .values(locked_at=clock.utcnow())
            .execution_options(synchronize_session=False)
        )
        return taken.rowcount == 1


def claim(scope: str, key: str, fingerprint: str) -> _Claim | Response:
    """Start the request under ``key``, or answer it from an earlier one.

    Returns a claim (run the operation, then ``finish`` or ``release``) or the stored response.
    Raises IdempotencyKeyReused, IdempotencyRequestInProgress.
    """
    try:
        with transaction():
            record = IdempotencyRecord(scope=scope, key=key, request_hash=fingerprint)
            db.session.add(record)
            db.session.flush()
            return _Claim(record.id)
    except IntegrityError:
        pass  # the key is known: a replay, a reuse or a request still running
    record = _find(scope, key)
    if record is None:  # deleted meanwhile (released, or expired): try once more
        return claim(scope, key, fingerprint)
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "This idempotency key was used for a different request: use a new key for a new "
            "request."
        )
    if record.is_complete:
        return _replay(record)
    lock_seconds = int(current_app.config.get("IDEMPOTENCY_LOCK_SECONDS", LOCK_SECONDS))
    stale = clock.utcnow() - timedelta(seconds=lock_seconds)
    if record.locked_at is not None and record.locked_at < stale and _take_over(record):
        return _Claim(record.id)
    raise IdempotencyRequestInProgress(
        "The first request with this idempotency key is still running: retry in a moment."
    )


def finish(claimed: _Claim, response: Response) -> None:
    """Store the operation's response under its key (or free the key: see the module)."""
    if response.status_code >= 500 or response.status_code in NOT_STORED:
        release(claimed)
        return
    headers = {
        name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers
    }
    with transaction():
        db.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == claimed.record_id)
            .values(
                response_status=response.status_code,
                response_headers=json.dumps(headers),
                response_body=response.get_data(as_text=True),
                locked_at=None,
            )
            .execution_options(synchronize_session=False)
        )


def release(claimed: _Claim) -> None:
    """Forget the key: the request may be sent again with it.

    When the database cannot be reached (the outage that failed the request, most likely), a
    background thread keeps trying until it answers, so that the key is free as soon as the
    database is back rather than when the claim goes stale.
    """
    try:
        _delete(claimed)
    except UNAVAILABLE_ERRORS:
        db.session.rollback()
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        threading.Thread(
            target=_release_when_back, args=(app, claimed), name="idempotency-release", daemon=True
        ).start()


def _delete(claimed: _Claim) -> None:
    with transaction():
        db.session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.id == claimed.record_id)
            .execution_options(synchronize_session=False)
        )


def _release_when_back(app: Flask, claimed: _Claim) -> None:
    pause, waited = RELEASE_FIRST_PAUSE, 0.0
    while waited < LOCK_SECONDS:
        time.sleep(pause)
        waited += pause
        with app.app_context():
            try:
                _delete(claimed)
            except UNAVAILABLE_ERRORS:
                pause = min(pause * 2, RELEASE_LONGEST_PAUSE)
                continue
            finally:
                db.session.remove()
            log.info("idempotency key %s freed once the database answered", claimed.record_id)
            return


def keep_hours() -> int:
    return int(current_app.config.get("IDEMPOTENCY_KEY_HOURS", DEFAULT_KEEP_HOURS))


def delete_expired_keys(hours: int | None = None) -> int:
    """Delete keys older than ``hours`` (``IDEMPOTENCY_KEY_HOURS``); returns how many."""
    cutoff = clock.utcnow() - timedelta(hours=hours if hours is not None else keep_hours())
    with transaction():
        deleted = db.session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.created_at < cutoff)
            .execution_options(synchronize_session=False)
        )
        return deleted.rowcount or 0


def _run(function: Callable[..., Any], args: Any, kwargs: Any) -> Response:
    """The operation's response, with a domain or HTTP error turned into its problem answer."""
    try:
        return current_app.make_response(function(*args, **kwargs))
    except Exception as error:  # an error without a handler is raised again by Flask
        return current_app.make_response(current_app.handle_user_exception(error))


def idempotent(
    blueprint: Blueprint,
    *,
    required: bool = False,
    scope: Callable[[], str] = caller_scope,
    authorize: Callable[..., object] | None = None,
) -> Callable[[Any], Any]:
    """Make an operation honour the ``Idempotency-Key`` header (see the module); document it.

    ``required``: a request without the header is refused (422), for operations where a
    retry must never do the work twice (refunds). ``authorize``: called with the operation's
    path arguments before any key is claimed; it raises when the caller may not call it.
    """

    def decorate(function: Any) -> Any:
        @wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if authorize is not None:
                authorize(*args, **kwargs)
            raw = request.headers.get(HEADER)
            if raw is None and not required:
                return function(*args, **kwargs)
            key = checked_key(raw)
            outcome = claim(scope(), key, request_fingerprint())
            if isinstance(outcome, Response):
                return outcome
            try:
                response = _run(function, args, kwargs)
            except BaseException:
                release(outcome)
                raise
            finish(outcome, response)
            return response

        documented = blueprint.doc(
            parameters=[
                {
                    "in": "header",
                    "name": HEADER,
                    "required": required,
                    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
                    "description": "A unique key per intended operation (a UUID): a retry "
                    "with the same key and body returns the first response (header "
                    f"`{REPLAY_HEADER}: true`); another body -> 422; while the first is "
                    f"running -> 409. Kept {DEFAULT_KEEP_HOURS} hours.",
                }
            ]
        )(wrapper)
        return errors(blueprint, 409, 422)(documented)

    return decorate

"""Logs an operator can search: one JSON object per line on standard output (production) or
plain text (development), one line per request, and a request id that follows the work into
background jobs.

- Every line has ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and, inside a
  request or a job it enqueued, ``request_id``.
- The request id is the client's ``X-Request-ID`` when it is sane (8 to 128 letters, digits,
  ``.``, ``_``, ``:`` or ``-``), else a new one; it is returned in ``X-Request-ID``, shown on
  the error page, and sent to Celery jobs as a task header.
- What is never written: query strings, URL segments that are secrets (``<token>``), request
  bodies (passwords, card numbers), cookies, headers. As a last guard, anything shaped like a
  card number is masked in every line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from celery import signals
from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "funnel_request_id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
# 13 to 19 digits, perhaps grouped by spaces or dashes: a card number (PAN). Not a run of
# digits inside a word or a dashed identifier (a UUID: a job's id, a request's): a letter or
# digit next to it, or a dash and then one, makes it part of something else. Without that, one
# job id in fifty lost its middle to the mask, and the log no longer named the job.
_CARD_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9A-Za-z]-)(?:[0-9][ -]?){12,18}[0-9](?![0-9A-Za-z])(?!-[0-9A-Za-z])"
)
_SECRET_ARGUMENTS = {"token", "secret", "key", "code", "password"}
# Standard LogRecord attributes: everything else on a record was passed with ``extra=``.
_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}

_request_id: ContextVar[str | None] = ContextVar("funnel_request_id", default=None)
request_log = logging.getLogger("funnel.request")


def current_request_id() -> str | None:
    """The id of the request (or of the request that enqueued the job) being served."""
    return _request_id.get()


def mask_card_numbers(text: str) -> str:
    return _CARD_NUMBER.sub("[card number]", text)


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id (``-`` outside any request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_card_numbers(record.getMessage()),
        }
        request_id = getattr(record, "request_id", "-")
        if request_id != "-":
            entry["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = mask_card_numbers(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Development's readable lines, masked as the JSON ones are."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return mask_card_numbers(super().format(record))


class StandardOutputHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at the time (a test's capture, a redirected
    stream), never to a stream closed since the handler was made."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(log_format: str, level: str, *, to_standard_output: bool = True) -> None:
    """Send every logger's records to standard output in ``log_format`` (json or text).

    Building a second app replaces the handler rather than adding one (no doubled lines)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StandardOutputHandler):
            root.removeHandler(handler)
    if not to_standard_output:
        return
    handler = StandardOutputHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())


def remove_logging() -> None:
    configure_logging("text", "info", to_standard_output=False)


def init_app(app: Flask) -> None:
    """Configure logging from ``LOG_FORMAT``/``LOG_LEVEL`` and log every request.

    Tests keep pytest's own log capture unless they ask for standard output (``LOG_TO_STDOUT``).
    """
    configure_logging(
        app.config.get("LOG_FORMAT", "text"),
        app.config.get("LOG_LEVEL", "info"),
        to_standard_output=not app.testing or bool(app.config.get("LOG_TO_STDOUT")),
    )
    app.before_request(_start_request)
    app.after_request(_log_request)
    app.teardown_request(_end_request)
    app.jinja_env.globals["request_id"] = current_request_id
    _connect_job_signals()


def _start_request() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = given if _VALID_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.funnel_request_started = time.perf_counter()
    g.funnel_request_token = _request_id.set(request_id)


def _log_request(response: Response) -> Response:
    request_id = current_request_id()
    if request_id is None:  # a hook before ours answered: still give the response an id
        _start_request()
        request_id = current_request_id()
    response.headers[REQUEST_ID_HEADER] = request_id or ""
    started = g.get("funnel_request_started", time.perf_counter())
    request_log.info(
        "%s %s %s",
        request.method,
        loggable_path(),
        response.status_code,
        extra={
            "method": request.method,
            "path": loggable_path(),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": _user_id(),
        },
    )
    return response


def _end_request(_error: BaseException | None) -> None:
    token = g.pop("funnel_request_token", None)
    if token is not None:
        _request_id.reset(token)


def loggable_path() -> str:
    """The path without its query string, secret URL segments (``<token>``) replaced."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name.lower() in _SECRET_ARGUMENTS and isinstance(value, str) and value:
            path = path.replace(value, f"<{name}>")
    return mask_card_numbers(path)


def _user_id() -> int | None:
    """The account this request was served for, as already loaded (never a query of its
    own): the session's user on pages, the bearer token's on the API."""
    for key in ("funnel_api_user", "_login_user"):
        user = g.get(key)
        if user is not None and getattr(user, "is_authenticated", False):
            return getattr(user, "id", None)
    return None


# --- background jobs: the request id travels in a task header --------------------------------

_signals_connected = False
_job_tokens: dict[str, Any] = {}


def _connect_job_signals() -> None:
    global _signals_connected
    if _signals_connected:
        return
    # The worker keeps the app's logging (JSON lines) instead of installing its own format.
    signals.setup_logging.connect(_keep_the_apps_logging, weak=False)
    signals.before_task_publish.connect(_add_request_id_header, weak=False)
    signals.task_prerun.connect(_adopt_request_id, weak=False)
    signals.task_postrun.connect(_forget_request_id, weak=False)
    _signals_connected = True


def _keep_the_apps_logging(**_kwargs: Any) -> None:
    """Connected, this tells Celery that logging is configured (by ``configure_logging``)."""


def _add_request_id_header(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def task_request_id(task_request: Any) -> str | None:
    """The request id a job was enqueued under: a message header, which Celery exposes on the
    task's request (or under its ``headers`` for older protocol messages)."""
    value = getattr(task_request, TASK_HEADER, None)
    if value is None:
        value = (getattr(task_request, "headers", None) or {}).get(TASK_HEADER)
    return value if isinstance(value, str) and _VALID_REQUEST_ID.fullmatch(value) else None


def _adopt_request_id(task_id: str | None = None, task: Any = None, **_kwargs: Any) -> None:
    request_id = task_request_id(task.request) if task is not None else None
    if request_id and task_id:  # an eager job inside a request already has the request's id
        _job_tokens[task_id] = _request_id.set(request_id)


def _forget_request_id(task_id: str | None = None, **_kwargs: Any) -> None:
    token = _job_tokens.pop(task_id or "", None)
    if token is not None:
        _request_id.reset(token)

"""The request deadline: a request that runs longer than ``REQUEST_TIMEOUT_SECONDS`` stops with
``RequestTimedOut``, answered as a 503 problem (or page) with ``Retry-After``, its transaction
rolled back, instead of being killed by gunicorn's worker timeout (an HTML page, a lost worker).

gunicorn's sync workers serve one request at a time in their main thread, so a ``SIGALRM``
timer can interrupt it: the exception is raised wherever Python code runs at that moment (a
gateway call, a wait for a lock), ``transaction()`` rolls back, and the error handler answers.
A blocking C call (SQLite waiting for its busy timeout) is interrupted when it returns; the
database's own statement timeout (``database.configure_engine``) cuts long statements.
Requests served outside the main thread (the threaded development server) have no deadline.
Set gunicorn's ``--timeout`` above the deadline, so that the shop answers first.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from flask import Flask, Response, current_app, g

from funnel.core.errors import RequestTimedOut

_ARMED = "funnel_deadline_armed"


def init_app(app: Flask) -> None:
    if not app.config.get("REQUEST_TIMEOUT_SECONDS") or not hasattr(signal, "setitimer"):
        return
    app.before_request(_arm)
    app.after_request(_disarm_after)  # registered last, so it runs first of the after hooks
    app.teardown_request(_disarm)


def _expired(_signal_number: int, _frame: Any) -> None:
    raise RequestTimedOut(
        "The request took too long and was stopped; nothing it started was kept. Please try again."
    )


def _arm() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    setattr(g, _ARMED, signal.signal(signal.SIGALRM, _expired))
    signal.setitimer(signal.ITIMER_REAL, float(current_app.config["REQUEST_TIMEOUT_SECONDS"]))


def _disarm_after(response: Response) -> Response:
    _disarm()
    return response


def _disarm(_error: BaseException | None = None) -> None:
    previous = g.pop(_ARMED, None)
    if previous is None:
        return
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)

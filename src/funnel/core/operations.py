"""What an operator watches: structured logs with request ids, and the health endpoints.

One call from the application factory, early, so that the request id exists before any other
hook runs and every log line of the request carries it.
"""

from __future__ import annotations

from flask import Flask

from funnel.core import health, logs


def init_app(app: Flask) -> None:
    logs.init_app(app)
    health.init_app(app)

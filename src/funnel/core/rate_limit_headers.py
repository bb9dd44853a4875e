"""``RateLimit`` and ``RateLimit-Policy`` headers on API answers (IETF httpapi draft).

Flask-Limiter already sends ``Retry-After`` on a 429 (and its ``X-RateLimit-*`` headers);
these say the same in the standard's words, on every answer of a limited operation, so that a
client slows down before it is refused:

    RateLimit-Policy: "sign-in";q=10;w=60
    RateLimit: "sign-in";r=3;t=42

(``q`` requests per ``w`` seconds; ``r`` left, ``t`` seconds until the window resets.)
"""

from __future__ import annotations

import math
import re
import time

from flask import Flask, Response, request

from funnel.core.limits import limiter

_UNSAFE = re.compile(r"[^a-z0-9_.:-]+")


def _policy_name(request_args: list[str]) -> str:
    scope = request_args[-1] if request_args else ""
    name = _UNSAFE.sub("-", str(scope).lower()).strip("-")
    return name[:64] or "default"


def add_rate_limit_headers(response: Response) -> Response:
    """``after_request``: the most pressing limit of this request, on API answers."""
    if not request.path.startswith("/api/"):
        return response
    current = limiter.current_limit
    if current is None:
        return response
    name = _policy_name(current.request_args)
    window = current.limit.get_expiry()
    # Flask-Limiter rounds the reset up to the next second: never say more than the window.
    seconds = min(window, max(0, math.ceil(current.reset_at - time.time())))
    response.headers["RateLimit-Policy"] = f'"{name}";q={current.limit.amount};w={window}'
    response.headers["RateLimit"] = f'"{name}";r={max(0, current.remaining)};t={seconds}'
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_rate_limit_headers)

"""Cross-origin calls to the JSON API, for a storefront served from another origin.

Off by default: browsers then refuse pages of other origins the API's answers. ``CORS_ORIGINS``
(``FUNNEL_CORS_ORIGINS``: a comma-separated list of origins such as
``https://shop.example.com``, or ``*`` for any) lets those origins call ``/api/``. The API is
authenticated by bearer tokens and cart secrets, never by cookies, so credentials are not
allowed (no ``Access-Control-Allow-Credentials``) and a page of another origin gains nothing
from a visitor's session here. Preflight requests get the methods and the headers the API
reads; answers expose the headers a client acts on.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

ALLOWED_METHODS = "GET, POST, PATCH, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, Cart-Secret, Funnel-Visitor"
EXPOSED_HEADERS = "Location, Retry-After, RateLimit, RateLimit-Policy, Idempotent-Replayed"
PREFLIGHT_MAX_AGE = "600"


def allowed_origin(origin: str | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for ``origin``, or None (not allowed)."""
    origins: tuple[str, ...] = current_app.config.get("CORS_ORIGINS", ())
    if not origin or not origins:
        return None
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


def add_cors_headers(response: Response) -> Response:
    """``after_request``: CORS headers on API answers to an allowed origin."""
    if not request.path.startswith("/api/"):
        return response
    allowed = allowed_origin(request.headers.get("Origin"))
    response.vary.add("Origin")
    if allowed is None:
        return response
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = allowed
    headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_cors_headers)

"""Who is tracked, and how: an anonymous visitor id per browser, and one visit per visitor a day.

``init_app(app)`` registers a ``before_request``/``after_request`` pair. Every tracked browser
gets a random ``funnel_visitor`` cookie (one year, HttpOnly, SameSite=Lax, Secure like the
session cookie); its first successful page view of the (UTC) day records a visit, and a
``funnel_visit_day`` cookie holding today's date keeps the other requests of the day from
touching the database at all.

Not tracked (no cookie set, nothing recorded, the shop works the same): static files, media,
health, metrics and webhook paths; known bots; browsers sending ``DNT: 1`` or ``Sec-GPC: 1``;
and requests the app's ``is_excluded`` hook names (staff). No IP address or user agent is
stored: a page's visit keeps where it came from (UTM tags or the referring site's host), its
landing page's path and a device class (``sources``).

The API sets no cookie: a headless storefront tracks its shopper by sending the visitor id it
keeps for them (with its own consent handling) in a ``Funnel-Visitor`` header. A call without
it is not tracked; a malformed one is a 400 problem; ``DNT``/``Sec-GPC`` are honoured as on the
pages. The first successful call of the (UTC) day carrying an id records its visit: the app
remembers the visitor-days it recorded, so the other calls of the day touch no database.

Other edges call ``current_visitor_id()`` (None when the request is not tracked) and pass it to
a service, or call ``track(stage, ...)`` from a view.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_login import current_user

from funnel.analytics import batches, services
from funnel.analytics.errors import InvalidVisitorId
from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.analytics.sources import VisitSource, visit_source
from funnel.core import clock

log = logging.getLogger(__name__)

VISITOR_COOKIE = "funnel_visitor"
VISITOR_HEADER = "Funnel-Visitor"
API_PREFIX = "/api/"
VISIT_DAY_COOKIE = "funnel_visit_day"
VISITOR_COOKIE_MAX_AGE = 365 * 24 * 60 * 60
VISIT_DAY_COOKIE_MAX_AGE = 2 * 24 * 60 * 60
SKIPPED_PATHS = (
    "/static/",
    "/media/",
    "/health",  # /health/live, /health/ready, /healthz
    "/readyz",
    "/metrics",
    "/webhooks/",
    "/favicon.ico",
    "/robots.txt",
)
BOT_MARKERS = (
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "preview",
    "curl/",
    "wget/",
    "python-requests",
    "python-httpx",
    "go-http-client",
)
VISITOR_ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
_VISITOR_ID = re.compile(VISITOR_ID_PATTERN)
# The header in the OpenAPI document, on every operation a shopper's action calls.
VISITOR_PARAMETER_NAME = "FunnelVisitor"
VISITOR_PARAMETER = {
    "description": "The shopper's anonymous visitor id, kept by the client, to count this call "
    "in the shop's sales funnel (a visit, a product view, an add to cart, a checkout). Leave "
    "it out not to be counted; a malformed one is a 400 `visitor_id_invalid`.",
    "required": False,
    "schema": {"type": "string", "pattern": VISITOR_ID_PATTERN},
}
_EXTENSION_KEY = "funnel.analytics"
# Visitor-days whose API visit this process has recorded; emptied when it grows past this.
_REMEMBERED_API_VISITS = 10_000


@dataclass
class _Visitor:
    visitor_id: str
    is_new: bool
    is_eligible: bool  # before the app's is_excluded hook, which is asked lazily
    is_excluded: bool | None = None
    is_api: bool = False


def init_app(
    app: Flask,
    *,
    is_excluded: Callable[[], bool] | None = None,
    user_id: Callable[[], int | None] | None = None,
) -> None:
    """Give every tracked browser a visitor id and record its visits.

    ``is_excluded`` is asked (at most once per request, and only when an event is about to be
    recorded) whether this request must not be counted, e.g. a signed-in staff member's.
    ``user_id`` names the request's account (the session's on pages, the bearer token's on the
    API); without it, Flask-Login's current user.
    """
    registered = _EXTENSION_KEY in app.extensions
    app.extensions[_EXTENSION_KEY] = {
        "is_excluded": is_excluded,
        "user_id": user_id,
        "api_visits": set(),
    }
    if not registered:  # calling it again only replaces the hook
        app.before_request(_identify_visitor)
        app.after_request(_remember_visit)
        batches.init_app(app)  # product views written in batches (ANALYTICS_BATCH_MILLISECONDS)


def is_bot(user_agent: str) -> bool:
    agent = user_agent.lower()
    return not agent or any(marker in agent for marker in BOT_MARKERS)


def _asks_not_to_be_tracked() -> bool:
    return request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1"


def _is_eligible() -> bool:
    path = request.path
    static_prefix = (current_app.static_url_path or "/static") + "/"
    if path.startswith(static_prefix) or path.startswith(SKIPPED_PATHS):
        return False
    if _asks_not_to_be_tracked():
        return False
    return not is_bot(request.headers.get("User-Agent", ""))


def _api_visitor() -> _Visitor | None:
    """The visitor an API call names in its header (the client vouches: no bot check)."""
    header = request.headers.get(VISITOR_HEADER)
    if header is None:
        return None
    if not _VISITOR_ID.match(header):
        raise InvalidVisitorId(
            f"Send {VISITOR_HEADER} as 16 to 64 letters, digits, '-' or '_', or leave it out."
        )
    return _Visitor(header, is_new=False, is_eligible=not _asks_not_to_be_tracked(), is_api=True)


def _identify_visitor() -> None:
    if request.path.startswith(API_PREFIX):
        g.funnel_visitor = _api_visitor()
        return
    cookie = request.cookies.get(VISITOR_COOKIE, "")
    if _VISITOR_ID.match(cookie):
        g.funnel_visitor = _Visitor(cookie, is_new=False, is_eligible=_is_eligible())
    else:
        g.funnel_visitor = _Visitor(
            secrets.token_urlsafe(16), is_new=True, is_eligible=_is_eligible()
        )


def _visitor() -> _Visitor | None:
    if not has_request_context():
        return None
    visitor: _Visitor | None = g.get("funnel_visitor")
    if visitor is None or not visitor.is_eligible:
        return None
    if visitor.is_excluded is None:
        hook = current_app.extensions.get(_EXTENSION_KEY, {}).get("is_excluded")
        visitor.is_excluded = bool(hook()) if hook else False
    return None if visitor.is_excluded else visitor


def current_visitor_id() -> str | None:
    """This request's anonymous visitor id, or None when the request is not tracked."""
    visitor = _visitor()
    return visitor.visitor_id if visitor else None


def current_user_id() -> int | None:
    """The request's account id, if any (through the app's hook or Flask-Login, without
    naming the accounts)."""
    if not has_request_context():
        return None
    hook = current_app.extensions.get(_EXTENSION_KEY, {}).get("user_id")
    if hook is not None:
        return hook()
    if not hasattr(current_app, "login_manager"):
        return None
    if not current_user or not current_user.is_authenticated:
        return None
    try:
        return int(current_user.get_id())
    except (TypeError, ValueError):
        return None


def track(
    stage: FunnelStage | str,
    *,
    product_id: int | None = None,
    order_reference: str | None = None,
    dedupe_key: str | None = None,
) -> FunnelEvent | None:
    """Record ``stage`` for this request's visitor (and user), from a view.

    Does nothing for a request that is not tracked. A failure to record is logged, never
    shown: a product page must not fail because its view could not be counted.
    """
    visitor_id = current_visitor_id()
    if visitor_id is None:
        return None
    try:
        return services.record_event(
            stage,
            visitor_id,
            user_id=current_user_id(),
            product_id=product_id,
            order_reference=order_reference,
            dedupe_key=dedupe_key,
        )
    except Exception:
        log.exception("could not record the funnel event %s", stage)
        return None


def _set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE", False)),
    )


def _remember_visit(response: Response) -> Response:
    visitor = g.get("funnel_visitor")
    if visitor is None or not visitor.is_eligible:
        return response
    if visitor.is_api:
        _remember_api_visit(visitor, response)
        return response
    today = clock.utcnow().date().isoformat()
    wants_visit = (
        request.method == "GET"
        and response.status_code < 400
        and request.cookies.get(VISIT_DAY_COOKIE) != today
        and "prefetch" not in request.headers.get("Sec-Purpose", "")
    )
    if not (visitor.is_new or wants_visit) or _visitor() is None:
        return response
    if visitor.is_new:
        _set_cookie(response, VISITOR_COOKIE, visitor.visitor_id, VISITOR_COOKIE_MAX_AGE)
    if wants_visit:
        try:
            services.record_visit(
                visitor.visitor_id, user_id=current_user_id(), source=_visit_source()
            )
        except Exception:
            # Counting must never break the page; the day cookie is not set, so it is retried.
            log.exception("could not record a visit")
            return response
        _set_cookie(response, VISIT_DAY_COOKIE, today, VISIT_DAY_COOKIE_MAX_AGE)
    return response


def _visit_source() -> VisitSource:
    """Where this page request's visit came from (its link's UTM tags or the referring site),
    its landing page and device class: read here, kept without the referrer or user agent."""
    return visit_source(
        request.args,
        request.referrer,
        request.host,
        request.path,
        request.headers.get("User-Agent", ""),
    )


def _remember_api_visit(visitor: _Visitor, response: Response) -> None:
    if response.status_code >= 400:
        return
    key = services.visit_key(visitor.visitor_id, clock.utcnow().date())
    remembered: set[str] = current_app.extensions[_EXTENSION_KEY]["api_visits"]
    if key in remembered or _visitor() is None:
        return
    try:
        services.record_visit(visitor.visitor_id, user_id=current_user_id())
    except Exception:
        log.exception("could not record a visit")  # not remembered: the next call retries
        return
    if len(remembered) >= _REMEMBERED_API_VISITS:
        remembered.clear()
    remembered.add(key)

"""Pages every unknown visitor sees alike, kept for a couple of seconds in each worker.

Most of a shop's traffic is visitors nobody knows yet reading the same few pages: the home
page, a category, a search, a product. For them the page's HTML is the same, so a worker keeps
what it rendered for ``PAGE_CACHE_SECONDS`` (2 by default; 0 turns the cache off) and serves it
again without reading the catalogue or rendering a template. That bound is the whole promise:
a price, a title or an availability that changed shows on every worker within that many
seconds, whatever changed it (staff, an import, a sale taking the last unit).

A page is kept and served only to a request that cannot see anything of its own:

- a GET or HEAD, answered by a view that asks for it (``kept_page``);
- no signed-in user, no ``Authorization`` header (an API client's token), and a session
  holding nothing but its CSRF secret (no flashed message, no remembered order, no sign-in
  under way);
- none of the cookies domains name as private (``keep_private_with_cookie``: a guest's cart,
  whose item count is in the navigation; the remember-me cookie).

The key is the address as asked (scheme, host, path and query string), so every filter, sort,
page and variant is its own page. A form's CSRF token is never kept: while a kept page is
rendered, ``csrf_token()`` writes a placeholder, and each visitor's own token is put in its
place when the page is served; a page that holds a real token all the same (a WTForms form
renders its hidden field through Flask-WTF, not the template global) is served to its visitor
and not kept. What a view does for each request beside rendering (counting
a product view, setting cookies) stays in the view, outside the kept part. Each worker keeps
at most ``MAX_BYTES`` of pages, the least recently served going first.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g, has_request_context, request, session
from flask_wtf.csrf import generate_csrf

EXTENSION = "funnel_page_cache"
MAX_BYTES = 8 * 1024 * 1024
# What an unknown visitor's session may hold and still see the shared page: its CSRF secret,
# and Flask-Login's freshness flag, which it writes for every visitor.
SHARED_SESSION_KEYS = frozenset({"csrf_token", "_fresh"})
_RENDERING_FOR_ALL = "funnel_page_cache_rendering"


@dataclass(frozen=True)
class KeptPage:
    """A page's text (HTML, or an API's JSON), and the id of what it shows (a product's, for
    the view to count)."""

    body: str
    subject_id: int | None = None
    mimetype: str = "text/html"


@dataclass(frozen=True)
class _Entry:
    page: KeptPage
    expires_at: float
    has_token_placeholder: bool


class PageCache:
    """One worker's kept pages: at most ``max_bytes`` of HTML, each for ``seconds``."""

    def __init__(self, seconds: float, max_bytes: int = MAX_BYTES) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.private_cookies: set[str] = set()
        # Where a form's token goes in a kept page: random per worker, never a real token.
        self.token_placeholder = f"csrf-placeholder-{secrets.token_hex(16)}"
        self._entries: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.now: Callable[[], float] = time.monotonic  # seconds; tests move it on

    def get(self, key: tuple[str, ...], now: float) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires_at <= now:
                self._remove(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, ...], page: KeptPage, now: float) -> _Entry:
        entry = _Entry(page, now + self.seconds, self.token_placeholder in page.body)
        size = len(page.body)
        if size > self.max_bytes:
            return entry
        with self._lock:
            if key in self._entries:
                self._remove(key)
            self._entries[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._remove(next(iter(self._entries)))
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _remove(self, key: tuple[str, ...]) -> None:
        entry = self._entries.pop(key)
        self._bytes -= len(entry.page.body)


def init_app(app: Flask) -> None:
    """Give ``app`` its page cache and the ``csrf_token()`` that knows about kept pages (after
    Flask-WTF's ``init_app``, whose template global and context processor it overrides)."""
    cache = PageCache(float(app.config.get("PAGE_CACHE_SECONDS", 0)))
    cache.private_cookies.add(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    app.extensions[EXTENSION] = cache

    def csrf_token() -> str:
        if has_request_context() and g.get(_RENDERING_FOR_ALL):
            return cache.token_placeholder
        return generate_csrf()

    # Flask-WTF offers its own as a global and through a context processor, which wins over
    # a global in render_template: both are replaced (this processor runs after Flask-WTF's).
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})


def page_cache(app: Flask | None = None) -> PageCache:
    return (app or current_app).extensions[EXTENSION]


def keep_private_with_cookie(app: Flask, name: str) -> None:
    """A request carrying cookie ``name`` sees a page of its own: it is never served a kept one."""
    page_cache(app).private_cookies.add(name)


def is_shared_request(cache: PageCache) -> bool:
    """Whether this request would see exactly what any unknown visitor sees."""
    if cache.seconds <= 0 or request.method not in {"GET", "HEAD"}:
        return False
    if any(name in request.cookies for name in cache.private_cookies):
        return False
    # A signed-in shopper's session holds their id (``_user_id``), and a remembered one sends
    # the remember-me cookie: neither passes, without asking Flask-Login to load anyone.
    return "Authorization" not in request.headers and SHARED_SESSION_KEYS.issuperset(session)


def _holds_this_visitors_token(page: KeptPage) -> bool:
    """Whether ``page`` holds this visitor's own CSRF token: made while it was rendered by
    something other than the templates' ``csrf_token()`` (a WTForms form's hidden field calls
    Flask-WTF directly), which Flask-WTF keeps in ``g`` for the request."""
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    return isinstance(token, str) and token in page.body


def kept_page(render: Callable[[], KeptPage]) -> KeptPage:
    """The page ``render`` makes, kept for the next unknown visitors when this is one (see the
    module's docstring); rendered afresh for everyone else. Errors ``render`` raises (a 404)
    are raised, and nothing is kept."""
    cache = page_cache()
    if not is_shared_request(cache):
        return render()
    key = (request.scheme, request.host, request.full_path)
    now = cache.now()
    entry = cache.get(key, now)
    if entry is None:
        setattr(g, _RENDERING_FOR_ALL, True)
        try:
            page = render()
        finally:
            setattr(g, _RENDERING_FOR_ALL, False)
        if _holds_this_visitors_token(page):
            return page  # served to this visitor only: never kept for others
        entry = cache.put(key, page, now)
    if not entry.has_token_placeholder:
        return entry.page
    body = entry.page.body.replace(cache.token_placeholder, generate_csrf())
    return KeptPage(body, entry.page.subject_id, entry.page.mimetype)

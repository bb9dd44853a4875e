"""``/metrics`` for Prometheus, and the per-request measures (count, latency, SQL time).

Who may scrape (settings ``METRICS_TOKEN`` and ``METRICS_ALLOW``):

- each guard that is configured must pass: an address allow-list (CIDRs) answers 404 to any
  other address; a bearer token answers 401 (with a ``WWW-Authenticate`` challenge) to a
  missing or wrong ``Authorization: Bearer`` header;
- with neither configured, development and test serve the metrics to anyone (a laptop), and
  every other environment answers 404: metrics stay off until the operator protects them.

The endpoint is not rate limited, not counted in the sales funnel (``analytics.tracking`` skips
``/metrics``) and sets no cookie. In multiprocess mode (``METRICS_MULTIPROCESS_DIR``, from
``PROMETHEUS_MULTIPROC_DIR``) it sums the files every gunicorn worker writes.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event

from funnel.core import metrics
from funnel.core.database import db
from funnel.core.limits import limiter

METRICS_PATH = "/metrics"
_STARTED = "funnel_metrics_started"
_SQL = "funnel_metrics_sql"  # [statements, seconds] of this request
_SQL_STARTED = "funnel_metrics_sql_started"
UNMATCHED = "<unmatched>"  # a 404 with no URL rule: one label value, not one per path
DEVELOPMENT_ENVIRONMENTS = frozenset({"development", "test"})
# Any other method a client makes up is counted as "other": labels stay a short list.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def init_app(app: Flask) -> None:
    """Serve ``/metrics`` and measure every request and its SQL statements."""
    view = limiter.exempt(serve_metrics)
    app.add_url_rule(METRICS_PATH, endpoint="metrics", view_func=view, methods=["GET"])
    app.before_request(_start_request)
    app.after_request(_count_request)
    with app.app_context():
        _listen_to_statements(db.engine)


def _start_request() -> None:
    g.setdefault(_STARTED, time.perf_counter())
    g.setdefault(_SQL, [0, 0.0])


def _endpoint_label() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _count_request(response: Response) -> Response:
    started = g.pop(_STARTED, None)
    if started is None:
        return response
    endpoint = _endpoint_label()
    method = request.method if request.method in METHODS else "other"
    metrics.HTTP_REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    metrics.HTTP_REQUEST_SECONDS.labels(endpoint, method).observe(time.perf_counter() - started)
    statements, seconds = g.pop(_SQL, (0, 0.0))
    metrics.DB_STATEMENTS.labels(endpoint, method).observe(statements)
    metrics.DB_SECONDS.labels(endpoint, method).observe(seconds)
    return response


def _listen_to_statements(engine: Any) -> None:
    """Add each statement a request runs, and its time, to the request's totals."""
    if getattr(engine, "_funnel_metrics", False):
        return
    engine._funnel_metrics = True

    @event.listens_for(engine, "before_cursor_execute")
    def _before(
        _conn: Any, _cursor: Any, _statement: Any, _params: Any, context: Any, _many: Any
    ) -> None:
        if has_request_context():
            context._funnel_metrics_started = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(
        _conn: Any, _cursor: Any, _statement: Any, _params: Any, context: Any, _many: Any
    ) -> None:
        started = getattr(context, "_funnel_metrics_started", None)
        if started is None or not has_request_context():
            return
        totals = g.get(_SQL)
        if totals is not None:
            totals[0] += 1
            totals[1] += time.perf_counter() - started


def parse_allow_list(entries: tuple[str, ...] | list[str]) -> tuple[Any, ...]:
    """The networks of ``METRICS_ALLOW`` (``10.0.0.0/8``, ``127.0.0.1``, ``::1``).

    Raises ValueError naming the entry that is not an address or network."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"{entry!r} is not an IP address or CIDR network") from error
    return tuple(networks)


def _is_allowed_address(networks: tuple[Any, ...]) -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == network.version and address in network for network in networks)


def _has_token(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _refusal() -> Response | None:
    """The answer to a scraper that may not see the metrics, or None when it may."""
    config = current_app.config
    token = config.get("METRICS_TOKEN")
    allowed = config.get("METRICS_ALLOW") or ()
    if not token and not allowed:
        if config.get("FUNNEL_ENV") in DEVELOPMENT_ENVIRONMENTS:
            return None
        return Response("Not Found\n", 404, mimetype="text/plain")
    if allowed and not _is_allowed_address(parse_allow_list(allowed)):
        return Response("Not Found\n", 404, mimetype="text/plain")
    if token and not _has_token(token):
        return Response(
            "A bearer token is required.\n",
            401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            mimetype="text/plain",
        )
    return None


def metrics_text(multiprocess_dir: str | None) -> bytes:
    """The metrics in Prometheus' text format: this process's, or every worker's summed."""
    if not multiprocess_dir:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=multiprocess_dir)
    return generate_latest(registry)


def serve_metrics() -> Response:
    refusal = _refusal()
    if refusal is not None:
        return refusal
    body = metrics_text(current_app.config.get("METRICS_MULTIPROCESS_DIR"))
    response = Response(body, 200, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response

"""The shop's Prometheus metrics: every metric object, and the calls domains count with.

Infrastructure that knows no domain: the domains call the functions below where a business
event happens (an order placed, a payment's outcome...). Each call inside ``transaction()``
counts only once the transaction commits (``on_commit``), so that work rolled back is never
counted; outside a transaction it counts at once.

Label values are bounded: endpoints are Flask URL rules (never raw paths), gateways, stages,
task names and currencies are the shop's own short lists.

Under gunicorn with several workers, ``PROMETHEUS_MULTIPROC_DIR`` (read by prometheus-client
itself when this module is imported) makes every worker write its values to files in that
folder, which ``/metrics`` sums (``core.metrics_http``).
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

from funnel.core.database import in_transaction, on_commit

# Page and API latencies: from a cached page (5 ms) to the request deadline (25 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0)
STATEMENT_BUCKETS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500)
JOB_BUCKETS = (0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

HTTP_REQUESTS = Counter(
    "funnel_http_requests",
    "HTTP requests answered, by Flask URL rule, method and status code.",
    ["endpoint", "method", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "funnel_http_request_duration_seconds",
    "Time to answer an HTTP request, by Flask URL rule and method.",
    ["endpoint", "method"],
    buckets=LATENCY_BUCKETS,
)
DB_STATEMENTS = Histogram(
    "funnel_http_request_db_statements",
    "SQL statements one HTTP request ran, by Flask URL rule and method.",
    ["endpoint", "method"],
    buckets=STATEMENT_BUCKETS,
)
DB_SECONDS = Histogram(
    "funnel_http_request_db_duration_seconds",
    "Time one HTTP request spent in SQL statements, by Flask URL rule and method.",
    ["endpoint", "method"],
    buckets=LATENCY_BUCKETS,
)
ORDERS_PLACED = Counter(
    "funnel_orders_placed", "Orders placed (committed), by currency.", ["currency"]
)
ORDERS_PLACED_MINOR = Counter(
    "funnel_orders_placed_minor",
    "Total of the orders placed, in minor units (cents) of their currency.",
    ["currency"],
)
REVENUE_MINOR = Counter(
    "funnel_revenue_minor",
    "Money taken: payments that succeeded, in minor units of their currency.",
    ["currency"],
)
PAYMENTS = Counter(
    "funnel_payments",
    "Payment outcomes (succeeded, authorized, failed, cancelled), by gateway.",
    ["gateway", "outcome"],
)
REFUNDS = Counter(
    "funnel_refunds", "Refunds through a gateway, by gateway and outcome.", ["gateway", "outcome"]
)
REFUNDED_MINOR = Counter(
    "funnel_refunded_minor",
    "Money refunded through a gateway, in minor units of its currency.",
    ["currency"],
)
WEBHOOKS = Counter(
    "funnel_webhooks_received",
    "Gateway webhook deliveries, by gateway and result (applied, duplicate, rejected...).",
    ["gateway", "result"],
)
FUNNEL_EVENTS = Counter(
    "funnel_sales_funnel_events",
    "Sales funnel events recorded, by stage.",
    ["stage"],
)
STOCK_OUTS = Counter(
    "funnel_stock_outs",
    "Times a variant's stock fell to zero, by the movement's reason.",
    ["reason"],
)
RESERVATIONS_EXPIRED = Counter(
    "funnel_reservations_expired", "Stock reservations that lapsed and were deleted."
)
JOBS = Counter(
    "funnel_jobs",
    "Background job runs, by task name and outcome (succeeded, retried, failed).",
    ["task", "outcome"],
)
JOB_SECONDS = Histogram(
    "funnel_job_duration_seconds",
    "Time a background job ran, by task name.",
    ["task"],
    buckets=JOB_BUCKETS,
)
RECONCILED_CHARGES = Counter(
    "funnel_reconciled_charges",
    "Gateway charges reconciliation acted on or reported, by finding "
    "(paid, refunded, foreign, unresolved, missing_charge, missing_refund), each run.",
    ["finding"],
)
# Set by each reconciliation run (an hourly job) and by staff resolving a finding: the most
# recent value is the one that counts.
UNRECONCILED_CHARGES = Gauge(
    "funnel_unreconciled_charges",
    "Reconciliation findings open for staff (foreign, unresolved, missing_charge, "
    "missing_refund), as of the last run or the last finding resolved.",
    multiprocess_mode="mostrecent",
)
EMAILS = Counter(
    "funnel_emails",
    "Emails handed to the mail server, by kind and outcome (sent, failed).",
    ["kind", "outcome"],
)


def after_commit(count: Callable[[], None]) -> None:
    """Run ``count`` once the open transaction commits (never if it rolls back), or now."""
    if in_transaction():
        on_commit(count)
    else:
        count()


def order_placed(currency: str, total_minor: int) -> None:
    """An order was placed for ``total_minor`` of ``currency``."""

    def count() -> None:
        ORDERS_PLACED.labels(currency).inc()
        ORDERS_PLACED_MINOR.labels(currency).inc(total_minor)

    after_commit(count)


def payment_outcome(gateway: str, outcome: str, amount_minor: int, currency: str) -> None:
    """A payment reached ``outcome``; a success adds its amount to the revenue."""

    def count() -> None:
        PAYMENTS.labels(gateway, outcome).inc()
        if outcome == "succeeded":
            REVENUE_MINOR.labels(currency).inc(amount_minor)

    after_commit(count)


def refund_outcome(gateway: str, outcome: str, amount_minor: int, currency: str) -> None:
    """A refund through ``gateway`` succeeded or failed."""

    def count() -> None:
        REFUNDS.labels(gateway, outcome).inc()
        if outcome == "succeeded":
            REFUNDED_MINOR.labels(currency).inc(amount_minor)

    after_commit(count)


def charge_reconciled(finding: str) -> None:
    """Reconciliation found a charge ``finding`` (counted at once: its run commits per charge)."""
    RECONCILED_CHARGES.labels(finding).inc()


def unreconciled_charges(how_many: int) -> None:
    """How many reconciliation findings are open for staff (set by a run, or a resolution)."""
    UNRECONCILED_CHARGES.set(how_many)


def webhook_received(gateway: str, result: str) -> None:
    """A webhook delivery was answered (counted at once: a rejected one commits nothing)."""
    WEBHOOKS.labels(gateway, result).inc()


def funnel_event(stage: str) -> None:
    after_commit(lambda: FUNNEL_EVENTS.labels(stage).inc())


def stock_out(reason: str, variants: int = 1) -> None:
    """``variants`` variants' stock reached zero through a movement of ``reason``."""
    after_commit(lambda: STOCK_OUTS.labels(reason).inc(variants))


def reservations_expired(how_many: int) -> None:
    if how_many:
        after_commit(lambda: RESERVATIONS_EXPIRED.inc(how_many))


def email_sent(kind: str, *, is_sent: bool) -> None:
    """An email left (or failed to leave) for the mail server: counted at once."""
    EMAILS.labels(kind, "sent" if is_sent else "failed").inc()

"""What an owner checks on the Operations page without Grafana, read from the database alone.

- Payments of the last hour per gateway: how many ended, how many failed (the share the
  ``FunnelPaymentFailures`` alert watches).
- Backlogs: stock held by live reservations; reservations past their expiry that the periodic
  job has not deleted yet (a backlog there means no worker or beat is running); orders waiting
  for their money, and bank transfers left unpaid past the shop's deadline (the hourly job
  cancels those; any left means it is not running, or they were paid in part).
- Job queue lag: jobs committed with their work but not yet taken by the broker (the outbox,
  ``core.outbox``), and how long the oldest has waited: with the broker down they pile up,
  and the periodic relay sends them once it is back.
- Stock drift: variants whose stock counter differs from the balance their ledger's newest
  movement left (the counter and the ledger change in one transaction, so any drift is a
  change made around the services, by hand in the database for example).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

import sqlalchemy as sa

from funnel.catalog.models import Product, Variant
from funnel.core.outbox import PendingJob
from funnel.extensions import db
from funnel.inventory.models import StockMovement, StockReservation
from funnel.orders.models import Order, OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments.models import Payment, PaymentStatus
from funnel.reports.conversion import rate

PAYMENT_WINDOW = timedelta(hours=1)
# The FunnelPaymentFailures alert's threshold (deploy/prometheus/alerts.yml).
ALERT_FAILURE_RATE = Fraction(1, 4)
DRIFT_ROWS = 50
# Payments that reached an outcome: the failure rate is the failed share of these.
SUCCEEDED = (
    PaymentStatus.AUTHORIZED,
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
)


@dataclass(frozen=True)
class GatewayOutcomes:
    """One gateway's payments created in the window that ended, and how many of them failed."""

    gateway: str
    succeeded: int
    failed: int

    @property
    def ended(self) -> int:
        return self.succeeded + self.failed

    @property
    def failure_rate(self) -> Fraction | None:
        return rate(self.failed, self.ended)

    @property
    def is_above_alert(self) -> bool:
        failure_rate = self.failure_rate
        return failure_rate is not None and failure_rate > ALERT_FAILURE_RATE


@dataclass(frozen=True)
class Backlog:
    reservations: int
    reserved_units: int
    expired_reservations: int
    oldest_expired_at: datetime | None
    unpaid_orders: int
    oldest_unpaid_at: datetime | None
    overdue_transfers: int
    pending_jobs: int
    oldest_pending_job_age: timedelta | None

    @property
    def oldest_pending_job_minutes(self) -> int | None:
        """Whole minutes the oldest waiting job has waited (None: no job waits)."""
        if self.oldest_pending_job_age is None:
            return None
        return int(self.oldest_pending_job_age.total_seconds() // 60)


@dataclass(frozen=True)
class StockDrift:
    variant_id: int
    sku: str
    product_title: str
    stock_quantity: int
    ledger_balance: int

    @property
    def difference(self) -> int:
        return self.stock_quantity - self.ledger_balance


@dataclass(frozen=True)
class Operations:
    checked_at: datetime
    payments_since: datetime
    gateways: list[GatewayOutcomes]
    backlog: Backlog
    drift: list[StockDrift]
    variants_with_ledger: int


def operations(now: datetime) -> Operations:
    """The Operations page's figures at ``now`` (aware UTC)."""
    since = now - PAYMENT_WINDOW
    drift, with_ledger = _stock_drift()
    return Operations(
        checked_at=now,
        payments_since=since,
        gateways=_gateway_outcomes(since),
        backlog=_backlog(now),
        drift=drift,
        variants_with_ledger=with_ledger,
    )


def _gateway_outcomes(since: datetime) -> list[GatewayOutcomes]:
    succeeded = sa.func.sum(sa.case((Payment.status.in_(SUCCEEDED), 1), else_=0))
    failed = sa.func.sum(sa.case((Payment.status == PaymentStatus.FAILED, 1), else_=0))
    rows = db.session.execute(
        sa.select(Payment.gateway, succeeded, failed)
        .where(Payment.created_at >= since)
        .where(Payment.status.in_((*SUCCEEDED, PaymentStatus.FAILED)))
        .group_by(Payment.gateway)
        .order_by(Payment.gateway)
    )
    return [GatewayOutcomes(row[0], int(row[1] or 0), int(row[2] or 0)) for row in rows]


def _backlog(now: datetime) -> Backlog:
    live = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(StockReservation.quantity), 0))
        .select_from(StockReservation)
        .where(StockReservation.expires_at > now)
    ).one()
    expired = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(StockReservation.expires_at)).where(
            StockReservation.expires_at <= now
        )
    ).one()
    unpaid = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(Order.placed_at)).where(
            Order.status == OrderStatus.PENDING_PAYMENT
        )
    ).one()
    # the bank transfers the hourly job cancels, and those it leaves to staff (paid in part)
    overdue = len(payment_queries.overdue_manual_payments(now)) + len(
        payment_queries.overdue_manual_payments(now, partly_received=True)
    )
    jobs = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(PendingJob.created_at)).select_from(PendingJob)
    ).one()
    oldest_job = jobs[1]
    return Backlog(
        reservations=int(live[0]),
        reserved_units=int(live[1]),
        expired_reservations=int(expired[0]),
        oldest_expired_at=expired[1],
        unpaid_orders=int(unpaid[0]),
        oldest_unpaid_at=unpaid[1],
        overdue_transfers=overdue,
        pending_jobs=int(jobs[0]),
        oldest_pending_job_age=max(now - oldest_job, timedelta(0)) if oldest_job else None,
    )


def _stock_drift() -> tuple[list[StockDrift], int]:
    """Variants whose counter is not their ledger's last balance (at most ``DRIFT_ROWS``), and
    how many variants have a ledger at all (one without a movement has nothing to drift from)."""
    newest = (
        sa.select(StockMovement.variant_id, sa.func.max(StockMovement.id).label("movement_id"))
        .group_by(StockMovement.variant_id)
        .subquery()
    )
    with_ledger = db.session.scalar(sa.select(sa.func.count()).select_from(newest)) or 0
    rows = db.session.execute(
        sa.select(
            Variant.id,
            Variant.sku,
            Product.title,
            Variant.stock_quantity,
            StockMovement.balance_after,
        )
        .join(newest, newest.c.variant_id == Variant.id)
        .join(StockMovement, StockMovement.id == newest.c.movement_id)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.stock_quantity != StockMovement.balance_after)
        .order_by(Variant.id)
        .limit(DRIFT_ROWS)
    )
    drift = [StockDrift(row[0], row[1], row[2], row[3], row[4]) for row in rows]
    return drift, int(with_ledger)

"""Payment methods over whole shop days: how many payments each method started, how many were
paid, failed, cancelled or are still open, and the failure rate.

A payment is one attempt to pay, counted on the day it was started, as it stands now
(``payments.figures``): a card declined three times before it was paid is four attempts,
three failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from funnel.payments import figures
from funnel.payments.gateways import gateway_label
from funnel.reports.conversion import rate
from funnel.reports.periods import Period, checked_period


@dataclass(frozen=True)
class PaymentMethodLine:
    gateway: str
    label: str
    attempts: int
    paid: int
    failed: int
    cancelled: int
    still_open: int

    @property
    def failure_rate(self) -> Fraction | None:
        """Failed attempts as a share of all; None without an attempt."""
        return rate(self.failed, self.attempts)

    @property
    def paid_rate(self) -> Fraction | None:
        return rate(self.paid, self.attempts)


@dataclass(frozen=True)
class PaymentMethodsReport:
    period: Period
    time_zone: str
    start: datetime
    end: datetime
    # Most attempts first, then by name.
    methods: tuple[PaymentMethodLine, ...]


def payment_methods_report(
    first_day: date, last_day: date, time_zone: ZoneInfo | str
) -> PaymentMethodsReport:
    """Every payment method with a payment started from ``first_day`` to ``last_day`` (shop
    days in ``time_zone``, both included). Raises InvalidReportPeriod for days that are no
    period. One read; writes nothing."""
    period = checked_period(first_day, last_day)
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    start, end = period.instants(zone)
    lines = [
        PaymentMethodLine(
            gateway=row.gateway,
            label=gateway_label(row.gateway),
            attempts=row.attempts,
            paid=row.paid,
            failed=row.failed,
            cancelled=row.cancelled,
            still_open=row.still_open,
        )
        for row in figures.attempts_by_method(start, end)
    ]
    lines.sort(key=lambda line: (-line.attempts, line.gateway))
    return PaymentMethodsReport(period, zone.key, start, end, tuple(lines))

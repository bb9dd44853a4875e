"""The staff dashboard's headline figures: today and the last 7 days at a glance.

Read from the same reports the report pages show (``funnel_report``, ``sales_report``), so that a
figure on the dashboard is always the figure of its report for the same days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from funnel.analytics.models import FunnelStage
from funnel.reports.buckets import Grouping
from funnel.reports.conversion import rate
from funnel.reports.queries.funnel import FunnelReport, funnel_report
from funnel.reports.queries.sales import SalesFigures, sales_report

WEEK_DAYS = 7


@dataclass(frozen=True)
class Headline:
    """Visitors, orders paid and money over some days, in the shop's currency."""

    first_day: date
    last_day: date
    visitors: int
    paying_visitors: int
    sales: SalesFigures
    currency: str

    @property
    def conversion(self) -> Fraction | None:
        """Visitors who paid an order, as a share of the visitors; None without visitors."""
        return rate(self.paying_visitors, self.visitors)


@dataclass(frozen=True)
class Headlines:
    today: Headline
    week: Headline
    # The last 7 days' funnel, for the bars at a glance.
    week_funnel: FunnelReport


def _headline(
    report: FunnelReport, first: date, last: date, zone: ZoneInfo, currency: str
) -> Headline:
    counts = {row.stage: row.visitors for row in report.stages}
    sales = sales_report(first, last, Grouping.DAY, zone, currency)
    figures = next(
        (row.total for row in sales.currencies if row.currency == currency), SalesFigures()
    )
    return Headline(
        first_day=first,
        last_day=last,
        visitors=counts[FunnelStage.VISIT],
        paying_visitors=counts[FunnelStage.ORDER_PAID],
        sales=figures,
        currency=currency,
    )


def headlines(today: date, time_zone: ZoneInfo | str, currency: str) -> Headlines:
    """Today's figures and the last 7 days' (today included), in ``currency`` (the shop's;
    a sale in another currency is in the sales report, not here). Ten reads."""
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    week_start = today - timedelta(days=WEEK_DAYS - 1)
    today_funnel = funnel_report(today, today, zone)
    week_funnel = funnel_report(week_start, today, zone)
    return Headlines(
        today=_headline(today_funnel, today, today, zone, currency),
        week=_headline(week_funnel, week_start, today, zone, currency),
        week_funnel=week_funnel,
    )

"""A product's own funnel, and a category's: views, adds to cart, checkouts started and what
was paid, per product (or category) over whole shop days, most viewers first.

Each column counts the shoppers the funnel tracks (``checkout.figures``): viewers and adders
from the funnel's events, which name the product; checkouts from the contents of the checkouts
started in the period (the order each became, else its cart), since the checkout-started event
names none; buyers and paid units from the lines of the orders paid in the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from funnel.checkout import figures
from funnel.core.pagination import Page
from funnel.reports.conversion import rate
from funnel.reports.periods import Period, checked_period
from funnel.reports.splits import FunnelOf


@dataclass(frozen=True)
class ProductFunnelLine:
    """One product's (or category's) funnel; ``id`` is the product's or the category's."""

    id: int
    name: str
    viewers: int
    adders: int
    checkout_visitors: int
    buyers: int
    paid_units: int

    @property
    def conversion(self) -> Fraction | None:
        """Buyers as a share of the viewers; None without a viewer. Can pass 100 % when
        shoppers buy without viewing the page in the period."""
        return rate(self.buyers, self.viewers)


@dataclass(frozen=True)
class ProductFunnelReport:
    period: Period
    time_zone: str
    start: datetime
    end: datetime
    of: FunnelOf
    # Most viewers first, then most paid units, then by name and id.
    lines: tuple[ProductFunnelLine, ...]

    def page(self, number: int, size: int) -> Page[ProductFunnelLine]:
        """Page ``number`` (from 1) of ``size`` lines; no lines past the last page."""
        first = (number - 1) * size
        return Page(self.lines[first : first + size], number, size, len(self.lines))


def product_funnel_report(
    first_day: date, last_day: date, time_zone: ZoneInfo | str, of: FunnelOf = FunnelOf.PRODUCT
) -> ProductFunnelReport:
    """Every product (or category) with a view, an add to cart, a checkout or a sale from
    ``first_day`` to ``last_day`` (shop days in ``time_zone``, both included). Raises
    InvalidReportPeriod for days that are no period. Five reads; writes nothing."""
    period = checked_period(first_day, last_day)
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    start, end = period.instants(zone)
    counts = figures.product_funnel_counts(start, end, by_category=of is FunnelOf.CATEGORY)
    lines = [
        ProductFunnelLine(
            id=key,
            name=row.name,
            viewers=row.viewers,
            adders=row.adders,
            checkout_visitors=row.checkout_visitors,
            buyers=row.buyers,
            paid_units=row.paid_units,
        )
        for key, row in counts.items()
    ]
    lines.sort(key=lambda line: (-line.viewers, -line.paid_units, line.name, line.id))
    return ProductFunnelReport(period, zone.key, start, end, of, tuple(lines))

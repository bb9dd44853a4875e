"""Sales over time: orders, units and money per shop day, week or month, per currency.

An order is a sale at the instant it was paid in full, and a refund lowers the net revenue at
the instant it was made (``orders.figures``): a refund of last month's order lowers this
month's net, as a bank statement would. Money stays in integer minor units per currency,
never added across currencies.

A customer is an order's email address. A customer is new in a row when their first order ever
paid falls in it, and returning in a row where they paid after an earlier order of an earlier
row or before the period: a customer who first paid on Monday and again on Friday is new on
Monday and returning on Friday, and new in the period's total, so these two columns of the
total are the period's own (distinct customers), not the rows' sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from funnel.orders import figures
from funnel.reports.buckets import Bucket, Grouping, bucket_of, bucket_starts, buckets
from funnel.reports.periods import Period, checked_period


@dataclass
class SalesFigures:
    """The sales of one bucket (or of the whole period) in one currency."""

    orders: int = 0
    units: int = 0
    gross_minor: int = 0  # the paid orders' totals: lines, shipping and tax
    shipping_minor: int = 0
    tax_minor: int = 0
    refunds_minor: int = 0
    new_customers: int = 0
    returning_customers: int = 0

    @property
    def net_minor(self) -> int:
        """Gross less the money given back."""
        return self.gross_minor - self.refunds_minor

    @property
    def average_minor(self) -> int | None:
        """The average order value, gross, rounded half up to the minor unit; None without
        an order."""
        if not self.orders:
            return None
        return (2 * self.gross_minor + self.orders) // (2 * self.orders)

    def add_order(self, order: figures.PaidOrder) -> None:
        self.orders += 1
        self.units += order.units
        self.gross_minor += order.total_minor
        self.shipping_minor += order.shipping_minor
        self.tax_minor += order.tax_minor


@dataclass(frozen=True)
class SalesRow:
    bucket: Bucket
    figures: SalesFigures


@dataclass(frozen=True)
class CurrencySales:
    """One currency's rows, every bucket of the period in order (zeros included), and the
    period's total, which is the rows' sum."""

    currency: str
    rows: tuple[SalesRow, ...]
    total: SalesFigures


@dataclass(frozen=True)
class SalesReport:
    period: Period
    grouping: Grouping
    time_zone: str
    # The instants the period spans, ``[start, end)``, UTC.
    start: datetime
    end: datetime
    # Every currency sold or refunded in, alphabetically; the shop's own when there was none.
    currencies: tuple[CurrencySales, ...] = field(default_factory=tuple)


def sales_report(
    first_day: date,
    last_day: date,
    grouping: Grouping,
    time_zone: ZoneInfo | str,
    shop_currency: str,
) -> SalesReport:
    """Sales from ``first_day`` to ``last_day`` (shop days in ``time_zone``, both included),
    by day, week or month. Raises InvalidReportPeriod for days that are no period. Three
    reads; writes nothing."""
    period = checked_period(first_day, last_day)
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    start, end = period.instants(zone)
    rows = buckets(period, grouping)
    starts = bucket_starts(rows, zone)
    by_currency: dict[str, list[SalesFigures]] = {}
    # Per currency, per row (and the period, as row -1): the customers new and returning.
    new: dict[tuple[str, int], set[str]] = {}
    returning: dict[tuple[str, int], set[str]] = {}

    def of(currency: str, instant: datetime) -> SalesFigures:
        if currency not in by_currency:
            by_currency[currency] = [SalesFigures() for _ in rows]
        return by_currency[currency][bucket_of(instant, starts)]

    for order in figures.paid_orders(start, end):
        of(order.currency, order.paid_at).add_order(order)
        row = bucket_of(order.paid_at, starts)
        first = order.first_paid_at
        first_row = -2 if first is None else bucket_of(first, starts)
        for index, is_new in ((row, first_row == row), (-1, first_row >= 0)):
            (new if is_new else returning).setdefault((order.currency, index), set()).add(
                order.customer
            )
    for refund in figures.money_given_back(start, end):
        of(refund.currency, refund.made_at).refunds_minor += refund.amount_minor
    for currency, cells in by_currency.items():
        for index, cell in enumerate(cells):
            cell.new_customers = len(new.get((currency, index), ()))
            cell.returning_customers = len(returning.get((currency, index), ()))
    by_currency = by_currency or {shop_currency: [SalesFigures() for _ in rows]}
    return SalesReport(
        period=period,
        grouping=grouping,
        time_zone=zone.key,
        start=start,
        end=end,
        currencies=tuple(
            CurrencySales(
                currency,
                tuple(SalesRow(bucket, row) for bucket, row in zip(rows, cells, strict=True)),
                _total(
                    cells,
                    len(new.get((currency, -1), ())),
                    len(returning.get((currency, -1), ())),
                ),
            )
            for currency, cells in sorted(by_currency.items())
        ),
    )


def _total(cells: list[SalesFigures], new: int, returning: int) -> SalesFigures:
    return SalesFigures(
        new_customers=new,
        returning_customers=returning,
        orders=sum(cell.orders for cell in cells),
        units=sum(cell.units for cell in cells),
        gross_minor=sum(cell.gross_minor for cell in cells),
        shipping_minor=sum(cell.shipping_minor for cell in cells),
        tax_minor=sum(cell.tax_minor for cell in cells),
        refunds_minor=sum(cell.refunds_minor for cell in cells),
    )

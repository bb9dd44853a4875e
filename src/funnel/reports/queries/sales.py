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
from funnel.reports.buckets import Bucket, Grouping, bucket_starts, buckets
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

    def add_orders(self, sales: figures.BucketSales) -> None:
        self.orders += sales.orders
        self.units += sales.units
        self.gross_minor += sales.total_minor
        self.shipping_minor += sales.shipping_minor
        self.tax_minor += sales.tax_minor
        self.new_customers += sales.new_customers
        self.returning_customers += sales.returning_customers


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
    reads, each grouped by the database into one row per bucket (or currency); writes
    nothing."""
    period = checked_period(first_day, last_day)
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    start, end = period.instants(zone)
    rows = buckets(period, grouping)
    starts = bucket_starts(rows, zone)
    by_currency: dict[str, list[SalesFigures]] = {}

    def cells_of(currency: str) -> list[SalesFigures]:
        if currency not in by_currency:
            by_currency[currency] = [SalesFigures() for _ in rows]
        return by_currency[currency]

    for sales in figures.sales_per_bucket(starts, end):
        cells_of(sales.currency)[sales.bucket].add_orders(sales)
    for refunds in figures.refunds_per_bucket(starts, end):
        cells_of(refunds.currency)[refunds.bucket].refunds_minor += refunds.amount_minor
    customers = {row.currency: row for row in figures.customers_in(start, end)}
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
                _total(cells, customers.get(currency)),
            )
            for currency, cells in sorted(by_currency.items())
        ),
    )


def _total(cells: list[SalesFigures], customers: figures.PeriodCustomers | None) -> SalesFigures:
    return SalesFigures(
        new_customers=customers.new_customers if customers else 0,
        returning_customers=customers.returning_customers if customers else 0,
        orders=sum(cell.orders for cell in cells),
        units=sum(cell.units for cell in cells),
        gross_minor=sum(cell.gross_minor for cell in cells),
        shipping_minor=sum(cell.shipping_minor for cell in cells),
        tax_minor=sum(cell.tax_minor for cell in cells),
        refunds_minor=sum(cell.refunds_minor for cell in cells),
    )

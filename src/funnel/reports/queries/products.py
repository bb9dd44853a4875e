"""What each product sold over whole shop days: units and revenue per product and variant, and
the product's views-to-purchase conversion from the funnel.

A product's conversion is the share of the distinct visitors who viewed it in the period who
also paid for an order holding it in the period (``orders.figures.buyers_who_viewed``), so it
never passes 100 %. A product viewed but never sold is listed too, with its views: that is
where a shop finds the product page that loses its visitors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from funnel.analytics import daily
from funnel.analytics.models import FunnelStage
from funnel.catalog import queries as catalog_queries
from funnel.orders import figures
from funnel.reports.conversion import rate
from funnel.reports.periods import Period, checked_period


@dataclass(frozen=True)
class VariantLine:
    variant_label: str
    sku: str
    units: int
    revenue_minor: int


@dataclass(frozen=True)
class ProductLine:
    """One product in one currency (a product sold in none has the shop's currency and
    zeros); ``product_id`` None for the lines of a deleted product, grouped by its title."""

    product_id: int | None
    title: str
    currency: str
    units: int
    revenue_minor: int
    variants: tuple[VariantLine, ...]
    viewers: int
    buyers_who_viewed: int

    @property
    def conversion(self) -> Fraction | None:
        """Viewers who bought, as a share of the viewers; None without a viewer."""
        return rate(self.buyers_who_viewed, self.viewers)


@dataclass(frozen=True)
class ProductReport:
    period: Period
    time_zone: str
    start: datetime
    end: datetime
    # Most revenue first, then most viewers, then by title.
    products: tuple[ProductLine, ...]


def product_report(
    first_day: date, last_day: date, time_zone: ZoneInfo | str, shop_currency: str
) -> ProductReport:
    """Every product sold or viewed from ``first_day`` to ``last_day`` (shop days in
    ``time_zone``, both included). Raises InvalidReportPeriod for days that are no period.
    Four reads; writes nothing."""
    period = checked_period(first_day, last_day)
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    start, end = period.instants(zone)
    viewers = daily.product_visitors_for_days(
        FunnelStage.PRODUCT_VIEW, period.first_day, period.last_day, zone
    )
    buyers = figures.buyers_who_viewed(period.first_day, period.last_day, zone)
    grouped: dict[tuple[int | str, str], list[figures.VariantSales]] = {}
    titles: dict[tuple[int | str, str], str] = {}
    for sale in figures.variant_sales(start, end):
        product: int | str = sale.product_id if sale.product_id is not None else sale.product_title
        key = (product, sale.currency)
        grouped.setdefault(key, []).append(sale)
        titles.setdefault(key, sale.product_title)
    sold_ids = {key[0] for key in grouped if isinstance(key[0], int)}
    unsold = [product_id for product_id in viewers if product_id not in sold_ids]
    for product_id, title in catalog_queries.product_titles(unsold).items():
        grouped[(product_id, shop_currency)] = []
        titles[(product_id, shop_currency)] = title
    lines = [
        _product_line(key, titles[key], sales, viewers, buyers) for key, sales in grouped.items()
    ]
    lines.sort(key=lambda line: (-line.revenue_minor, -line.viewers, line.title, line.currency))
    return ProductReport(period, zone.key, start, end, tuple(lines))


def _product_line(
    key: tuple[int | str, str],
    title: str,
    sales: list[figures.VariantSales],
    viewers: dict[int, int],
    buyers: dict[int, int],
) -> ProductLine:
    product_id = key[0] if isinstance(key[0], int) else None
    return ProductLine(
        product_id=product_id,
        title=title,
        currency=key[1],
        units=sum(sale.units for sale in sales),
        revenue_minor=sum(sale.revenue_minor for sale in sales),
        variants=tuple(
            VariantLine(sale.variant_label, sale.sku, sale.units, sale.revenue_minor)
            for sale in sales
        ),
        viewers=viewers.get(product_id, 0) if product_id is not None else 0,
        buyers_who_viewed=buyers.get(product_id, 0) if product_id is not None else 0,
    )

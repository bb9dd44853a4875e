"""Each report as a table of plain cells (the CSV download, with the numbers shown on screen),
and as a chart's data (``sales_chart``, ``funnel_chart``, ``funnel_days_chart``: drawn by
``js/report-charts.js``).

Pure: plain functions of a report. Money is written in major units with its currency's
decimals (``12.50``) beside a currency column, rates in percent with one decimal, as the pages
show them; an empty cell is a rate over nothing (the pages' dash).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from funnel.analytics.models import FunnelStage
from funnel.core.money import Money
from funnel.core.spreadsheet import Cell
from funnel.reports.conversion import STAGE_LABELS, percent
from funnel.reports.queries.funnel import FunnelReport
from funnel.reports.queries.funnel_days import FunnelDaysReport
from funnel.reports.queries.payment_methods import PaymentMethodsReport
from funnel.reports.queries.product_funnel import ProductFunnelReport
from funnel.reports.queries.products import ProductReport
from funnel.reports.queries.sales import CurrencySales, SalesReport

SALES_HEADER = (
    "from",
    "to",
    "currency",
    "orders",
    "units",
    "gross",
    "shipping",
    "tax",
    "refunds",
    "net",
    "average_order",
    "new_customers",
    "returning_customers",
)
PRODUCTS_HEADER = (
    "product_id",
    "product",
    "variant",
    "sku",
    "currency",
    "units",
    "revenue",
    "viewers",
    "buyers_who_viewed",
    "conversion_percent",
)
FUNNEL_HEADER = (
    "stage",
    "label",
    "visitors",
    "conversion_from_start_percent",
    "conversion_from_previous_percent",
    "drop_off",
    "drop_off_percent",
    "previous_visitors",
    "change",
    "change_percent",
)

SPLIT_HEADER = (
    "split_by",
    "group",
    *(f"{stage.value}_visitors" for stage in FunnelStage),
    "conversion_percent",
)

PRODUCT_FUNNEL_HEADER = (
    "of",
    "id",
    "name",
    "viewers",
    "adders",
    "checkout_visitors",
    "buyers",
    "paid_units",
    "conversion_percent",
)
PAYMENT_METHODS_HEADER = (
    "method",
    "label",
    "attempts",
    "paid",
    "failed",
    "cancelled",
    "still_open",
    "failure_percent",
)
FUNNEL_DAYS_HEADER = ("day", *(f"{stage.value}_visitors" for stage in FunnelStage))


def _major(amount: int | None, currency: str) -> Decimal | None:
    return None if amount is None else Money(amount, currency).to_decimal()


def sales_rows(report: SalesReport) -> Iterator[Sequence[Cell]]:
    """A row per bucket and currency, in the page's order (the totals are not rows: a
    spreadsheet adds them up)."""
    for sales in report.currencies:
        for row in sales.rows:
            figures, currency = row.figures, sales.currency
            yield (
                row.bucket.first_day.isoformat(),
                row.bucket.last_day.isoformat(),
                currency,
                figures.orders,
                figures.units,
                _major(figures.gross_minor, currency),
                _major(figures.shipping_minor, currency),
                _major(figures.tax_minor, currency),
                _major(figures.refunds_minor, currency),
                _major(figures.net_minor, currency),
                _major(figures.average_minor, currency),
                figures.new_customers,
                figures.returning_customers,
            )


def product_rows(report: ProductReport) -> Iterator[Sequence[Cell]]:
    """A row per variant sold, and one per product viewed but not sold (no variant)."""
    for product in report.products:
        shared = (product.product_id, product.title)
        funnel = (product.viewers, product.buyers_who_viewed, percent(product.conversion))
        if not product.variants:
            yield (*shared, None, None, product.currency, 0, _major(0, product.currency), *funnel)
        for variant in product.variants:
            yield (
                *shared,
                variant.variant_label,
                variant.sku,
                product.currency,
                variant.units,
                _major(variant.revenue_minor, product.currency),
                *funnel,
            )


def funnel_rows(report: FunnelReport) -> Iterator[Sequence[Cell]]:
    """A row per stage, in funnel order."""
    for row in report.stages:
        yield (
            row.stage.value,
            row.label,
            row.visitors,
            percent(row.conversion_from_start),
            percent(row.conversion_from_previous),
            row.drop_off,
            percent(row.drop_off_rate),
            row.previous_visitors,
            row.change,
            percent(row.change_rate),
        )


def split_rows(report: FunnelReport) -> Iterator[Sequence[Cell]]:
    """A row per group of the split, in the page's order: its visitors per stage and the
    share of them who paid."""
    split = report.split.value if report.split else ""
    for group in report.groups:
        yield (split, group.label, *group.visitors, percent(group.conversion))


def funnel_days_rows(report: FunnelDaysReport) -> Iterator[Sequence[Cell]]:
    """A row per shop day, in order: its distinct visitors at each stage."""
    for row in report.days:
        yield (row.day.isoformat(), *row.visitors)


def product_funnel_rows(report: ProductFunnelReport) -> Iterator[Sequence[Cell]]:
    """A row per product (or category), every page's, in the page's order."""
    for line in report.lines:
        yield (
            report.of.value,
            line.id,
            line.name,
            line.viewers,
            line.adders,
            line.checkout_visitors,
            line.buyers,
            line.paid_units,
            percent(line.conversion),
        )


def payment_method_rows(report: PaymentMethodsReport) -> Iterator[Sequence[Cell]]:
    """A row per payment method, most attempts first."""
    for line in report.methods:
        yield (
            line.gateway,
            line.label,
            line.attempts,
            line.paid,
            line.failed,
            line.cancelled,
            line.still_open,
            percent(line.failure_rate),
        )


def _as_number(amount: Decimal | None) -> float | None:
    """A chart's value: a chart draws numbers, not exact decimals (the table holds those)."""
    return None if amount is None else float(amount)


def sales_chart(sales: CurrencySales, grouping_label: str) -> dict[str, Any]:
    """One currency's revenue (bars) and orders (a line) per bucket, for ``report-charts.js``."""
    currency = sales.currency
    return {
        "type": "bar",
        "labels": [row.bucket.label for row in sales.rows],
        "axes": [
            {"id": "money", "title": f"Revenue ({currency})"},
            {"id": "orders", "title": "Orders", "position": "right"},
        ],
        "datasets": [
            {
                "label": f"Gross revenue ({currency})",
                "data": [
                    _as_number(_major(row.figures.gross_minor, currency)) for row in sales.rows
                ],
                "yAxisID": "money",
                "order": 2,
            },
            {
                "label": f"Net of refunds ({currency})",
                "data": [_as_number(_major(row.figures.net_minor, currency)) for row in sales.rows],
                "yAxisID": "money",
                "order": 3,
            },
            {
                "type": "line",
                "label": "Orders paid",
                "data": [row.figures.orders for row in sales.rows],
                "yAxisID": "orders",
                "order": 1,
            },
        ],
        "title": f"By {grouping_label.lower()}",
    }


def funnel_chart(report: FunnelReport) -> dict[str, Any]:
    """The funnel as horizontal bars, this period's and the one before, each step labelled
    with its conversion from the first, for ``report-charts.js``."""
    labels = []
    for row in report.stages:
        share = percent(row.conversion_from_start)
        labels.append(row.label if share is None else f"{row.label} ({share} %)")
    return {
        "type": "bar",
        "indexAxis": "y",
        "labels": labels,
        "axes": [{"id": "x", "title": "Visitors"}],
        "datasets": [
            {"label": "These days", "data": [row.visitors for row in report.stages]},
            {"label": "The days before", "data": [row.previous_visitors for row in report.stages]},
        ],
    }


def funnel_days_chart(report: FunnelDaysReport) -> dict[str, Any]:
    """Each stage's visitors per day, a line per stage, for ``report-charts.js``."""
    return {
        "type": "line",
        "labels": [row.day.isoformat() for row in report.days],
        "axes": [{"id": "y", "title": "Visitors"}],
        "datasets": [
            {"label": STAGE_LABELS[stage], "data": [row.visitors[index] for row in report.days]}
            for index, stage in enumerate(FunnelStage)
        ],
    }

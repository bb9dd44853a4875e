"""The reports over the API (permission ``reports.view``): the sales funnel (and its stages day
by day), the sales and the products sold of the ``/staff/reports/...`` pages, for a shop's own
tools. Reading only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from funnel.accounts.permissions import Permission
from funnel.analytics.models import FunnelStage
from funnel.core import clock
from funnel.core.api import errors
from funnel.core.api.paging import PagePosition
from funnel.core.money import Money
from funnel.reports import queries
from funnel.reports.conversion import percent
from funnel.reports.periods import DEFAULT_DAYS, shop_today
from funnel.reports.queries.sales import SalesFigures
from funnel.settings import queries as settings_queries
from funnel.staff.api import bp
from funnel.staff.api.access import staff_permission
from funnel.staff.api.schemas.fields import MAX_STAFF_PAGE_SIZE
from funnel.staff.api.schemas.reports import (
    FunnelDaysReportSchema,
    FunnelQuerySchema,
    FunnelReportQuerySchema,
    FunnelReportSchema,
    PaymentMethodsReportSchema,
    ProductFunnelPageSchema,
    ProductFunnelQuerySchema,
    ProductReportSchema,
    SalesQuerySchema,
    SalesReportSchema,
)


def _days(parameters: dict[str, Any]) -> tuple[ZoneInfo, date, date]:
    """The shop's time zone and the days asked for (default: the last 30 days)."""
    zone = ZoneInfo(settings_queries.current_settings().time_zone)
    last_day = parameters.get("last_day") or shop_today(clock.utcnow(), zone)
    first_day = parameters.get("first_day") or last_day - timedelta(days=DEFAULT_DAYS - 1)
    return zone, first_day, last_day


def _shown(fraction: Any) -> float | None:
    rounded = percent(fraction)
    return None if rounded is None else float(rounded)


@bp.route("/reports/funnel", methods=["GET"])
@bp.response(200, FunnelReportSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.REPORTS_VIEW)
@bp.arguments(FunnelReportQuerySchema, location="query", as_kwargs=True)
def get_staff_funnel_report(**parameters: Any) -> dict[str, Any]:
    """The sales funnel over shop days

    Distinct visitors per stage (visit, product_view, add_to_cart, checkout_started,
    payment_attempted, order_paid) from `from` to `to`, whole days in the shop's time zone,
    both included (default: the last 30 days, today included); a visitor counts once per
    period at each stage. Each stage's conversion from the first stage and from the previous
    one, its drop-off, and the same count over the period of the same length just before with
    the change. With `split`, also the period's funnel by groups of visitors: where they came
    from (`source`, `medium`, `campaign`), their `landing_page` or `device`, each visitor in
    the group of their first visit in the period. At most 366 days, the end on or after the
    start, else 422. Needs `reports.view`.
    """
    zone, first_day, last_day = _days(parameters)
    report = queries.funnel_report(first_day, last_day, zone, parameters.get("split"))
    return {
        "first_day": report.period.first_day,
        "last_day": report.period.last_day,
        "days": report.period.days,
        "time_zone": report.time_zone,
        "previous_from": report.previous_period.first_day,
        "previous_to": report.previous_period.last_day,
        "stages": [
            {
                "stage": row.stage,
                "label": row.label,
                "visitors": row.visitors,
                "conversion_from_start": _shown(row.conversion_from_start),
                "conversion_from_previous": _shown(row.conversion_from_previous),
                "drop_off": row.drop_off,
                "drop_off_rate": _shown(row.drop_off_rate),
                "previous_visitors": row.previous_visitors,
                "change": row.change,
                "change_rate": _shown(row.change_rate),
            }
            for row in report.stages
        ],
        "split": report.split,
        "groups": [
            {
                "group": group.label,
                "visitors": {
                    stage.value: count
                    for stage, count in zip(FunnelStage, group.visitors, strict=True)
                },
                "conversion": _shown(group.conversion),
            }
            for group in report.groups
        ],
    }


@bp.route("/reports/funnel/days", methods=["GET"])
@bp.response(200, FunnelDaysReportSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.REPORTS_VIEW)
@bp.arguments(FunnelQuerySchema, location="query", as_kwargs=True)
def get_staff_funnel_days_report(**parameters: Any) -> dict[str, Any]:
    """The sales funnel's stages per shop day

    For every day from `from` to `to` (whole days in the shop's time zone, both included;
    default: the last 30 days, today included), the distinct visitors who reached each stage
    (visit, product_view, add_to_cart, checkout_started, payment_attempted, order_paid) that
    day. A visitor counts once a day at each stage, and again on each other day they came
    back, so the days add up to more than `/reports/funnel`'s period, where they count once.
    At most 366 days, the end on or after the start, else 422. The
    `/staff/reports/funnel/days.csv` page gives the same rows as CSV. Needs `reports.view`.
    """
    zone, first_day, last_day = _days(parameters)
    report = queries.funnel_days_report(first_day, last_day, zone)
    return {
        "first_day": report.period.first_day,
        "last_day": report.period.last_day,
        "time_zone": report.time_zone,
        "days": [
            {
                "day": row.day,
                "visitors": {
                    stage.value: count
                    for stage, count in zip(FunnelStage, row.visitors, strict=True)
                },
            }
            for row in report.days
        ],
    }


def _sales_figures(figures: SalesFigures, currency: str) -> dict[str, Any]:
    average = figures.average_minor
    return {
        "orders": figures.orders,
        "units": figures.units,
        "gross": Money(figures.gross_minor, currency),
        "shipping": Money(figures.shipping_minor, currency),
        "tax": Money(figures.tax_minor, currency),
        "refunds": Money(figures.refunds_minor, currency),
        "net": Money(figures.net_minor, currency),
        "average_order": None if average is None else Money(average, currency),
        "new_customers": figures.new_customers,
        "returning_customers": figures.returning_customers,
    }


@bp.route("/reports/sales", methods=["GET"])
@bp.response(200, SalesReportSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.REPORTS_VIEW)
@bp.arguments(SalesQuerySchema, location="query", as_kwargs=True)
def get_staff_sales_report(**parameters: Any) -> dict[str, Any]:
    """Sales by day, week or month

    Per currency, for every day, week (Monday to Sunday) or calendar month of the period
    (cut to the period at its ends) and in total: the orders paid in full then (an order
    counts at the instant it was paid), their units, their totals (gross, of which shipping
    and tax), the money refunded then (whichever order it was for), the net and the average
    order. Whole days in the shop's time zone from `from` to `to`, both included (default:
    the last 30 days). At most 366 days, the end on or after the start, else 422. The
    `/staff/reports/sales.csv` page gives the same rows as CSV. Needs `reports.view`.
    """
    zone, first_day, last_day = _days(parameters)
    currency = settings_queries.current_settings().currency
    report = queries.sales_report(first_day, last_day, parameters["grouping"], zone, currency)
    return {
        "first_day": report.period.first_day,
        "last_day": report.period.last_day,
        "grouping": report.grouping,
        "time_zone": report.time_zone,
        "currencies": [
            {
                "currency": sales.currency,
                "rows": [
                    {
                        "first_day": row.bucket.first_day,
                        "last_day": row.bucket.last_day,
                        **_sales_figures(row.figures, sales.currency),
                    }
                    for row in sales.rows
                ],
                "total": _sales_figures(sales.total, sales.currency),
            }
            for sales in report.currencies
        ],
    }


@bp.route("/reports/payment-methods", methods=["GET"])
@bp.response(200, PaymentMethodsReportSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.REPORTS_VIEW)
@bp.arguments(FunnelQuerySchema, location="query", as_kwargs=True)
def get_staff_payment_methods_report(**parameters: Any) -> dict[str, Any]:
    """Payment methods: attempts, and how they ended

    For every payment method with a payment started from `from` to `to` (whole shop days,
    both included; default: the last 30 days): the payments started (each attempt to pay
    counts, on the day it was started), how many of them are paid (refunded since included),
    failed, cancelled or still open now, and the failure rate (failed over attempts). At most
    366 days, else 422. The `/staff/reports/payment-methods.csv` page gives the same rows as
    CSV. Needs `reports.view`.
    """
    zone, first_day, last_day = _days(parameters)
    report = queries.payment_methods_report(first_day, last_day, zone)
    return {
        "first_day": report.period.first_day,
        "last_day": report.period.last_day,
        "time_zone": report.time_zone,
        "methods": [
            {
                "method": line.gateway,
                "label": line.label,
                "attempts": line.attempts,
                "paid": line.paid,
                "failed": line.failed,
                "cancelled": line.cancelled,
                "still_open": line.still_open,
                "failure_rate": _shown(line.failure_rate),
            }
            for line in report.methods
        ],
    }


@bp.route("/reports/products", methods=["GET"])
@bp.response(200, ProductReportSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.REPORTS_VIEW)
@bp.arguments(FunnelQuerySchema, location="query", as_kwargs=True)
def get_staff_product_report(**parameters: Any) -> dict[str, Any]:
    """Products sold, and their views-to-purchase conversion

    Every product sold or viewed from `from` to `to` (whole days in the shop's time zone,
    both included; default: the last 30 days), most revenue first: units and revenue (the
    order lines' totals, without shipping) per product and per variant, in the orders paid
    in full in the period; the distinct visitors who viewed it, and how many of them paid
    for an order holding it in the period. At most 366 days, else 422. Needs `reports.view`.
    """
    zone, first_day, last_day = _days(parameters)
    currency = settings_queries.current_settings().currency
    report = queries.product_report(first_day, last_day, zone, currency)
    return {
        "first_day": report.period.first_day,
        "last_day": report.period.last_day,
        "time_zone": report.time_zone,
        "products": [
            {
                "product_id": product.product_id,
                "title": product.title,
                "units": product.units,
                "revenue": Money(product.revenue_minor, product.currency),
                "variants": [
                    {
                        "variant": line.variant_label,
                        "sku": line.sku,
                        "units": line.units,
                        "revenue": Money(line.revenue_minor, product.currency),
                    }
                    for line in product.variants
                ],
                "viewers": product.viewers,
                "buyers_who_viewed": product.buyers_who_viewed,
                "conversion": _shown(product.conversion),
            }
            for product in report.products
        ],
    }


@bp.route("/reports/product-funnel", methods=["GET"])
@bp.response(200, ProductFunnelPageSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.REPORTS_VIEW)
@bp.arguments(ProductFunnelQuerySchema, location="query", as_kwargs=True)
def get_staff_product_funnel_report(**parameters: Any) -> dict[str, Any]:
    """Each product's own funnel, or each category's; one page

    For every product (or, with `of=category`, every category, over its products) with a step
    from `from` to `to` (whole shop days, both included; default: the last 30 days), the
    distinct visitors who viewed it, added it to a cart, started a checkout holding it (read
    from the lines of the order the checkout became, else its cart's: the checkout event
    names no product) and paid for an order holding it in the period, the units of it in
    those orders, and buyers over viewers. Only visitors the funnel tracks count (no bots,
    Do Not Track or staff). Most viewers first; follow `next_cursor` with the same days and
    `of`. At most 366 days, else 422. Needs `reports.view`.
    """
    zone, first_day, last_day = _days(parameters)
    position = PagePosition.of(
        parameters, default_size=current_app.config["PAGE_SIZE"], max_size=MAX_STAFF_PAGE_SIZE
    )
    report = queries.product_funnel_report(first_day, last_day, zone, parameters["of"])
    page = report.page(position.number, position.size)
    return {
        "first_day": report.period.first_day,
        "last_day": report.period.last_day,
        "time_zone": report.time_zone,
        "of": report.of,
        "items": [
            {
                "id": line.id,
                "name": line.name,
                "viewers": line.viewers,
                "adders": line.adders,
                "checkout_visitors": line.checkout_visitors,
                "buyers": line.buyers,
                "paid_units": line.paid_units,
                "conversion": _shown(line.conversion),
            }
            for line in page.items
        ],
        "next_cursor": position.next_cursor(page),
    }

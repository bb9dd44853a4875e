"""The reports pages, added to the staff blueprint by ``register``, over the days chosen, in the
shop's time zone: the sales funnel (``/staff/reports/funnel``, perhaps split by where visitors
came from, their device or landing page, and its stages day by day), sales by day, week or
month (``/staff/reports/sales``, with how each payment method's attempts ended), what each
product sold (``/staff/reports/products``) and each product's or category's own funnel
(``/staff/reports/product-funnel``, in pages). Each has a CSV download (``.csv``) with the
numbers the page shows (every page's), streamed.

Reading needs ``reports.view`` (admins, and staff given the Reports group). The pages only
read. Days that cannot be read, an end before the start or too long a period answer 422 with
the form and the message beside its field (the CSV links too: no file of a wrong period).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue

from funnel.accounts.permissions import Permission
from funnel.core import clock
from funnel.core.pagination import page_number
from funnel.core.spreadsheet import Cell, stream_csv
from funnel.reports import queries, tables
from funnel.reports.buckets import Grouping
from funnel.reports.conversion import percent
from funnel.reports.errors import InvalidReportPeriod
from funnel.reports.periods import MAX_DAYS, default_period, shop_today
from funnel.reports.splits import SPLIT_LABELS, FunnelOf, Split
from funnel.settings import queries as settings_queries
from funnel.staff.access import page_permission

GROUPING_LABELS = {Grouping.DAY: "Day", Grouping.WEEK: "Week", Grouping.MONTH: "Month"}
FUNNEL_OF_LABELS = {FunnelOf.PRODUCT: "Product", FunnelOf.CATEGORY: "Category"}


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/reports/funnel", "funnel_report", funnel_report, methods=["GET"])
    bp.add_url_rule("/reports/funnel.csv", "funnel_report_csv", funnel_csv, methods=["GET"])
    bp.add_url_rule("/reports/funnel/days.csv", "funnel_days_csv", funnel_days_csv, methods=["GET"])
    bp.add_url_rule("/reports/sales", "sales_report", sales_report, methods=["GET"])
    bp.add_url_rule("/reports/sales.csv", "sales_report_csv", sales_csv, methods=["GET"])
    bp.add_url_rule(
        "/reports/payment-methods.csv", "payment_methods_csv", payment_methods_csv, methods=["GET"]
    )
    bp.add_url_rule("/reports/products", "product_report", product_report, methods=["GET"])
    bp.add_url_rule("/reports/products.csv", "product_report_csv", product_csv, methods=["GET"])
    bp.add_url_rule(
        "/reports/product-funnel", "product_funnel_report", product_funnel, methods=["GET"]
    )
    bp.add_url_rule(
        "/reports/product-funnel.csv",
        "product_funnel_report_csv",
        product_funnel_csv,
        methods=["GET"],
    )


def parse_day(text: str | None) -> date | None:
    """A day written as 2026-12-31; None when it is not one."""
    text = (text or "").strip()
    if len(text) != len("2026-12-31") or not text.isascii():
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass
class ReportRequest:
    """The days (and grouping) a report page was asked for, as typed and as read."""

    zone: ZoneInfo
    today: date
    shown: dict[str, str]
    errors: dict[str, list[str]]
    days: dict[str, date]
    grouping: Grouping
    split: Split | None
    funnel_of: FunnelOf

    @property
    def query(self) -> dict[str, str]:
        """The arguments that ask for the same report again (the CSV link)."""
        asked = dict(self.shown)
        if self.grouping is not Grouping.DAY:
            asked["by"] = self.grouping.value
        if self.split is not None:
            asked["split"] = self.split.value
        if self.funnel_of is not FunnelOf.PRODUCT:
            asked["of"] = self.funnel_of.value
        return asked


def _read_request() -> ReportRequest:
    zone = ZoneInfo(settings_queries.current_settings().time_zone)
    today = shop_today(clock.utcnow(), zone)
    default = default_period(today)
    typed = {
        "from": request.args.get("from", "").strip()[:32],
        "to": request.args.get("to", "").strip()[:32],
    }
    errors: dict[str, list[str]] = {}
    days: dict[str, date] = {}
    for field, fallback in (("from", default.first_day), ("to", default.last_day)):
        if not typed[field]:
            days[field] = fallback
            continue
        day = parse_day(typed[field])
        if day is None:
            errors[field] = ["A day such as 2026-12-31."]
        else:
            days[field] = day
    by = request.args.get("by", "").strip()
    grouping = Grouping(by) if by in set(Grouping) else Grouping.DAY
    if by and by not in set(Grouping):
        errors["by"] = ["Group by day, week or month."]
    split_text = request.args.get("split", "").strip()
    split = Split(split_text) if split_text in set(Split) else None
    if split_text and split is None:
        errors["split"] = ["Split by source, medium, campaign, landing page or device."]
    of_text = request.args.get("of", "").strip()
    funnel_of = FunnelOf(of_text) if of_text in set(FunnelOf) else FunnelOf.PRODUCT
    if of_text and of_text not in set(FunnelOf):
        errors["of"] = ["Show products or categories."]
    shown = {field: typed[field] or days[field].isoformat() for field in typed}
    return ReportRequest(zone, today, shown, errors, days, grouping, split, funnel_of)


def _build(asked: ReportRequest, build: Callable[[ReportRequest], Any]) -> Any:
    """The report, or None with ``asked.errors`` filled when its days are not a period."""
    if asked.errors:
        return None
    try:
        return build(asked)
    except InvalidReportPeriod as error:
        asked.errors.update(error.fields)
        return None


def _page(template: str, asked: ReportRequest, report: Any, **extra: Any) -> ResponseReturnValue:
    page = render_template(
        template,
        report=report,
        **extra,
        shown=asked.shown,
        errors=asked.errors,
        today=asked.today,
        max_days=MAX_DAYS,
        percent=percent,
        grouping=asked.grouping,
        grouping_labels=GROUPING_LABELS,
        split=asked.split,
        split_labels=SPLIT_LABELS,
        funnel_of=asked.funnel_of,
        funnel_of_labels=FUNNEL_OF_LABELS,
        sales_chart=tables.sales_chart,
        funnel_chart=tables.funnel_chart,
        funnel_days_chart=tables.funnel_days_chart,
        query=asked.query,
    )
    return page, 422 if asked.errors else 200


def _download(
    name: str, asked: ReportRequest, header: Sequence[str], rows: Iterator[Sequence[Cell]]
) -> Response:
    filename = f"{name}-{asked.shown['from']}-to-{asked.shown['to']}.csv"
    return Response(
        stream_with_context(stream_csv(header, rows)),
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "text/csv; charset=utf-8",
            "Cache-Control": "no-store",
        },
    )


def _funnel(asked: ReportRequest) -> queries.FunnelReport:
    return queries.funnel_report(asked.days["from"], asked.days["to"], asked.zone, asked.split)


def _funnel_days(asked: ReportRequest) -> queries.FunnelDaysReport:
    return queries.funnel_days_report(asked.days["from"], asked.days["to"], asked.zone)


def _sales(asked: ReportRequest) -> queries.SalesReport:
    currency = settings_queries.current_settings().currency
    return queries.sales_report(
        asked.days["from"], asked.days["to"], asked.grouping, asked.zone, currency
    )


def _payment_methods(asked: ReportRequest) -> queries.PaymentMethodsReport:
    return queries.payment_methods_report(asked.days["from"], asked.days["to"], asked.zone)


def _products(asked: ReportRequest) -> queries.ProductReport:
    currency = settings_queries.current_settings().currency
    return queries.product_report(asked.days["from"], asked.days["to"], asked.zone, currency)


@page_permission(Permission.REPORTS_VIEW)
def funnel_report() -> ResponseReturnValue:
    asked = _read_request()
    report = _build(asked, _funnel)
    days = _build(asked, _funnel_days) if report is not None else None
    return _page("staff/reports/funnel.html", asked, report, days=days)


@page_permission(Permission.REPORTS_VIEW)
def funnel_csv() -> ResponseReturnValue:
    asked = _read_request()
    report = _build(asked, _funnel)
    if report is None:
        return _page("staff/reports/funnel.html", asked, None)
    if report.split is not None:
        name = f"sales-funnel-by-{report.split.value.replace('_', '-')}"
        return _download(name, asked, tables.SPLIT_HEADER, tables.split_rows(report))
    return _download("sales-funnel", asked, tables.FUNNEL_HEADER, tables.funnel_rows(report))


@page_permission(Permission.REPORTS_VIEW)
def funnel_days_csv() -> ResponseReturnValue:
    asked = _read_request()
    days = _build(asked, _funnel_days)
    if days is None:
        return _page("staff/reports/funnel.html", asked, None)
    return _download(
        "sales-funnel-by-day", asked, tables.FUNNEL_DAYS_HEADER, tables.funnel_days_rows(days)
    )


@page_permission(Permission.REPORTS_VIEW)
def sales_report() -> ResponseReturnValue:
    asked = _read_request()
    report = _build(asked, _sales)
    methods = _build(asked, _payment_methods) if report is not None else None
    return _page("staff/reports/sales.html", asked, report, methods=methods)


@page_permission(Permission.REPORTS_VIEW)
def sales_csv() -> ResponseReturnValue:
    asked = _read_request()
    report = _build(asked, _sales)
    if report is None:
        return _page("staff/reports/sales.html", asked, None)
    return _download("sales", asked, tables.SALES_HEADER, tables.sales_rows(report))


@page_permission(Permission.REPORTS_VIEW)
def payment_methods_csv() -> ResponseReturnValue:
    asked = _read_request()
    methods = _build(asked, _payment_methods)
    if methods is None:
        return _page("staff/reports/sales.html", asked, None)
    return _download(
        "payment-methods", asked, tables.PAYMENT_METHODS_HEADER, tables.payment_method_rows(methods)
    )


@page_permission(Permission.REPORTS_VIEW)
def product_report() -> ResponseReturnValue:
    asked = _read_request()
    return _page("staff/reports/products.html", asked, _build(asked, _products))


@page_permission(Permission.REPORTS_VIEW)
def product_csv() -> ResponseReturnValue:
    asked = _read_request()
    report = _build(asked, _products)
    if report is None:
        return _page("staff/reports/products.html", asked, None)
    return _download("products", asked, tables.PRODUCTS_HEADER, tables.product_rows(report))


def _product_funnel(asked: ReportRequest) -> queries.ProductFunnelReport:
    return queries.product_funnel_report(
        asked.days["from"], asked.days["to"], asked.zone, asked.funnel_of
    )


@page_permission(Permission.REPORTS_VIEW)
def product_funnel() -> ResponseReturnValue:
    asked = _read_request()
    number = page_number(request.args.get("page"))
    report = _build(asked, _product_funnel)
    page = report.page(number, current_app.config["PAGE_SIZE"]) if report is not None else None
    return _page("staff/reports/product_funnel.html", asked, report, page=page)


@page_permission(Permission.REPORTS_VIEW)
def product_funnel_csv() -> ResponseReturnValue:
    asked = _read_request()
    report = _build(asked, _product_funnel)
    if report is None:
        return _page("staff/reports/product_funnel.html", asked, None)
    name = f"{report.of.value}-funnel"
    return _download(name, asked, tables.PRODUCT_FUNNEL_HEADER, tables.product_funnel_rows(report))

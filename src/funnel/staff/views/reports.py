"""The reports pages, added to the staff blueprint by ``register``: the sales funnel
(``/staff/reports/funnel``) over the days chosen, in the shop's time zone.

Reading needs ``reports.view`` (admins, and staff given the Reports group). The page only
reads. Days that cannot be read, an end before the start or too long a period answer 422 with
the form and the message beside its field.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from funnel.accounts.permissions import Permission
from funnel.core import clock
from funnel.reports import queries
from funnel.reports.conversion import percent
from funnel.reports.errors import InvalidReportPeriod
from funnel.reports.periods import MAX_DAYS, default_period, shop_today
from funnel.settings import queries as settings_queries
from funnel.staff.access import page_permission


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/reports/funnel", "funnel_report", funnel_report, methods=["GET"])


def parse_day(text: str | None) -> date | None:
    """A day written as 2026-12-31; None when it is not one."""
    text = (text or "").strip()
    if len(text) != len("2026-12-31") or not text.isascii():
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@page_permission(Permission.REPORTS_VIEW)
def funnel_report() -> ResponseReturnValue:
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
    report = None
    if not errors:
        try:
            report = queries.funnel_report(days["from"], days["to"], zone)
        except InvalidReportPeriod as error:
            errors = error.fields
    shown = {field: typed[field] or days[field].isoformat() for field in typed}
    page = render_template(
        "staff/reports/funnel.html",
        report=report,
        shown=shown,
        errors=errors,
        today=today,
        max_days=MAX_DAYS,
        percent=percent,
    )
    return page, 422 if errors else 200

"""The reports over the API (permission ``reports.view``): the sales funnel of the
``/staff/reports/funnel`` page, for a shop's own tools. Reading only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from funnel.accounts.permissions import Permission
from funnel.core import clock
from funnel.core.api import errors
from funnel.reports import queries
from funnel.reports.conversion import percent
from funnel.reports.periods import DEFAULT_DAYS, shop_today
from funnel.settings import queries as settings_queries
from funnel.staff.api import bp
from funnel.staff.api.access import staff_permission
from funnel.staff.api.schemas.reports import FunnelQuerySchema, FunnelReportSchema


def _shown(fraction: Any) -> float | None:
    rounded = percent(fraction)
    return None if rounded is None else float(rounded)


@bp.route("/reports/funnel", methods=["GET"])
@bp.response(200, FunnelReportSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.REPORTS_VIEW)
@bp.arguments(FunnelQuerySchema, location="query", as_kwargs=True)
def get_staff_funnel_report(**parameters: Any) -> dict[str, Any]:
    """The sales funnel over shop days

    Distinct visitors per stage (visit, product_view, add_to_cart, checkout_started,
    payment_attempted, order_paid) from `from` to `to`, whole days in the shop's time zone,
    both included (default: the last 30 days, today included); a visitor counts once per
    period at each stage. Each stage's conversion from the first stage and from the previous
    one, its drop-off, and the same count over the period of the same length just before with
    the change. At most 366 days, the end on or after the start, else 422. Needs `reports.view`.
    """
    zone = ZoneInfo(settings_queries.current_settings().time_zone)
    last_day = parameters.get("last_day") or shop_today(clock.utcnow(), zone)
    first_day = parameters.get("first_day") or last_day - timedelta(days=DEFAULT_DAYS - 1)
    report = queries.funnel_report(first_day, last_day, zone)
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
    }

"""The Operations page (``/staff/operations``), added to the staff blueprint by ``register``:
what an owner checks without Grafana, read from the database at the moment of asking. The
traffic of the last hour (requests, server errors, 95th percentile latency), payment
failures of the last hour per gateway, the reservation and unpaid-order backlogs (a growing one
means the background jobs are not running), and variants whose stock counter left their ledger.
Reading needs ``settings.manage`` (admins): it is about running the shop, not selling in it.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from funnel.accounts.permissions import Permission
from funnel.core import clock
from funnel.reports.conversion import percent
from funnel.reports.queries.operations import DRIFT_ROWS, operations
from funnel.reports.queries.traffic import last_hour_traffic
from funnel.staff.access import page_permission


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/operations", "operations", operations_page, methods=["GET"])


@page_permission(Permission.SETTINGS_MANAGE)
def operations_page() -> ResponseReturnValue:
    now = clock.utcnow()
    return render_template(
        "staff/operations.html",
        figures=operations(now),
        traffic=last_hour_traffic(now),
        percent=percent,
        drift_rows=DRIFT_ROWS,
    )

"""The failed payments page (``/staff/failed-payments``), added to the staff blueprint by
``register``: the card payments that did not go through, newest first, with who tried, how
much, how, and the gateway's reason. A declined attempt places no order, so this page (and
the funnel's "payment attempted" stage) is where staff see it. Reading needs ``orders.view``.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from funnel.accounts.permissions import Permission
from funnel.checkout import queries
from funnel.core.pagination import page_number
from funnel.staff.access import page_permission


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/failed-payments", "failed_payments", failed_payments, methods=["GET"])


@page_permission(Permission.ORDERS_VIEW)
def failed_payments() -> ResponseReturnValue:
    page = queries.failed_payments(page_number(request.args.get("page")))
    return render_template("staff/failed_payments.html", page=page)

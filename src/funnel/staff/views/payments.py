"""The staff payment pages, added to the staff blueprint by ``register``.

``/staff/failed-payments`` (``orders.view``): the card payments that did not go through,
newest first, with who tried, how much, how, and the gateway's reason. A declined attempt
places no order, so this page (and the funnel's "payment attempted" stage) is where staff see
it.

``/staff/payments/reconciliation`` (``orders.refund``): what the reconciliation of the
gateways' charges found, open findings first, newest first; each open one has a form to
resolve it with a note of the action taken (``checkout.services.resolve_finding``). A refused
resolution (a blank note, resolved already) shows the list again with the reason at the
error's status (422, 409) and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts.permissions import Permission
from funnel.checkout import queries, services
from funnel.core.errors import DomainError
from funnel.core.pagination import page_number
from funnel.staff.access import page_permission


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/failed-payments", "failed_payments", failed_payments, methods=["GET"])
    refund = page_permission(Permission.ORDERS_REFUND)
    bp.add_url_rule(
        "/payments/reconciliation", "reconciliation", refund(reconciliation), methods=["GET"]
    )
    bp.add_url_rule(
        "/payments/reconciliation/<int:finding_id>/resolve",
        "reconciliation_resolve",
        refund(resolve),
        methods=["POST"],
    )


@page_permission(Permission.ORDERS_VIEW)
def failed_payments() -> ResponseReturnValue:
    page = queries.failed_payments(page_number(request.args.get("page")))
    return render_template("staff/failed_payments.html", page=page)


def reconciliation(
    failed_id: int | None = None, error: DomainError | None = None
) -> ResponseReturnValue:
    """Open findings first, newest first, 50 a page."""
    number = page_number(request.args.get("page"))
    page = render_template(
        "staff/reconciliation.html",
        page=queries.reconciliation_findings(number),
        open_count=queries.count_open_findings(),
        failed_id=failed_id,
        error=error,
        note=request.form.get("note", "") if error is not None else "",
    )
    return page, 200 if error is None else error.status


def resolve(finding_id: int) -> ResponseReturnValue:
    try:
        finding = services.resolve_finding(
            finding_id, request.form.get("note"), actor_user_id=current_user.id
        )
    except DomainError as error:
        return reconciliation(finding_id, error)
    flash(
        f"The {finding.kind.value} finding for {finding.gateway} charge "
        f"{finding.gateway_charge_id} is resolved.",
        "success",
    )
    return redirect(url_for("staff.reconciliation", page=request.args.get("page")), code=303)

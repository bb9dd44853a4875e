"""Failed payments (permission ``orders.view``): the card payments that did not go through,
newest first, as the staff page lists them. A declined card places no order, so this is
where a client sees it. Reconciliation findings (permission ``orders.refund``), read-only:
open ones first, as the staff page lists them (they are resolved on that page)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from funnel.accounts.permissions import Permission
from funnel.checkout import queries
from funnel.core.api import errors
from funnel.core.api.paging import PagePosition
from funnel.staff.api import bp
from funnel.staff.api.access import staff_permission
from funnel.staff.api.schemas.fields import MAX_STAFF_PAGE_SIZE
from funnel.staff.api.schemas.payments import (
    FailedPaymentPageSchema,
    FailedPaymentQuerySchema,
    FindingPageSchema,
    FindingQuerySchema,
)


@bp.route("/failed-payments", methods=["GET"])
@bp.response(200, FailedPaymentPageSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.ORDERS_VIEW)
@bp.arguments(FailedPaymentQuerySchema, location="query", as_kwargs=True)
def list_failed_payments(**parameters: Any) -> dict[str, Any]:
    """Payments that did not go through, newest first; one page

    Declined cards and refused 3-D Secure checks, with the customer's email, the amount, the
    method, the card's brand and last four digits, and the gateway's reason. Follow
    `next_cursor` for the next page; it is null on the last one. Needs `orders.view`.
    """
    position = PagePosition.of(
        parameters, default_size=current_app.config["PAGE_SIZE"], max_size=MAX_STAFF_PAGE_SIZE
    )
    page = queries.failed_payments(position.number, position.size)
    return {"items": page.items, "next_cursor": position.next_cursor(page)}


@bp.route("/reconciliation-findings", methods=["GET"])
@bp.response(200, FindingPageSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.ORDERS_REFUND)
@bp.arguments(FindingQuerySchema, location="query", as_kwargs=True)
def list_reconciliation_findings(**parameters: Any) -> dict[str, Any]:
    """What the reconciliation of the gateways' charges found; one page

    Open findings first (waiting for staff), then resolved ones, each newest first: the kind,
    the gateway and its charge id, the amount, what our payment pays for (and the order number
    when it is an order), why, and for resolved ones when, by whom and the note of what was
    done. Follow `next_cursor` for the next page; it is null on the last one. Needs
    `orders.refund`.
    """
    position = PagePosition.of(
        parameters, default_size=current_app.config["PAGE_SIZE"], max_size=MAX_STAFF_PAGE_SIZE
    )
    page = queries.reconciliation_findings(position.number, position.size)
    return {"items": page.items, "next_cursor": position.next_cursor(page)}

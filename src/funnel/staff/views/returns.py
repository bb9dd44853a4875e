"""Staff return pages, added to the staff blueprint by ``register``: the list by status
(oldest first), one return, and its steps (approve, reject, receive with units back to
stock), each one call of ``orders.services.move_return``. A received return offers the
order's refund form prefilled with its items (the refund needs ``orders.refund``).

Reading needs ``orders.view``, the steps ``orders.fulfil``. A refused step shows the return
page again with the reason at the error's status (409, 422) and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts.permissions import Permission, permissions_of
from funnel.core.errors import DomainError
from funnel.core.pagination import page_number
from funnel.orders import services
from funnel.orders.errors import InvalidOrderInput
from funnel.orders.models import ReturnRequest, ReturnStatus
from funnel.orders.queries import returns as return_queries
from funnel.staff.access import page_permission
from funnel.staff.views.orders import text_field

QUANTITY_DIGITS = 9


def register(bp: Blueprint) -> None:
    view = page_permission(Permission.ORDERS_VIEW)
    step = page_permission(Permission.ORDERS_FULFIL)
    bp.add_url_rule("/returns", "returns", view(returns), methods=["GET"])
    bp.add_url_rule("/returns/<number>", "return_request", view(return_page), methods=["GET"])
    bp.add_url_rule(
        "/returns/<number>/approve", "return_approve", step(return_approve), methods=["POST"]
    )
    bp.add_url_rule(
        "/returns/<number>/reject", "return_reject", step(return_reject), methods=["POST"]
    )
    bp.add_url_rule(
        "/returns/<number>/receive", "return_receive", step(return_receive), methods=["POST"]
    )


def returns() -> ResponseReturnValue:
    """Returns in one status (requested by default; ``all`` for every status), oldest first."""
    given = request.args.get("status", ReturnStatus.REQUESTED.value)
    status = None if given == "all" else _status(given)
    page = return_queries.search_returns(status, page_number(request.args.get("page")))
    return render_template(
        "staff/returns/list.html",
        page=page,
        status=status,
        status_arg=given if status is not None or given == "all" else "requested",
        statuses=list(ReturnStatus),
        counts=return_queries.count_returns_by_status(),
    )


def _status(given: str) -> ReturnStatus:
    try:
        return ReturnStatus(given)
    except ValueError:
        return ReturnStatus.REQUESTED


def return_page(number: str, error: DomainError | None = None) -> ResponseReturnValue:
    current = return_queries.get_return(number)
    held = permissions_of(current_user)
    page = render_template(
        "staff/returns/detail.html",
        item=current,
        order=current.order,
        error=error,
        can_act=Permission.ORDERS_FULFIL in held,
        can_refund=Permission.ORDERS_REFUND in held,
        submitted=request.form if error else {},
    )
    return page, (error.status if error else 200)


def _act(number: str, to: ReturnStatus, restock: bool = False) -> ResponseReturnValue:
    current = return_queries.get_return(number)
    try:
        change = services.move_return(
            current.number,
            to,
            actor_user_id=current_user.id,
            note=text_field("note"),
            restock=_restock(current) if restock else None,
        )
    except DomainError as error:
        return return_page(current.number, error)
    if not change.changed:
        flash(f"Return {change.number} was already {to.value}.", "success")
    elif to == ReturnStatus.RECEIVED:
        flash(
            f"Return {change.number} is received; {change.restocked_units} units back in "
            "stock. Refund it below.",
            "success",
        )
    else:
        flash(f"Return {change.number} is {to.value}: the customer is emailed.", "success")
    return redirect(url_for("staff.return_request", number=change.number), code=303)


def _restock(current: ReturnRequest) -> dict[int, int]:
    """The form's ``restock-<order line id>`` fields (blank is 0). Raises InvalidOrderInput."""
    units: dict[int, int] = {}
    invalid: dict[str, list[str]] = {}
    for line in current.lines:
        raw = request.form.get(f"restock-{line.order_line_id}", "").strip() or "0"
        if not raw.isascii() or not raw.isdigit() or len(raw) > QUANTITY_DIGITS:
            invalid[f"restock.{line.order_line_id}"] = ["Give a whole number of units, 0 or more."]
        else:
            units[line.order_line_id] = int(raw)
    if invalid:
        raise InvalidOrderInput(fields=invalid)
    return units


def return_approve(number: str) -> ResponseReturnValue:
    return _act(number, ReturnStatus.APPROVED)


def return_reject(number: str) -> ResponseReturnValue:
    return _act(number, ReturnStatus.REJECTED)


def return_receive(number: str) -> ResponseReturnValue:
    return _act(number, ReturnStatus.RECEIVED, restock=True)

"""Staff return operations: the list by status, oldest first, and one return
(``orders.view``); approve, reject or receive it (``orders.fulfil``), each one call of
``orders.services.move_return``. A step the status does not allow is 409
``invalid_return_transition`` and changes nothing. The refund of a received return is the
order's refund operation with its ``return_number``."""

from __future__ import annotations

from typing import Any

from flask import current_app

from funnel.accounts.permissions import Permission, permissions_of
from funnel.core.api import errors
from funnel.core.api.paging import PagePosition
from funnel.orders import services
from funnel.orders.errors import InvalidOrderInput
from funnel.orders.models import ReturnRequest, ReturnStatus
from funnel.orders.queries import returns as return_queries
from funnel.orders.schemas.returns import return_representation
from funnel.staff.api import bp
from funnel.staff.api.access import staff_caller, staff_permission
from funnel.staff.api.schemas.fields import MAX_STAFF_PAGE_SIZE
from funnel.staff.api.schemas.returns import (
    ReturnTransitionInputSchema,
    ReturnTransitionSchema,
    StaffReturnPageSchema,
    StaffReturnQuerySchema,
    StaffReturnSchema,
)

RETURN_NUMBER = "<string(maxlength=40):number>"


@bp.route("/returns", methods=["GET"])
@bp.response(200, StaffReturnPageSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.ORDERS_VIEW)
@bp.arguments(StaffReturnQuerySchema, location="query", as_kwargs=True)
def list_staff_returns(**parameters: Any) -> dict[str, Any]:
    """Return requests, oldest first: filter by status

    The longest waiting come first. Follow `next_cursor` for the next page, with the same
    filter; it is null on the last one. Needs `orders.view`.
    """
    position = PagePosition.of(
        parameters, default_size=current_app.config["PAGE_SIZE"], max_size=MAX_STAFF_PAGE_SIZE
    )
    status = ReturnStatus(parameters["status"]) if parameters.get("status") else None
    page = return_queries.search_returns(status, position.number, position.size)
    return {
        "items": [staff_return_representation(item) for item in page.items],
        "next_cursor": position.next_cursor(page),
    }


@bp.route(f"/returns/{RETURN_NUMBER}", methods=["GET"])
@bp.response(200, StaffReturnSchema)
@errors(bp, 404)
@staff_permission(bp, Permission.ORDERS_VIEW)
def get_staff_return(number: str) -> dict[str, Any]:
    """One return request: its order, lines, reason, note, status and refund

    `actions` lists the transitions its status allows that the caller may take. Needs
    `orders.view`.
    """
    return staff_return_representation(return_queries.get_return(number))


@bp.route(f"/returns/{RETURN_NUMBER}/transitions", methods=["POST"])
@bp.response(200, ReturnTransitionSchema)
@errors(bp, 400, 404, 409, 413, 422)
@staff_permission(bp, Permission.ORDERS_FULFIL)
@bp.arguments(ReturnTransitionInputSchema)
def transition_staff_return(data: dict[str, Any], number: str) -> dict[str, Any]:
    """Approve, reject or receive a return request

    `to`: `approved` or `rejected` (a requested return; rejecting needs a `note`, which the
    customer reads); `received` (an approved return: its items arrived), with `restock`
    naming the units of its lines that go back to stock (through the stock ledger, reason
    `returned`). The customer is emailed. A step the status does not allow is 409
    `invalid_return_transition` and changes nothing; a step already taken answers
    `changed: false`. To refund a received return, refund the order with its
    `return_number`: the return becomes `refunded`. Needs `orders.fulfil`.
    """
    current = return_queries.get_return(number)
    restock: dict[int, int] = {}
    for index, line in enumerate(data["restock"]):
        if line["order_line_id"] in restock:
            raise InvalidOrderInput(fields={f"restock.{index}": ["Name each line once."]})
        restock[line["order_line_id"]] = line["quantity"]
    change = services.move_return(
        current.number,
        data["to"],
        actor_user_id=staff_caller().id,
        note=data["note"],
        restock=restock,
    )
    return {
        "changed": change.changed,
        "restocked_units": change.restocked_units,
        "return_request": staff_return_representation(return_queries.get_return(change.number)),
    }


def staff_return_representation(item: ReturnRequest) -> dict[str, Any]:
    """The customer's view of the return plus what staff need to act."""
    held = permissions_of(staff_caller())
    actions = (
        sorted(status.value for status in item.transitions if status != ReturnStatus.REFUNDED)
        if Permission.ORDERS_FULFIL in held
        else []
    )
    return {**return_representation(item), "order_email": item.order.email, "actions": actions}

"""The caller's orders over the JSON API: the list (newest first), one order in full, and
its return requests (read and ask for one).

The same reads as the customer's order pages (``orders.queries``); someone else's order, or a
number that is no order at all, is the same 404, so that numbers cannot be probed.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from funnel.accounts.access import api_user, authenticated
from funnel.core.api import API_PREFIX, errors
from funnel.core.api.paging import PagePosition
from funnel.core.idempotency import idempotent
from funnel.orders import queries, services
from funnel.orders.errors import InvalidReturnRequest
from funnel.orders.queries import returns as return_queries
from funnel.orders.schemas import (
    MAX_ORDER_PAGE_SIZE,
    OrderPageSchema,
    OrderQuerySchema,
    OrderSchema,
    order_representation,
    order_summary,
)
from funnel.orders.schemas.cancel import OrderCancelInputSchema, OrderCancelSchema
from funnel.orders.schemas.returns import (
    ReturnInputSchema,
    ReturnListSchema,
    ReturnSchema,
    return_representation,
)

bp = Blueprint("orders_api", __name__, url_prefix=API_PREFIX, description="The caller's orders")


@bp.route("/orders", methods=["GET"])
@bp.response(200, OrderPageSchema)
@errors(bp, 422)
@authenticated(bp)
@bp.arguments(OrderQuerySchema, location="query", as_kwargs=True)
def list_my_orders(**parameters: Any) -> dict[str, Any]:
    """The caller's orders, newest first; one page

    Each order is a summary (number, status, when placed, total, units); read one in full with
    GET /orders/{number}. Follow `next_cursor` for the next page; it is null on the last one.
    """
    position = PagePosition.of(
        parameters, default_size=queries.CUSTOMER_PAGE_SIZE, max_size=MAX_ORDER_PAGE_SIZE
    )
    services.attach_guest_orders(api_user().id)
    page = queries.orders_of_user(api_user().id, position.number, position.size)
    counts = queries.item_counts([order.id for order in page.items])
    return {
        "items": [order_summary(order, counts[order.id]) for order in page.items],
        "next_cursor": position.next_cursor(page),
    }


@bp.route("/orders/<number>", methods=["GET"])
@bp.response(200, OrderSchema)
@errors(bp, 404)
@authenticated(bp)
def get_my_order(number: str) -> dict[str, Any]:
    """One of the caller's orders in full

    What the order page shows: lines as bought, totals, shipping address and method, payment
    and history. The number may be typed loosely (case, a missing `FN-`, look-alike letters).
    Someone else's order is a 404, as is a number that does not exist.
    """
    order = queries.get_order_of_user(number, api_user().id)
    return order_representation(queries.order_details(order))


@bp.route("/orders/<number>/cancel", methods=["POST"])
@bp.response(200, OrderCancelSchema)
@errors(bp, 400, 404, 409, 413, 422, 502, 503)
@authenticated(bp)
@bp.arguments(OrderCancelInputSchema, required=False)
def cancel_my_order(data: dict[str, Any], number: str) -> dict[str, Any]:
    """Cancel one of the caller's orders that has not shipped

    An order awaiting payment or paid, with nothing shipped, is cancelled: its stock goes
    back, any payment is refunded in full, and the customer is emailed. Cancelling it again
    answers `changed: false` and changes nothing. A shipped, delivered or refunded order is
    409 `invalid_order_transition`, one partly shipped 409 `order_partly_shipped`; nothing
    changes. Someone else's order is a 404.
    """
    user = api_user()
    order = queries.get_order_of_user(number, user.id)
    change = services.cancel_by_customer(order.id, user_id=user.id, reason=data.get("reason", ""))
    return {
        "changed": change.changed,
        "order": order_representation(queries.order_details(queries.get_order(change.number))),
    }


@bp.route("/orders/<number>/returns", methods=["GET"])
@bp.response(200, ReturnListSchema)
@errors(bp, 404)
@authenticated(bp)
def list_my_order_returns(number: str) -> dict[str, Any]:
    """The return requests of one of the caller's orders, oldest first

    Each with its status (`requested`, `approved`, `rejected`, `received`, `refunded`), its
    lines and staff's note. Someone else's order is a 404.
    """
    order = queries.get_order_of_user(number, api_user().id)
    return {
        "items": [return_representation(item) for item in return_queries.order_returns(order.id)]
    }


@bp.route("/orders/<number>/returns", methods=["POST"])
@authenticated(bp)
@idempotent(bp)
@bp.response(201, ReturnSchema)
@errors(bp, 404, 409, 422)
@bp.arguments(ReturnInputSchema)
def request_my_order_return(data: dict[str, Any], number: str) -> dict[str, Any]:
    """Ask to return items of one of the caller's delivered orders

    `lines` names units of the order's lines (`order_line_id`: the `id` of the order's
    lines) and `reason` says why. Only within the shop's return window after delivery, and
    never more units of a line than were ordered minus those refunded or in an open return:
    else 422 `invalid_return_request` naming `lines` or `lines.<id>`, and nothing is
    written. The request is numbered after the order (`FN-7K3QX9MD-R1`) and the customer is
    emailed at each change of its status. Send an `Idempotency-Key` header to make a retry
    safe. Someone else's order is a 404.
    """
    order = queries.get_order_of_user(number, api_user().id)
    quantities: dict[int, int] = {}
    for index, line in enumerate(data["lines"]):
        if line["order_line_id"] in quantities:
            raise InvalidReturnRequest(fields={f"lines.{index}": ["Name each line once."]})
        quantities[line["order_line_id"]] = line["quantity"]
    change = services.request_return(order.number, quantities, reason=data["reason"])
    return return_representation(return_queries.get_return(change.number, order.id))

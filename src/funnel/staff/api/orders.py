"""Staff order operations: the list and one order (``orders.view``), workflow steps and
shipments (``orders.fulfil``) and refunds by line or amount (``orders.refund``, admins only
by default: refunds move money). Each step is one orders service; an invalid step is 409
``invalid_order_transition`` and changes nothing."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from funnel.accounts.permissions import Permission, permissions_of
from funnel.core.api import errors
from funnel.core.api.paging import PagePosition
from funnel.core.idempotency import HEADER as IDEMPOTENCY_HEADER
from funnel.core.idempotency import idempotent
from funnel.core.money import Money
from funnel.orders import queries, services
from funnel.orders.errors import InvalidOrderInput
from funnel.orders.listing import Fulfilment, OrderFilters
from funnel.orders.models import Order, OrderEvent, OrderStatus, Shipment
from funnel.orders.schemas import (
    order_representation,
    order_summary,
    refund_representation,
    shipment_representation,
)
from funnel.payments.models import Payment
from funnel.staff.api import ORDER_NUMBER, bp
from funnel.staff.api.access import staff_caller, staff_permission
from funnel.staff.api.schemas.fields import MAX_STAFF_PAGE_SIZE
from funnel.staff.api.schemas.orders import (
    StaffOrderPageSchema,
    StaffOrderQuerySchema,
    StaffOrderSchema,
    TransitionInputSchema,
    TransitionSchema,
)
from funnel.staff.api.schemas.refunds import RefundInputSchema, RefundSchema
from funnel.staff.api.schemas.shipments import ShipmentInputSchema, ShipmentResultSchema


@bp.route("/orders", methods=["GET"])
@bp.response(200, StaffOrderPageSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.ORDERS_VIEW)
@bp.arguments(StaffOrderQuerySchema, location="query", as_kwargs=True)
def list_staff_orders(**parameters: Any) -> dict[str, Any]:
    """Orders, newest first: filter by status, fulfilment, payment method and placing day;
    search by number, email or ship-to name

    `q` matches an order number exactly, a whole email address exactly, or a part of the
    customer's email or of the ship-to name (any letter case; `%` and `_` are plain
    characters). `fulfilment` is derived from
    the status: `unshipped` (awaiting payment or paid), `shipped` (fulfilled), `delivered`.
    `payment_method` is one of the shop's enabled gateways (e.g. `test`, `manual`, `cod`).
    `placed_from` and `placed_to` are days (UTC), both included. Every filter given must
    match. Follow `next_cursor` for the next page, with the same filters; it is null on the
    last one. Needs `orders.view`.
    """
    position = PagePosition.of(
        parameters, default_size=current_app.config["PAGE_SIZE"], max_size=MAX_STAFF_PAGE_SIZE
    )
    filters = OrderFilters(
        status=OrderStatus(parameters["status"]) if parameters.get("status") else None,
        search=parameters.get("q") or "",
        placed_from=parameters.get("placed_from"),
        placed_to=parameters.get("placed_to"),
        payment_method=parameters.get("payment_method"),
        fulfilment=Fulfilment(parameters["fulfilment"]) if parameters.get("fulfilment") else None,
    )
    page = queries.search_orders(filters, page=position.number, size=position.size)
    counts = queries.item_counts([order.id for order in page.items])
    return {
        "items": [
            {
                **order_summary(order, counts[order.id]),
                "email": order.email,
                "user_id": order.user_id,
            }
            for order in page.items
        ],
        "next_cursor": position.next_cursor(page),
    }


@bp.route(f"/orders/{ORDER_NUMBER}", methods=["GET"])
@bp.response(200, StaffOrderSchema)
@errors(bp, 404)
@staff_permission(bp, Permission.ORDERS_VIEW)
def get_staff_order(number: str) -> dict[str, Any]:
    """One order in full: lines, totals, address, history with who took each step, payments

    `actions` lists the steps the order allows now that the caller may take; `refundable`
    is what is left to refund. Needs `orders.view`.
    """
    return staff_order_representation(queries.get_order(number))


@bp.route(f"/orders/{ORDER_NUMBER}/transitions", methods=["POST"])
@staff_permission(bp, Permission.ORDERS_FULFIL)  # before the key: a refused call claims none
@idempotent(bp)
@bp.response(200, TransitionSchema)
@errors(bp, 400, 404, 409, 413, 422, 502, 503)
@bp.arguments(TransitionInputSchema)
def transition_staff_order(data: dict[str, Any], number: str) -> dict[str, Any]:
    """Move an order on: record a bank transfer, ship, deliver or cancel it

    `to`: `paid` records a bank transfer received for an order awaiting it (409
    `order_payment_missing` for a card or cash-on-delivery order): `amount_received`
    (default: all that is still due) on `received_on` (default today in the shop's time
    zone; a future day is 422 `invalid_order_input`). Less than is still due is 422
    `manual_amount_mismatch` unless `partial` is true: the order then stays
    `pending_payment` with `payment.paid_so_far` and `payment.still_due`, and is paid when
    the sums reach the total; more than is still due is 422 `manual_amount_above_due`. A
    partial payment needs an `Idempotency-Key` header (422 without it): a retry with the same
    key and body answers the first response and records the sum once. `fulfilled` ships all
    of a paid order, or a cash-on-delivery order before it is paid, by `carrier` (required)
    with its `tracking_number` (the customer is emailed the tracking link);
    `delivered`: for a cash-on-delivery order also records the cash received and pays it
    (`amount_received`, default the amount due, must be the amount due);
    `cancelled` (`note` is the reason, required) voids an unpaid order's payment, and refunds
    a paid order in full, so cancelling a paid order also needs `orders.refund`. A step the
    status does not allow is 409 `invalid_order_transition` and changes nothing; a step
    already taken answers `changed: false`. Needs `orders.fulfil`.
    """
    caller = staff_caller()
    order = queries.get_order(number)
    amount = data.get("amount_received")
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if data["partial"] and not key:
        raise InvalidOrderInput(
            "Send an Idempotency-Key header with a partial payment: it is how a retry is "
            "recognised, so that the sum is recorded once.",
            fields={"partial": ["A partial payment needs an Idempotency-Key header."]},
        )
    change = services.move_order(
        order.number,
        data["to"],
        actor_user_id=caller.id,
        note=data["note"],
        amount_received=_money(amount) if amount is not None else None,
        received_on=data.get("received_on"),
        is_partial=data["partial"],
        request_key=f"staff-api:{caller.id}:{key}" if key else None,
        shipment=_shipment_details(data),
    )
    return {
        "changed": change.changed,
        "order": staff_order_representation(queries.get_order(change.number)),
    }


@bp.route(f"/orders/{ORDER_NUMBER}/refunds", methods=["POST"])
@staff_permission(bp, Permission.ORDERS_REFUND)  # before the key: a refused call claims none
@idempotent(bp, required=True)
@bp.response(201, RefundSchema)
@errors(bp, 400, 404, 409, 413, 422, 502, 503)
@bp.arguments(RefundInputSchema)
def refund_staff_order(data: dict[str, Any], number: str) -> dict[str, Any]:
    """Refund an order by lines (perhaps back to stock) and shipping, or by an amount,
    through the gateway that took its payment

    `lines` names units of the order's lines (`order_line_id`: the `id` of the order's
    lines); each unit gives back its price and its share of the tax, and with `restock` goes
    back to stock (for units that came back, or never left). `shipping` refunds the shipping
    and its tax, once. More units than are left to refund of a line (ordered minus refunded,
    counting refunds under way), or the shipping again, is 422 `refund_exceeds_order` naming
    `lines.<id>` or `shipping`, and changes nothing. Without lines or shipping, `amount` is
    what to refund (nothing goes back to stock); absent or null refunds all that is left;
    with lines it is 422 `invalid_order_input`. More than is left is 422
    `refund_exceeds_payment`. Send an `Idempotency-Key` header (required): a retry with the
    same key and body answers the first response (`Idempotent-Replayed: true`) and refunds
    once. A fully refunded order becomes `refunded`; refunding it again, with any amount, is
    409 `nothing_left_to_refund` (also when another refund is taking the rest at that
    moment). An unpaid or cancelled order is 409 `invalid_order_transition`. With
    `return_number` (a received return of the order) the return becomes `refunded`; a return
    that is not received is 409 `invalid_return_transition`. Needs
    `orders.refund` (admins only by default).
    """
    caller = staff_caller()
    key = services.refund_request_key(
        services.RefundSource.STAFF_API,
        request.headers.get(IDEMPOTENCY_HEADER, ""),
        staff_user_id=caller.id,
    )
    order = queries.get_order(number)
    amount = data.get("amount")
    refund = services.refund_order(
        order.number,
        _money(amount) if amount is not None else None,
        idempotency_key=key,
        actor_user_id=caller.id,
        reason=data["reason"],
        lines=_refund_lines(data["lines"]),
        shipping=data["shipping"],
        return_number=data["return_number"] or None,
    )
    record = (
        None
        if refund.refund_id is None
        else refund_representation(queries.get_refund(order.id, refund.refund_id), order.currency)
    )
    return {
        "refund": {
            "id": refund.refund_id,
            "amount": refund.amount,
            "refunded_total": refund.refunded_total,
            "is_full": refund.is_full,
            "stock_returned": refund.stock_returned,
            "shipping": record["shipping"] if record else Money.zero(order.currency),
            "lines": record["lines"] if record else [],
        },
        "order": staff_order_representation(queries.get_order(order.number)),
    }


def _refund_lines(lines: list[dict[str, Any]]) -> list[services.RefundLineInput]:
    return [
        services.RefundLineInput(line["order_line_id"], line["quantity"], line["restock"])
        for line in lines
    ]


@bp.route(f"/orders/{ORDER_NUMBER}/shipments", methods=["POST"])
@staff_permission(bp, Permission.ORDERS_FULFIL)  # before the key: a refused call claims none
@idempotent(bp, required=True)
@bp.response(201, ShipmentResultSchema)
@errors(bp, 400, 404, 409, 413, 422)
@bp.arguments(ShipmentInputSchema)
def ship_staff_order(data: dict[str, Any], number: str) -> dict[str, Any]:
    """Ship a paid order's items, all or some (partial fulfilment), with carrier and tracking

    `lines` lists `order_line_id` (the `id` of the order's lines) and `quantity`; absent or
    null ships every unit left. More units of a line than are left is 422
    `shipment_exceeds_order` and changes nothing. `carrier` is a known carrier's code (its
    tracking link is built from `tracking_number`) or `other`, with `carrier_name` and perhaps
    `tracking_url`. When every unit has shipped the order becomes `fulfilled`; the customer is
    emailed the items and the tracking link. An order that is not paid (or already shipped in
    full) is 409 `invalid_order_transition`. Send an `Idempotency-Key` header (required): a
    retry with the same key and body answers the first response and ships once. Needs
    `orders.fulfil`.
    """
    caller = staff_caller()
    key = services.shipment_request_key(
        services.ShipmentSource.STAFF_API,
        request.headers.get(IDEMPOTENCY_HEADER, ""),
        staff_user_id=caller.id,
    )
    order = queries.get_order(number)
    outcome = services.ship_items(
        order.number,
        _shipment_lines(data["lines"]),
        carrier=data["carrier"],
        carrier_name=data["carrier_name"],
        tracking_number=data["tracking_number"],
        tracking_url=data["tracking_url"],
        note=data["note"],
        actor_user_id=caller.id,
        request_key=key,
    )
    shipped = queries.get_order(order.number)
    return {
        "changed": outcome.changed,
        "shipment": _shipment(queries.get_shipment(shipped, outcome.shipment_id)),
        "order": staff_order_representation(shipped),
    }


def _shipment_details(data: dict[str, Any]) -> services.ShipmentDetails | None:
    if "carrier" not in data:
        return None
    return services.ShipmentDetails(
        carrier=data["carrier"],
        tracking_number=data["tracking_number"],
        carrier_name=data["carrier_name"],
        tracking_url=data["tracking_url"],
    )


def _shipment_lines(lines: list[dict[str, int]] | None) -> dict[int, int] | None:
    """The request's lines as ``ship_items`` takes them. Raises InvalidOrderInput for a line
    named twice."""
    if lines is None:
        return None
    quantities: dict[int, int] = {}
    for index, line in enumerate(lines):
        if line["order_line_id"] in quantities:
            raise InvalidOrderInput(fields={f"lines.{index}": ["Name each line once."]})
        quantities[line["order_line_id"]] = line["quantity"]
    return quantities


def _shipment(shipment: Shipment) -> dict[str, Any]:
    return {
        **shipment_representation(shipment),
        "shipped_by_user_id": shipment.shipped_by_user_id,
    }


def _money(value: dict[str, Any]) -> Money:
    return Money(value["amount"], value["currency"].upper())


def staff_order_representation(order: Order) -> dict[str, Any]:
    """The customer's view of the order (``OrderSchema``) plus what staff need to act."""
    details = queries.order_details(order)
    live = details.live_payment
    refundable = live.refundable if live is not None else Money.zero(order.currency)
    return {
        **order_representation(details),
        "user_id": order.user_id,
        "events": [_event(event) for event in details.events],
        "payments": [_payment(payment) for payment in details.payments],
        "shipments": [_shipment(shipment) for shipment in details.shipments],
        "refundable": refundable,
        "actions": sorted(details.staff_actions_for(permissions_of(staff_caller()))),
    }


def _event(event: OrderEvent) -> dict[str, Any]:
    return {
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor_user_id": event.actor_user_id,
        "note": event.note,
        "created_at": event.created_at,
    }


def _payment(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.public_id,
        "gateway": payment.gateway,
        "status": payment.status.value,
        "amount": payment.amount,
        "refunded": payment.refunded,
        "received": payment.received,
        "card_brand": payment.card_brand,
        "card_last4": payment.card_last4,
        "failure_message": payment.failure_message,
        "created_at": payment.created_at,
    }

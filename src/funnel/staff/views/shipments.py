"""Staff shipping pages (permission ``orders.fulfil``), added to the staff blueprint by
``register``: the order page's "Ship items" form and the printable packing slip.

The form posts a quantity per order line, the carrier and the tracking number, with a one-time
token so that a double click ships once; ``orders.services.ship_items`` decides the rest. A
refused shipment shows the order page again with the reason (409, 422) and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts.countries import COUNTRIES
from funnel.accounts.permissions import Permission
from funnel.core.errors import DomainError
from funnel.orders import queries, services
from funnel.orders.errors import InvalidOrderInput
from funnel.staff.access import page_permission
from funnel.staff.views.orders import detail_page

FIELD_LENGTH = 500
QUANTITY_DIGITS = 9


def register(bp: Blueprint) -> None:
    bp.add_url_rule(
        "/orders/<number>/shipments",
        "order_ship",
        page_permission(Permission.ORDERS_FULFIL)(order_ship),
        methods=["POST"],
    )
    bp.add_url_rule(
        "/orders/<number>/packing-slip",
        "order_packing_slip",
        page_permission(Permission.ORDERS_FULFIL)(order_packing_slip),
        methods=["GET"],
    )


def _text(name: str) -> str:
    value = request.form.get(name, "").strip()
    if len(value) > FIELD_LENGTH:
        raise InvalidOrderInput(fields={name: [f"At most {FIELD_LENGTH} characters."]})
    return value


def _quantities(line_ids: list[int]) -> dict[int, int]:
    """The form's ``quantity-<line id>`` fields: blank is 0. Raises InvalidOrderInput."""
    quantities: dict[int, int] = {}
    invalid: dict[str, list[str]] = {}
    for line_id in line_ids:
        raw = request.form.get(f"quantity-{line_id}", "").strip() or "0"
        if not raw.isascii() or not raw.isdigit() or len(raw) > QUANTITY_DIGITS:
            invalid[f"lines.{line_id}"] = ["Give a whole number of units, 0 or more."]
        else:
            quantities[line_id] = int(raw)
    if invalid:
        raise InvalidOrderInput(fields=invalid)
    return quantities


def order_ship(number: str) -> ResponseReturnValue:
    order = queries.get_order(number)
    try:
        key = services.shipment_request_key(
            services.ShipmentSource.DASHBOARD,
            request.form.get("idempotency_key", ""),
            staff_user_id=current_user.id,
        )
        outcome = services.ship_items(
            order.number,
            _quantities([line.id for line in queries.order_lines(order)]),
            carrier=request.form.get("carrier", ""),
            carrier_name=_text("carrier_name"),
            tracking_number=_text("tracking_number"),
            tracking_url=_text("tracking_url"),
            note=_text("note"),
            actor_user_id=current_user.id,
            request_key=key,
        )
    except DomainError as error:
        return detail_page(order.number, error)
    if not outcome.changed:
        flash("This shipment was already recorded.", "success")
    else:
        units = f"{outcome.units} {'item' if outcome.units == 1 else 'items'}"
        fully = " The order is shipped in full." if outcome.change.changed else ""
        flash(f"Shipped {units}; the customer is emailed the tracking link.{fully}", "success")
    return redirect(url_for("staff.order", number=order.number), code=303)


def order_packing_slip(number: str) -> ResponseReturnValue:
    """The packing slip of one shipment (``?shipment=<id>``) or of the whole order: the
    ship-to address, lines and quantities, no prices."""
    order = queries.get_order(number)
    raw = request.args.get("shipment")
    shipment = None
    if raw:
        if not raw.isascii() or not raw.isdigit() or len(raw) > QUANTITY_DIGITS:
            abort(404)
        shipment = queries.get_shipment(order, int(raw))
    lines = queries.order_lines(order)
    if shipment is None:
        items = [(line, line.quantity) for line in lines]
    else:
        items = [(item.order_line, item.quantity) for item in shipment.lines]
    return render_template(
        "staff/orders/packing_slip.html",
        order=order,
        shipment=shipment,
        items=items,
        countries=COUNTRIES,
    )

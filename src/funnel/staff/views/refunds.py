"""The order page's refund form (permission ``orders.refund``), added to the staff blueprint
by ``register``.

The form lists each line with the units ordered, refunded and back in stock, a number of units
to refund and a "back to stock" box, and a box for the shipping; or it takes an amount instead
(blank with no line chosen: all that is left). A one-time token in the page makes a double
click refund once; ``orders.services.refund_order`` decides the rest. A refused refund shows
the order page again with the reason (409, 422, 502, 503) and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts.permissions import Permission
from funnel.orders import queries, services
from funnel.orders.errors import InvalidOrderInput
from funnel.staff.access import page_permission
from funnel.staff.views.orders import act, amount_field, text_field

QUANTITY_DIGITS = 9


def register(bp: Blueprint) -> None:
    bp.add_url_rule(
        "/orders/<number>/refund",
        "order_refund",
        page_permission(Permission.ORDERS_REFUND)(order_refund),
        methods=["POST"],
    )


def refund_lines(line_ids: list[int]) -> list[services.RefundLineInput]:
    """The form's ``refund-quantity-<line id>`` (blank is 0) and ``refund-restock-<line id>``
    fields, for the lines with units to refund. Raises InvalidOrderInput."""
    lines: list[services.RefundLineInput] = []
    invalid: dict[str, list[str]] = {}
    for line_id in line_ids:
        raw = request.form.get(f"refund-quantity-{line_id}", "").strip() or "0"
        if not raw.isascii() or not raw.isdigit() or len(raw) > QUANTITY_DIGITS:
            invalid[f"lines.{line_id}"] = ["Give a whole number of units, 0 or more."]
        elif int(raw):
            restock = request.form.get(f"refund-restock-{line_id}") == "yes"
            lines.append(services.RefundLineInput(line_id, int(raw), restock))
    if invalid:
        raise InvalidOrderInput(fields=invalid)
    return lines


def order_refund(number: str) -> ResponseReturnValue:
    def step(currency: str) -> str:
        key = services.refund_request_key(
            services.RefundSource.DASHBOARD,
            request.form.get("idempotency_key", ""),
            staff_user_id=current_user.id,
        )
        order = queries.get_order(number)
        refund = services.refund_order(
            order.number,
            amount_field("amount", currency),
            idempotency_key=key,
            actor_user_id=current_user.id,
            reason=text_field("reason"),
            lines=refund_lines([line.id for line in queries.order_lines(order)]),
            shipping=request.form.get("refund_shipping") == "yes",
            return_number=request.form.get("return_number", "").strip() or None,
        )
        if not refund.amount.amount:
            return "This refund was already made."
        if request.form.get("return_number", "").strip():
            return f"Refunded {refund.amount.format()}: the return is refunded." + (
                " The chosen items are back in stock." if refund.stock_returned else ""
            )
        return f"Refunded {refund.amount.format()}." + (
            " The chosen items are back in stock." if refund.stock_returned else ""
        )

    return act(number, step)

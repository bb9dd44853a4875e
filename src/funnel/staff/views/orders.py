"""Staff order pages, added to the staff blueprint by ``register`` (its ``require_staff`` check
applies to them).

Each POST parses its form, calls one orders service and redirects to the order (303) with a
message; a refused step (an invalid transition, bad input) shows the order page again with the
reason, at the error's status (409, 422), and changes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts.countries import COUNTRIES
from funnel.accounts.permissions import Permission, permissions_of
from funnel.core.errors import DomainError
from funnel.core.money import Money, MoneyError
from funnel.core.pagination import Page, page_number
from funnel.orders import listing, queries, services
from funnel.orders.carriers import CARRIERS
from funnel.orders.errors import InvalidOrderInput
from funnel.orders.models import Order, OrderStatus, ReturnStatus
from funnel.orders.queries import returns as return_queries
from funnel.payments import queries as payment_queries
from funnel.payments.gateways import enabled_gateways

NOTE_FIELD_LENGTH = 500


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/orders", "orders", orders, methods=["GET"])
    bp.add_url_rule("/orders/<number>", "order", order, methods=["GET"])
    bp.add_url_rule(
        "/orders/<number>/payment-received",
        "order_record_payment",
        order_record_payment,
        methods=["POST"],
    )
    bp.add_url_rule("/orders/<number>/fulfil", "order_fulfil", order_fulfil, methods=["POST"])
    bp.add_url_rule("/orders/<number>/deliver", "order_deliver", order_deliver, methods=["POST"])
    bp.add_url_rule("/orders/<number>/cancel", "order_cancel", order_cancel, methods=["POST"])


def orders() -> ResponseReturnValue:
    """The order list. Filters that are not valid show the form again with the reason beside
    each field, at 422, and no list."""
    given = listing.given_filters(request.args)
    try:
        filters = listing.parse_order_filters(request.args)
    except InvalidOrderInput as error:
        return _order_list(None, given, error.fields), error.status
    page = queries.search_orders(filters, page=page_number(request.args.get("page")))
    return _order_list(page, given, {}, filters)


def _order_list(
    page: Page[Order] | None,
    given: dict[str, str],
    errors: dict[str, list[str]],
    filters: listing.OrderFilters | None = None,
) -> str:
    return render_template(
        "staff/orders/list.html",
        page=page,
        given=given,
        errors=errors,
        filters=filters,
        statuses=[(status.value, status.label) for status in OrderStatus],
        fulfilment_states=[(state.value, state.label) for state in listing.Fulfilment],
        payment_methods=[(gateway.name, gateway.label) for gateway in enabled_gateways()],
        overdue_partly_paid=payment_queries.overdue_manual_payments(partly_received=True),
        may_reconcile=Permission.ORDERS_REFUND in permissions_of(current_user),
    )


def order(number: str) -> ResponseReturnValue:
    return detail_page(number)


def detail_page(number: str, error: DomainError | None = None) -> ResponseReturnValue:
    """The order page, with ``error`` (a refused step) shown at its status."""
    details = queries.order_details(queries.get_order(number))
    submitted, refund_return = _refund_prefill(details, error)
    page = render_template(
        "staff/orders/detail.html",
        details=details,
        actions=details.staff_actions_for(permissions_of(current_user)),
        countries=COUNTRIES,
        carriers=CARRIERS.values(),
        error=error,
        refund_key=secrets.token_urlsafe(18),
        shipment_key=secrets.token_urlsafe(18),
        payment_key=secrets.token_urlsafe(18),
        today=services.shop_today(),
        packing_slips=True,
        submitted=submitted,
        returns=return_queries.order_returns(details.order.id),
        refund_return=refund_return,
    )
    return page, (error.status if error else 200)


def _refund_prefill(
    details: queries.OrderDetails, error: DomainError | None
) -> tuple[Mapping[str, str], str]:
    """The refund form's values: what was posted (a refused step), or, for ``?return=`` a
    received return of this order, its items (none back to stock: receiving restocked
    them) and reason; and the return the refund settles ("" for none)."""
    if error:
        return request.form, request.form.get("return_number", "")
    number = request.args.get("return", "")
    found = return_queries.find_return(number) if number else None
    if found is None or found.order_id != details.order.id:
        return {}, ""
    if found.status != ReturnStatus.RECEIVED:
        return {}, ""
    values = {f"refund-quantity-{line.order_line_id}": str(line.quantity) for line in found.lines}
    values["reason"] = f"Return {found.number}"
    return values, found.number


def text_field(name: str) -> str:
    value = request.form.get(name, "").strip()
    if len(value) > NOTE_FIELD_LENGTH:
        raise InvalidOrderInput(fields={name: [f"At most {NOTE_FIELD_LENGTH} characters."]})
    return value


def amount_field(name: str, currency: str) -> Money | None:
    """An amount in major units ("19.99"), or None when the field is blank."""
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return Money.parse(raw, currency)
    except MoneyError:
        raise InvalidOrderInput(
            f"{raw[:20]!r} is not an amount in {currency}.",
            fields={name: [f"Give an amount in {currency}, such as 19.99."]},
        ) from None


def act(number: str, step: Callable[[str], str]) -> ResponseReturnValue:
    """Run one step on the order; its message on success, the order page with the reason if
    refused."""
    order = queries.get_order(number)
    try:
        message = step(order.currency)
    except DomainError as error:
        return detail_page(order.number, error)
    flash(message, "success")
    return redirect(url_for("staff.order", number=order.number), code=303)


def date_field(name: str) -> date | None:
    """A day ("2026-12-06"), or None when the field is blank."""
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidOrderInput(
            f"{raw[:20]!r} is not a date.", fields={name: ["Give a date, such as 2026-12-06."]}
        ) from None


def order_record_payment(number: str) -> ResponseReturnValue:
    def step(currency: str) -> str:
        change = services.record_manual_payment(
            number,
            actor_user_id=current_user.id,
            amount_received=amount_field("amount_received", currency),
            received_on=date_field("received_on"),
            is_partial=request.form.get("is_partial") == "yes",
            request_key=_form_key(),
            note=text_field("note"),
        )
        if not change.changed:
            return "Already recorded: nothing changed."
        if change.status == OrderStatus.PAID:
            return "Payment recorded: the order is paid."
        return "Partial payment recorded: the order awaits the rest."

    return act(number, step)


def _form_key() -> str | None:
    """The form's one-time token: a double submit or a resent form records the payment once."""
    key = request.form.get("idempotency_key", "").strip()
    return f"staff-page:{current_user.id}:{key[:100]}" if key else None


def order_fulfil(number: str) -> ResponseReturnValue:
    def step(_currency: str) -> str:
        change = services.fulfil_order(
            number,
            actor_user_id=current_user.id,
            note=text_field("note"),
            carrier=request.form.get("carrier", ""),
            tracking_number=text_field("tracking_number"),
            carrier_name=text_field("carrier_name"),
            tracking_url=text_field("tracking_url"),
        )
        if not change.changed:
            return "Already shipped."
        return "The order is marked shipped; the customer is emailed the tracking link."

    return act(number, step)


def order_deliver(number: str) -> ResponseReturnValue:
    def step(currency: str) -> str:
        change = services.mark_delivered(
            number,
            actor_user_id=current_user.id,
            note=text_field("note"),
            amount_received=amount_field("amount_received", currency),
        )
        if not change.changed:
            return "Already delivered."
        if queries.get_order(change.number).is_paid_on_delivery:
            return "The order is marked delivered and the cash received: it is paid."
        return "The order is marked delivered."

    return act(number, step)


def order_cancel(number: str) -> ResponseReturnValue:
    def step(_currency: str) -> str:
        change = services.cancel_order(
            number, reason=text_field("reason"), actor_user_id=current_user.id
        )
        return "The order is cancelled." if change.changed else "The order was already cancelled."

    return act(number, step)

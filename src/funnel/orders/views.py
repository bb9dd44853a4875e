"""The customer's order pages: their list, their order, and a guest's signed link; a
delivered order's page takes return requests (``orders.services.request_return``)."""

from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from funnel.accounts.countries import COUNTRIES
from funnel.core.pagination import page_number
from funnel.orders import queries, services
from funnel.orders.errors import InvalidReturnRequest, OrderNotFound
from funnel.orders.links import key_opens
from funnel.orders.pricing import with_tax
from funnel.orders.queries import returns as return_queries

bp = Blueprint("orders", __name__)
# Customer order pages and emails show amounts with tax when the shop shows prices so.
bp.add_app_template_global(with_tax, "with_tax")


@bp.get("/account/orders")
@login_required
def account_orders() -> ResponseReturnValue:
    services.attach_guest_orders(current_user.id)
    page = queries.orders_of_user(current_user.id, page_number(request.args.get("page")))
    return render_template("orders/list.html", page=page)


@bp.get("/account/orders/<number>")
@login_required
def account_order(number: str) -> ResponseReturnValue:
    order = queries.get_order_of_user(number, current_user.id)
    return _detail(order)


@bp.get("/orders/<number>")
def guest_order(number: str) -> ResponseReturnValue:
    order = queries.find_order(number)
    if order is None or not key_opens(request.args.get("key"), order.number):
        raise OrderNotFound()
    response = _detail(order, guest_key=request.args.get("key", ""))
    return response, 200, {"Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store"}


def _detail(
    order: queries.Order, return_errors: dict[str, list[str]] | None = None, guest_key: str = ""
) -> str:
    details = queries.order_details(order)
    return render_template(
        "orders/detail.html",
        details=details,
        countries=COUNTRIES,
        returns=return_queries.order_returns(order.id),
        return_offer=return_queries.return_offer(order, details.lines),
        return_key=secrets.token_urlsafe(18),
        return_errors=return_errors or {},
        submitted=request.form if return_errors else {},
        guest_key=guest_key,
    )


RETURN_QUANTITY_DIGITS = 9


@bp.post("/account/orders/<number>/returns")
@login_required
def account_order_return(number: str) -> ResponseReturnValue:
    order = queries.get_order_of_user(number, current_user.id)
    return _request_return(order, url_for("orders.account_order", number=order.number))


@bp.post("/orders/<number>/returns")
def guest_order_return(number: str) -> ResponseReturnValue:
    key = request.args.get("key", "")
    order = queries.find_order(number)
    if order is None or not key_opens(key, order.number):
        raise OrderNotFound()
    return _request_return(
        order, url_for("orders.guest_order", number=order.number, key=key), guest_key=key
    )


def _request_return(order: queries.Order, page: str, guest_key: str = "") -> ResponseReturnValue:
    """Parse the return form (``return-quantity-<line id>``, blank is 0; ``reason``), ask
    the service; the order page again with the reasons beside the fields (422) when refused."""
    quantities: dict[int, int] = {}
    invalid: dict[str, list[str]] = {}
    for line in queries.order_lines(order):
        raw = request.form.get(f"return-quantity-{line.id}", "").strip() or "0"
        if not raw.isascii() or not raw.isdigit() or len(raw) > RETURN_QUANTITY_DIGITS:
            invalid[f"lines.{line.id}"] = ["Give a whole number of units, 0 or more."]
        elif int(raw):
            quantities[line.id] = int(raw)
    try:
        if invalid:
            raise InvalidReturnRequest(fields=invalid)
        change = services.request_return(
            order.number,
            quantities,
            reason=request.form.get("reason", ""),
            request_key=request.form.get("request_key") or None,
        )
    except InvalidReturnRequest as error:
        headers = {"Cache-Control": "private, no-store"} if guest_key else {}
        return _detail(order, error.fields or {"lines": [str(error)]}, guest_key), 422, headers
    flash(f"Return {change.number} is requested: we will email you when we have looked at it.")
    return redirect(page, code=303)

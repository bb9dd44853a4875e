"""The customer's order pages: their list, their order, and a guest's signed link;
cancelling an order from its page (a confirmation page, then a POST to the service); and a
delivered order's return requests (``orders.services.request_return``)."""

from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from funnel.accounts.countries import COUNTRIES
from funnel.core.errors import DomainError
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
    order = _guest_order(number)
    response = _detail(order)
    return response, 200, _GUEST_HEADERS


@bp.route("/account/orders/<number>/cancel", methods=["GET", "POST"])
@login_required
def account_order_cancel(number: str) -> ResponseReturnValue:
    order = queries.get_order_of_user(number, current_user.id)
    back = url_for("orders.account_order", number=order.number)
    return _cancel(order, current_user.id, back)


@bp.route("/orders/<number>/cancel", methods=["GET", "POST"])
def guest_order_cancel(number: str) -> ResponseReturnValue:
    order = _guest_order(number)
    key = request.args.get("key")
    back = url_for("orders.guest_order", number=order.number, key=key)
    answer = _cancel(order, None, back)
    if isinstance(answer, tuple):
        return answer[0], answer[1], _GUEST_HEADERS
    return answer


_GUEST_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store"}


def _guest_order(number: str) -> queries.Order:
    """The order a guest's signed link opens. Raises OrderNotFound (also for a wrong key)."""
    order = queries.find_order(number)
    if order is None or not key_opens(request.args.get("key"), order.number):
        raise OrderNotFound()
    return order


def _cancel(order: queries.Order, user_id: int | None, back: str) -> ResponseReturnValue:
    """GET: the confirmation page. POST: cancel through the service, then back to the order
    with a message; a refused cancellation (shipped meanwhile, a crafted request) shows the
    order page with the reason, at the error's status, and changes nothing."""
    if request.method == "GET":
        if not services.may_customer_cancel(order):
            return _detail(order, error_message=_NOT_CANCELLABLE), 409
        action = request.full_path.rstrip("?")
        page = render_template("orders/cancel.html", order=order, back=back, action=action)
        return page, 200
    try:
        change = services.cancel_by_customer(
            order.id, user_id=user_id, reason=request.form.get("reason", "")[:300]
        )
    except DomainError as error:
        return _detail(order, error_message=error.detail or error.title), error.status
    if change.changed:
        flash(
            "Your order is cancelled. Any payment is refunded in full; we have emailed you.",
            "success",
        )
    else:
        flash("This order was already cancelled: nothing changed.", "info")
    return redirect(back, code=303)


_NOT_CANCELLABLE = "This order can no longer be cancelled: it has shipped, or is closed."


def _detail(
    order: queries.Order,
    error_message: str | None = None,
    return_errors: dict[str, list[str]] | None = None,
) -> str:
    key = request.args.get("key", "")
    details = queries.order_details(queries.get_order(order.number))
    if services.may_customer_cancel(details.order):
        cancel_url = (
            url_for("orders.guest_order_cancel", number=order.number, key=key)
            if key
            else url_for("orders.account_order_cancel", number=order.number)
        )
    else:
        cancel_url = None
    return render_template(
        "orders/detail.html",
        details=details,
        countries=COUNTRIES,
        cancel_url=cancel_url,
        error_message=error_message,
        returns=return_queries.order_returns(order.id),
        return_offer=return_queries.return_offer(details.order, details.lines),
        return_key=secrets.token_urlsafe(18),
        return_errors=return_errors or {},
        submitted=request.form if return_errors else {},
        guest_key=key,
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
        errors = error.fields or {"lines": [str(error)]}
        return _detail(order, return_errors=errors), 422, headers
    flash(f"Return {change.number} is requested: we will email you when we have looked at it.")
    return redirect(page, code=303)

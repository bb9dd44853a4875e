"""The customer's order pages: their list, their order, and a guest's signed link; and
cancelling an order from its page (a confirmation page, then a POST to the service)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from funnel.accounts.countries import COUNTRIES
from funnel.core.errors import DomainError
from funnel.core.pagination import page_number
from funnel.orders import queries, services
from funnel.orders.errors import OrderNotFound
from funnel.orders.links import key_opens
from funnel.orders.pricing import with_tax

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


def _detail(order: queries.Order, error_message: str | None = None) -> str:
    key = request.args.get("key")
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
    )

"""The customer's order pages: their list, their order, and a guest's signed link."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from funnel.accounts.countries import COUNTRIES
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
    order = queries.find_order(number)
    if order is None or not key_opens(request.args.get("key"), order.number):
        raise OrderNotFound()
    response = _detail(order)
    return response, 200, {"Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store"}


def _detail(order: queries.Order) -> str:
    return render_template(
        "orders/detail.html", details=queries.order_details(order), countries=COUNTRIES
    )

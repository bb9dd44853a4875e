"""Staff customer pages, added to the staff blueprint by ``register``: the accounts list
(search by email or name, filter by role) and one account's page with its orders, lifetime
value and address book, where staff send a password reset or a verification link, and disable
or enable the account.

Reading needs ``customers.view``; every action needs ``customers.manage``, checked again by
the accounts service it calls. A refused action shows the page again with the reason and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts import queries as account_queries
from funnel.accounts import services as accounts
from funnel.accounts.countries import COUNTRIES
from funnel.accounts.models import Role
from funnel.accounts.permissions import Permission, permissions_of, require_permission
from funnel.core.errors import DomainError
from funnel.orders import queries as order_queries

CUSTOMERS_PER_PAGE = 50
RECENT_ORDERS = 10


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/customers", "customers", customers, methods=["GET"])
    bp.add_url_rule("/customers/<int:user_id>", "customer", customer, methods=["GET"])
    for action in ACTIONS:
        bp.add_url_rule(
            f"/customers/<int:user_id>/{action}",
            f"customer_{action.replace('-', '_')}",
            _action_view(action),
            methods=["POST"],
        )


def _role(raw: str | None) -> Role | None:
    try:
        return Role(raw) if raw else None
    except ValueError:
        return None


def customers() -> ResponseReturnValue:
    require_permission(current_user, Permission.CUSTOMERS_VIEW)
    search = request.args.get("q", "")[:254]
    role = _role(request.args.get("role"))
    # Any page number is answered (an odd one shows the first or the last page), never an error.
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 1_000_000)
    pagination = account_queries.search_users(
        search, page=page, per_page=CUSTOMERS_PER_PAGE, role=role
    )
    return render_template(
        "staff/customers/list.html", pagination=pagination, search=search, role=role, Role=Role
    )


def customer(user_id: int) -> ResponseReturnValue:
    return _detail(user_id)


def _detail(user_id: int, error: DomainError | None = None) -> ResponseReturnValue:
    require_permission(current_user, Permission.CUSTOMERS_VIEW)
    overview = order_queries.customer_overview(user_id)
    page = render_template(
        "staff/customers/detail.html",
        overview=overview,
        user=overview.user,
        orders=order_queries.orders_of_user(user_id, 1, RECENT_ORDERS),
        addresses=account_queries.list_addresses(user_id),
        countries=COUNTRIES,
        may_manage=Permission.CUSTOMERS_MANAGE in permissions_of(current_user),
        error=error,
    )
    return page, (error.status if error else 200)


def _disable(user_id: int) -> str:
    changed = accounts.disable_account(current_user, user_id)
    if not changed:
        return "The account was already disabled."
    return "The account is disabled: it is signed out everywhere and its API tokens are revoked."


def _enable(user_id: int) -> str:
    changed = accounts.enable_account(current_user, user_id)
    return "The account can sign in again." if changed else "The account was already enabled."


def _password_reset(user_id: int) -> str:
    accounts.send_password_reset(current_user, user_id)
    return "A password reset link was emailed to the customer."


def _verification(user_id: int) -> str:
    if accounts.send_verification_email(current_user, user_id):
        return "A new verification link was emailed to the customer."
    return "This email address is verified already: nothing was sent."


# Each action: one accounts service; its message on success.
ACTIONS: dict[str, Callable[[int], str]] = {
    "disable": _disable,
    "enable": _enable,
    "password-reset": _password_reset,
    "verification-email": _verification,
}


def _action_view(action: str) -> Callable[[int], ResponseReturnValue]:
    def view(user_id: int) -> ResponseReturnValue:
        try:
            message = ACTIONS[action](user_id)
        except DomainError as error:
            if error.status in (403, 404):
                raise
            return _detail(user_id, error)
        flash(message, "success")
        return redirect(url_for("staff.customer", user_id=user_id), code=303)

    view.__name__ = f"customer_{action.replace('-', '_')}"
    return view

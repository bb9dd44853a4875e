"""Staff customer look-ups (permission ``customers.view``): accounts by email and role, and
one account with its order count; and the page's actions (``customers.manage``, checked again
by the accounts service each calls): disable, enable, send a password reset or a verification
link. Password hashes are never part of an answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app

from funnel.accounts import queries
from funnel.accounts import services as accounts
from funnel.accounts.models import Role, User
from funnel.accounts.permissions import Permission
from funnel.core.api import errors
from funnel.core.api.paging import PagePosition
from funnel.orders import queries as order_queries
from funnel.staff.api import USER_ID, bp
from funnel.staff.api.access import staff_caller, staff_permission
from funnel.staff.api.schemas.customers import (
    CustomerActionSchema,
    CustomerDetailSchema,
    CustomerPageSchema,
    CustomerQuerySchema,
)
from funnel.staff.api.schemas.fields import MAX_STAFF_PAGE_SIZE

VIEW = Permission.CUSTOMERS_VIEW


@bp.route("/customers", methods=["GET"])
@bp.response(200, CustomerPageSchema)
@errors(bp, 422)
@staff_permission(bp, VIEW)
@bp.arguments(CustomerQuerySchema, location="query", as_kwargs=True)
def list_staff_customers(**parameters: Any) -> dict[str, Any]:
    """Accounts, newest first: search by a part of the email, filter by role; one page

    Follow `next_cursor` for the next page, with the same `q` and `role`; it is null on the
    last one. Needs `customers.view`.
    """
    position = PagePosition.of(
        parameters, default_size=current_app.config["PAGE_SIZE"], max_size=MAX_STAFF_PAGE_SIZE
    )
    role = Role(parameters["role"]) if parameters.get("role") else None
    page = queries.search_users(
        parameters.get("q") or "", position.number, position.size, role=role
    )
    return {
        "items": [_account(user) for user in page.items],
        "next_cursor": position.next_cursor(page),
    }


@bp.route(f"/customers/{USER_ID}", methods=["GET"])
@bp.response(200, CustomerDetailSchema)
@errors(bp, 404)
@staff_permission(bp, VIEW)
def get_staff_customer(user_id: int) -> dict[str, Any]:
    """One account with the number of orders it placed

    Needs `customers.view`.
    """
    overview = order_queries.customer_overview(user_id)
    return {**_account(overview.user), "order_count": overview.order_count}


def _password_reset(caller: User, user_id: int) -> bool:
    accounts.send_password_reset(caller, user_id)
    return True


# Each action: the accounts service the customer page's button calls; True when it did something.
ACTIONS: dict[str, Callable[[User, int], bool]] = {
    "disable": accounts.disable_account,
    "enable": accounts.enable_account,
    "password-reset": _password_reset,
    "verification-email": accounts.send_verification_email,
}
_SUMMARIES = {
    "disable": "Disable the account: it is signed out everywhere and its API tokens revoked",
    "enable": "Let a disabled account sign in again",
    "password-reset": "Email the customer a password reset link",
    "verification-email": "Email the customer a new verification link (nothing if verified)",
}


def _action_operation(action: str) -> None:
    def operation(user_id: int) -> dict[str, Any]:
        changed = ACTIONS[action](staff_caller(), user_id)
        overview = order_queries.customer_overview(user_id)
        return {
            "changed": bool(changed),
            "customer": {**_account(overview.user), "order_count": overview.order_count},
        }

    operation.__name__ = f"customer_{action.replace('-', '_')}"
    operation.__doc__ = f"""{_SUMMARIES[action]}

    The same action as the customer page's button, through the same accounts service; it is
    recorded in the audit log. `changed` is false when there was nothing to do. Needs
    `customers.manage`.
    """
    bp.route(f"/customers/{USER_ID}/{action}", methods=["POST"])(
        bp.response(200, CustomerActionSchema)(
            errors(bp, 404, 409)(staff_permission(bp, Permission.CUSTOMERS_MANAGE)(operation))
        )
    )


for _action in ACTIONS:
    _action_operation(_action)


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role.value,
        "is_email_verified": user.is_email_verified,
        "created_at": user.created_at,
        "last_sign_in_at": user.last_sign_in_at,
    }

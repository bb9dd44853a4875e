"""Staff customer look-ups (permission ``customers.view``): accounts by email and role, and
one account with its order count. Password hashes are never part of an answer."""

from __future__ import annotations

from typing import Any

from flask import current_app

from funnel.accounts import queries
from funnel.accounts.models import Role, User
from funnel.accounts.permissions import Permission
from funnel.core.api import errors
from funnel.core.api.paging import PagePosition
from funnel.orders import queries as order_queries
from funnel.staff.api import USER_ID, bp
from funnel.staff.api.access import staff_permission
from funnel.staff.api.schemas.customers import (
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


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role.value,
        "is_email_verified": user.is_email_verified,
        "created_at": user.created_at,
        "last_sign_in_at": user.last_sign_in_at,
    }

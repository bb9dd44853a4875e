"""Staff permissions: what each role may do in the staff dashboard and the staff API.

A permission is held through the account's role (one role per account, US-12):

- customer: none;
- staff: everything except ``orders.refund``;
- admin: everything.

Refunds move money out of the shop, so by default only admins may give them; this includes
cancelling an order that is already paid, because that refunds it in full. The map is the one
place that says who holds what: the staff API's ``staff_permission`` decorator and the orders
services both ask ``has_permission``, so a page, an API call and a direct service call agree.
"""

from __future__ import annotations

import enum

from funnel.accounts.models import Role, User
from funnel.core.errors import PermissionDenied


class Permission(enum.StrEnum):
    CATALOG_MANAGE = "catalog.manage"
    INVENTORY_ADJUST = "inventory.adjust"
    ORDERS_VIEW = "orders.view"
    ORDERS_FULFIL = "orders.fulfil"
    ORDERS_REFUND = "orders.refund"
    CUSTOMERS_VIEW = "customers.view"
    CUSTOMERS_MANAGE = "customers.manage"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CUSTOMER: frozenset(),
    Role.STAFF: frozenset(Permission) - {Permission.ORDERS_REFUND},
    Role.ADMIN: frozenset(Permission),
}


def permissions_of(user: User | None) -> frozenset[Permission]:
    """The permissions an account holds (none for no account)."""
    if user is None or user.role is None:
        return frozenset()
    return ROLE_PERMISSIONS.get(Role(user.role), frozenset())


def has_permission(user: User | None, permission: Permission) -> bool:
    return permission in permissions_of(user)


def require_permission(user: User | None, permission: Permission) -> None:
    """Raises PermissionDenied (403, ``permission_denied``) unless ``user`` holds it."""
    if not has_permission(user, permission):
        raise PermissionDenied(f"This needs the {permission.value} permission.")

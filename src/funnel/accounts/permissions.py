"""Staff permissions: what each account may do in the staff dashboard and the staff API.

- customer: none;
- staff: the permission groups chosen when they were invited (or changed since, on the team
  page); a staff account with no groups recorded (made before groups existed, or on the
  command line) holds the staff role's default: everything except refunds, managing staff,
  the shop's settings, the audit log and the reports;
- admin: everything.

Refunds move money out of the shop, so by default only admins may give them; this includes
cancelling an order that is already paid, because that refunds it in full. This module is the
one place that says who holds what: the staff pages' and the staff API's checks and the
services all ask ``has_permission``, so a page, an API call and a direct service call agree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from funnel.accounts.models import Role, User
from funnel.core.errors import PermissionDenied
from funnel.settings.services import MANAGE_PERMISSION as MANAGE_SETTINGS
from funnel.settings.services import Editor


class Permission(enum.StrEnum):
    CATALOG_MANAGE = "catalog.manage"
    INVENTORY_ADJUST = "inventory.adjust"
    ORDERS_VIEW = "orders.view"
    ORDERS_FULFIL = "orders.fulfil"
    ORDERS_REFUND = "orders.refund"
    CUSTOMERS_VIEW = "customers.view"
    CUSTOMERS_MANAGE = "customers.manage"
    STAFF_MANAGE = "staff.manage"
    # The shop's settings (shipping, tax, bank details, name and address): admins only, in no
    # group, as they change what every customer pays.
    SETTINGS_MANAGE = MANAGE_SETTINGS
    # Reading the audit log (who changed what): admins, and staff given the Audit group.
    AUDIT_VIEW = "audit.view"
    # Reading the shop's reports (the sales funnel): admins, and staff given the Reports group.
    REPORTS_VIEW = "reports.view"


@dataclass(frozen=True)
class PermissionGroup:
    """A group staff are given as a whole: what it is called, and what it allows."""

    label: str
    description: str
    permissions: frozenset[Permission]


# The groups offered when inviting staff, in the order the form shows them.
PERMISSION_GROUPS: dict[str, PermissionGroup] = {
    "catalogue": PermissionGroup(
        "Catalogue",
        "Categories, products, variants, prices and images.",
        frozenset({Permission.CATALOG_MANAGE}),
    ),
    "stock": PermissionGroup(
        "Stock",
        "Stock levels, adjustments and thresholds.",
        frozenset({Permission.INVENTORY_ADJUST}),
    ),
    "orders": PermissionGroup(
        "Orders",
        "See orders; record bank transfers; ship, deliver, cancel unpaid orders.",
        frozenset({Permission.ORDERS_VIEW, Permission.ORDERS_FULFIL}),
    ),
    "refunds": PermissionGroup(
        "Refunds",
        "Refund orders and cancel paid ones (money leaves the shop).",
        frozenset({Permission.ORDERS_VIEW, Permission.ORDERS_REFUND}),
    ),
    "customers": PermissionGroup(
        "Customers",
        "See accounts; send reset and verification links; disable accounts.",
        frozenset({Permission.CUSTOMERS_VIEW, Permission.CUSTOMERS_MANAGE}),
    ),
    "settings": PermissionGroup(
        "Settings",
        "Shipping, tax rates, bank details, the shop's name and contact.",
        frozenset({Permission.SETTINGS_MANAGE}),
    ),
    "staff": PermissionGroup(
        "Staff", "Invite staff and change their groups.", frozenset({Permission.STAFF_MANAGE})
    ),
    "audit": PermissionGroup(
        "Audit log",
        "Read who on the staff changed what, and when.",
        frozenset({Permission.AUDIT_VIEW}),
    ),
    "reports": PermissionGroup(
        "Reports",
        "The sales funnel and sales figures.",
        frozenset({Permission.REPORTS_VIEW}),
    ),
}


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CUSTOMER: frozenset(),
    Role.STAFF: frozenset(Permission)
    - {
        Permission.ORDERS_REFUND,
        Permission.STAFF_MANAGE,
        Permission.SETTINGS_MANAGE,
        Permission.AUDIT_VIEW,
        Permission.REPORTS_VIEW,
    },
    Role.ADMIN: frozenset(Permission),
}


def permissions_of(user: User | None) -> frozenset[Permission]:
    """The permissions an account holds (none for no account)."""
    if user is None or user.role is None:
        return frozenset()
    role = Role(user.role)
    if role == Role.STAFF and user.permission_groups is not None:
        return permissions_of_groups(user.permission_groups.split(","))
    return ROLE_PERMISSIONS.get(role, frozenset())


def permissions_of_groups(groups: list[str]) -> frozenset[Permission]:
    """What the named groups allow together (unknown names allow nothing)."""
    held: set[Permission] = set()
    for name in groups:
        group = PERMISSION_GROUPS.get(name)
        if group is not None:
            held |= group.permissions
    return frozenset(held)


def groups_of(user: User) -> list[str]:
    """The permission groups a staff account holds, by name (the role's default for staff
    without recorded groups: each group whose permissions the default includes)."""
    held = permissions_of(user)
    return [name for name, group in PERMISSION_GROUPS.items() if group.permissions <= held]


def has_permission(user: User | None, permission: Permission) -> bool:
    return permission in permissions_of(user)


def settings_editor(user: User) -> Editor:
    """``user`` as the settings services know an editor (they sit below accounts): their id,
    email and the permissions this module says they hold."""
    return Editor(
        user.id, user.email, frozenset(permission.value for permission in permissions_of(user))
    )


def require_permission(user: User | None, permission: Permission) -> None:
    """Raises PermissionDenied (403, ``permission_denied``) unless ``user`` holds it."""
    if not has_permission(user, permission):
        raise PermissionDenied(f"This needs the {permission.value} permission.")

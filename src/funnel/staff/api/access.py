"""The staff API's permission check: a bearer token of an account holding the permission.

``@staff_permission(bp, Permission.ORDERS_VIEW)`` on an operation answers 401 (with a
``WWW-Authenticate: Bearer`` challenge) without a live token and 403 ``permission_denied`` for
a customer or a staff member without the permission, before the operation parses anything;
it documents the bearer security, both errors and the permission needed. When the shop
requires two-factor sign-in of staff, a staff account without it gets 403
``two_factor_enrolment_required``. The caller is then
``api_user()``. The services check the same permissions again (for refunds and order steps).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g
from flask_smorest import Blueprint

from funnel.accounts.access import authenticate, refuse_staff_without_two_factor
from funnel.accounts.models import User
from funnel.accounts.permissions import Permission, require_permission
from funnel.core.api import BEARER_SECURITY, errors

_CALLER = "funnel_staff_caller"


def staff_permission(blueprint: Blueprint, permission: Permission) -> Callable[[Any], Any]:
    def decorate(function: Any) -> Any:
        @wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = authenticate()
            require_permission(user, permission)
            refuse_staff_without_two_factor(user)
            setattr(g, _CALLER, user)
            return function(*args, **kwargs)

        wrapper._staff_permission = permission  # type: ignore[attr-defined]
        documented = blueprint.doc(
            security=BEARER_SECURITY,
            **{"x-permission": permission.value},
        )(wrapper)
        return errors(blueprint, 401, 403)(documented)

    return decorate


def staff_caller() -> User:
    """The caller of a ``@staff_permission`` operation."""
    user = g.get(_CALLER)
    if user is None:
        raise RuntimeError("staff_caller() outside a @staff_permission operation")
    return user

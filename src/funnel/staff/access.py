"""What a signed-in staff member may reach on the staff pages, permission by permission.

The blueprint's ``require_staff`` lets staff and admins in; ``@page_permission(...)`` on a page
then asks for the permission its work needs, before the page reads its input: a staff member
without it gets the 403 page and nothing changes. The services ask again (``actor_user_id``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, g, request
from flask_login import current_user

from funnel.accounts.permissions import Permission, has_permission
from funnel.audit import services as audit
from funnel.core.errors import PermissionDenied

_BOUND_ADDRESS = "funnel_audit_address"


def page_permission(permission: Permission) -> Callable[[Any], Any]:
    def decorate(view: Any) -> Any:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user if current_user.is_authenticated else None
            if not has_permission(user, permission):
                raise PermissionDenied(f"This page needs the {permission.value} permission.")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def record_client_address(blueprint: Blueprint) -> None:
    """Have the audit entries of ``blueprint``'s requests say where the change came from.

    The address is the request's remote address, which the app's proxy handling
    (``FUNNEL_TRUSTED_PROXIES``) has already set to the client's; the services never read the
    request, so it is bound for the request's duration and released at its teardown.
    """

    @blueprint.before_request
    def _bind_client_address() -> None:
        setattr(g, _BOUND_ADDRESS, audit.bind_client_address(request.remote_addr))

    @blueprint.teardown_request
    def _release_client_address(_error: BaseException | None) -> None:
        token = g.pop(_BOUND_ADDRESS, None)
        if token is not None:
            audit.release_client_address(token)

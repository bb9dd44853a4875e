"""What a signed-in staff member may reach on the staff pages, permission by permission.

The blueprint's ``require_staff`` lets staff and admins in; ``@page_permission(...)`` on a page
then asks for the permission its work needs, before the page reads its input: a staff member
without it gets the 403 page and nothing changes. The services ask again (``actor_user_id``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user

from funnel.accounts.permissions import Permission, has_permission
from funnel.core.errors import PermissionDenied


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

"""An account's standing, as staff change it: disabled or enabled, and the emails staff send
on a customer's behalf (a password reset link, a new verification link).

Each use case takes the staff member acting and checks their permission itself, so the staff
pages, the staff API and a direct call agree. Staff may act on customers; only admins on
staff and admin accounts; nobody disables their own account (the shop must keep an admin).
"""

from __future__ import annotations

from typing import Any

from funnel.accounts import queries
from funnel.accounts.errors import OwnAccountProtected, UserNotFound
from funnel.accounts.models import Role, User
from funnel.accounts.permissions import Permission, require_permission
from funnel.accounts.services.api_tokens import revoke_all_api_tokens
from funnel.accounts.services.credentials import request_password_reset
from funnel.accounts.services.sessions import end_all_sessions
from funnel.accounts.services.users import resend_verification_email
from funnel.audit import services as audit
from funnel.core import clock
from funnel.core.database import transaction
from funnel.core.errors import PermissionDenied
from funnel.extensions import db


def _target(actor: User | None, user_id: int) -> User:
    """The account ``actor`` may act on. Raises PermissionDenied, UserNotFound."""
    require_permission(actor, Permission.CUSTOMERS_MANAGE)
    assert actor is not None
    user = queries.get_user(user_id)
    if user is None:
        raise UserNotFound()
    if user.role != Role.CUSTOMER and actor.role != Role.ADMIN:
        raise PermissionDenied("Only an admin can change a staff or admin account.")
    return user


def _record(
    action: str, actor: User, user: User, before: dict[str, Any], after: dict[str, Any] | None
) -> None:
    audit.record(
        f"customer.{action}",
        actor_user_id=actor.id,
        object_type="customer",
        object_id=user.id,
        object_label=user.email,
        before=before,
        after=after,
    )


def disable_account(actor: User | None, user_id: int) -> bool:
    """Disable the account: it can no longer sign in, and every session and API token it has
    ends now. Returns False when it was disabled already (nothing changes).

    Raises PermissionDenied (``customers.manage``; admins only for staff accounts),
    UserNotFound, OwnAccountProtected.
    """
    user = _target(actor, user_id)
    assert actor is not None
    if user.id == actor.id:
        raise OwnAccountProtected()
    with transaction():
        locked = db.session.get(User, user.id, with_for_update=True, populate_existing=True)
        if locked is None:
            raise UserNotFound()
        if locked.disabled_at is not None:
            return False
        locked.disabled_at = clock.utcnow()
        end_all_sessions(locked.id)
        revoke_all_api_tokens(locked.id)
        _record("disabled", actor, locked, {"is_disabled": False}, {"is_disabled": True})
    return True


def enable_account(actor: User | None, user_id: int) -> bool:
    """Let a disabled account sign in again (its old sessions and tokens stay ended).
    Returns False when it was enabled already. Raises PermissionDenied, UserNotFound."""
    user = _target(actor, user_id)
    with transaction():
        locked = db.session.get(User, user.id, with_for_update=True, populate_existing=True)
        if locked is None:
            raise UserNotFound()
        if locked.disabled_at is None:
            return False
        locked.disabled_at = None
        assert actor is not None
        _record("enabled", actor, locked, {"is_disabled": True}, {"is_disabled": False})
    return True


def send_password_reset(actor: User | None, user_id: int) -> None:
    """Email the account a password reset link, as if its owner had asked for one.
    Raises PermissionDenied, UserNotFound."""
    user = _target(actor, user_id)
    assert actor is not None
    with transaction():
        request_password_reset(user.email)
        _record("password_reset_sent", actor, user, {}, None)


def send_verification_email(actor: User | None, user_id: int) -> bool:
    """Email a fresh verification link; False when the address is verified already.
    Raises PermissionDenied, UserNotFound."""
    user = _target(actor, user_id)
    assert actor is not None
    with transaction():
        sent = resend_verification_email(user.id)
        if sent:
            _record("verification_sent", actor, user, {}, None)
    return sent

"""The shop's staff team: invitations to join, permission groups, leaving the staff.

An invitation is a single-use link emailed to the invitee (only its SHA-256 is stored); opening
it, they choose a password and become staff with the groups chosen, in one transaction that uses
the link up, so two submissions of one link make one account. Every use case but accepting
takes the staff member acting and needs ``staff.manage``; nobody changes their own groups or
removes themselves, and admins (who hold every permission) are not changed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from funnel.accounts import emails, passwords, queries
from funnel.accounts.errors import (
    InvalidEmail,
    InvitationInvalid,
    OwnAccountProtected,
    TeamChangeRefused,
    TokenInvalid,
    UserNotFound,
)
from funnel.accounts.models import Role, StaffInvitation, User, normalise_email
from funnel.accounts.permissions import (
    PERMISSION_GROUPS,
    Permission,
    groups_of,
    require_permission,
)
from funnel.accounts.services.api_tokens import revoke_all_api_tokens
from funnel.accounts.services.sessions import end_all_sessions
from funnel.accounts.tokens import MAX_TOKEN_LENGTH, hash_token, new_token
from funnel.audit import services as audit
from funnel.core import clock
from funnel.core.database import on_commit, transaction
from funnel.extensions import db

INVITATION_DAYS = 7


def checked_groups(groups: Iterable[str]) -> list[str]:
    """The groups named, in the order the shop lists them. Raises InvitationInvalid for an
    unknown group or none at all."""
    chosen = {name.strip() for name in groups if name.strip()}
    unknown = sorted(chosen - set(PERMISSION_GROUPS))
    if unknown:
        raise InvitationInvalid(fields={"groups": [f"Unknown group: {', '.join(unknown)}."]})
    if not chosen:
        raise InvitationInvalid(fields={"groups": ["Choose at least one group."]})
    return [name for name in PERMISSION_GROUPS if name in chosen]


def invite_staff(actor: User | None, email: str, groups: Iterable[str]) -> StaffInvitation:
    """Invite ``email`` to join the staff with ``groups``; emails the link after commit.
    An earlier pending invitation of the same address is revoked (the newest link counts).

    Raises PermissionDenied (``staff.manage``), InvitationInvalid (email, groups),
    TeamChangeRefused (the address is staff or admin already).
    """
    require_permission(actor, Permission.STAFF_MANAGE)
    assert actor is not None
    try:
        address = normalise_email(email)
    except InvalidEmail as error:
        raise InvitationInvalid(fields={"email": [error.detail]}) from None
    names = checked_groups(groups)
    existing = queries.find_user_by_email(address)
    if existing is not None and existing.role != Role.CUSTOMER:
        raise TeamChangeRefused(f"{address} is on the staff already.")
    token, token_hash = new_token()
    inviter = actor.email
    labels = ", ".join(PERMISSION_GROUPS[name].label for name in names)
    with transaction():
        now = clock.utcnow()
        _revoke_pending(address, now)
        invitation = StaffInvitation(
            email=address,
            token_hash=token_hash,
            permission_groups=",".join(names),
            invited_by_id=actor.id,
            created_at=now,
            expires_at=now + timedelta(days=INVITATION_DAYS),
        )
        db.session.add(invitation)
        db.session.flush()
        _record(
            "staff.invited",
            actor,
            "staff_invitation",
            invitation.id,
            address,
            None,
            {"email": address, "permission_groups": names},
        )
        on_commit(
            lambda: emails.send_staff_invitation_email(
                address, token, inviter, labels, INVITATION_DAYS
            )
        )
    return invitation


def revoke_invitation(actor: User | None, invitation_id: int) -> bool:
    """Make a pending invitation's link stop working. False when it was no longer pending.
    Raises PermissionDenied, UserNotFound (no such invitation)."""
    require_permission(actor, Permission.STAFF_MANAGE)
    with transaction():
        invitation = db.session.get(StaffInvitation, invitation_id)
        if invitation is None:
            raise UserNotFound("No such invitation.")
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            return False
        invitation.revoked_at = clock.utcnow()
        assert actor is not None
        _record(
            "staff.invitation_revoked",
            actor,
            "staff_invitation",
            invitation.id,
            invitation.email,
            {"is_revoked": False},
            {"is_revoked": True},
        )
    return True


def check_invitation(token: str) -> StaffInvitation:
    """The pending invitation a link is for. Reads only. Raises TokenInvalid."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenInvalid()
    invitation = queries.find_invitation(hash_token(token))
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or clock.utcnow() >= invitation.expires_at
    ):
        raise TokenInvalid()
    return invitation


def accept_invitation(token: str, password: str) -> User:
    """Join the staff: the invitee's account (made now, or their customer account) becomes
    staff with the invitation's groups and this password, its email verified (the link proved
    it), and the link is used up.

    Raises TokenInvalid (unknown, used, revoked or expired link), PasswordRejected. Side
    effects: a customer account that joins ends its sessions and API tokens (new password).
    """
    invitation = check_invitation(token)
    passwords.check_password_policy(password)
    password_hash = passwords.hash_password(password)  # slow: outside the transaction
    with transaction() as session:
        now = clock.utcnow()
        claimed = session.execute(
            sa.update(StaffInvitation)
            .where(
                StaffInvitation.id == invitation.id,
                StaffInvitation.accepted_at.is_(None),
                StaffInvitation.revoked_at.is_(None),
            )
            .values(accepted_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            raise TokenInvalid()
        user = queries.find_user_by_email(invitation.email)
        if user is not None and user.role != Role.CUSTOMER:
            raise TokenInvalid()  # made staff some other way meanwhile: rolls the claim back
        if user is None:
            user = User(email=invitation.email, password_hash=password_hash, role=Role.STAFF)
            db.session.add(user)
        else:
            user.password_hash = password_hash
            user.role = Role.STAFF
            end_all_sessions(user.id)
            revoke_all_api_tokens(user.id)
        user.permission_groups = invitation.permission_groups
        if not user.is_email_verified:
            user.is_email_verified = True
            user.email_verified_at = now
        db.session.flush()
    return user


def set_staff_groups(actor: User | None, user_id: int, groups: Iterable[str]) -> User:
    """Give a staff member exactly these groups (effective on their next request).
    Raises PermissionDenied, UserNotFound, InvitationInvalid (groups), OwnAccountProtected,
    TeamChangeRefused (not a staff member: an admin holds every permission)."""
    names = checked_groups(groups)
    with transaction():
        user = _staff_member(actor, user_id)
        before = groups_of(user)
        user.permission_groups = ",".join(names)
        if before != names:
            assert actor is not None
            _record(
                "staff.groups_changed",
                actor,
                "staff_member",
                user.id,
                user.email,
                {"permission_groups": before},
                {"permission_groups": names},
            )
    return user


def remove_from_staff(actor: User | None, user_id: int) -> User:
    """The staff member becomes a customer again (their orders and addresses are kept).
    Raises PermissionDenied, UserNotFound, OwnAccountProtected, TeamChangeRefused."""
    with transaction():
        user = _staff_member(actor, user_id)
        before = {"role": user.role.value, "permission_groups": groups_of(user)}
        user.role = Role.CUSTOMER
        user.permission_groups = None
        assert actor is not None
        _record(
            "staff.removed",
            actor,
            "staff_member",
            user.id,
            user.email,
            before,
            {"role": Role.CUSTOMER.value, "permission_groups": []},
        )
    return user


def _staff_member(actor: User | None, user_id: int) -> User:
    require_permission(actor, Permission.STAFF_MANAGE)
    assert actor is not None
    user = db.session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None:
        raise UserNotFound()
    if user.id == actor.id:
        raise OwnAccountProtected("You cannot change your own staff access.")
    if user.role != Role.STAFF:
        raise TeamChangeRefused(
            "Only staff members are changed here: an admin holds every permission."
        )
    return user


def _revoke_pending(address: str, now: datetime) -> None:
    db.session.execute(
        sa.update(StaffInvitation)
        .where(
            StaffInvitation.email == address,
            StaffInvitation.accepted_at.is_(None),
            StaffInvitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def _record(
    action: str,
    actor: User,
    object_type: str,
    object_id: int,
    label: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        action,
        actor_user_id=actor.id,
        object_type=object_type,
        object_id=object_id,
        object_label=label,
        before=before,
        after=after,
    )

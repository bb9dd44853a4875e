"""Read queries of the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload

from funnel.accounts.errors import InvalidEmail
from funnel.accounts.models import (
    Address,
    ApiToken,
    PasswordResetToken,
    RecoveryCode,
    Role,
    StaffInvitation,
    TwoFactorCredential,
    User,
    UserSession,
    normalise_email,
)
from funnel.accounts.permissions import Permission, permissions_of
from funnel.core import clock
from funnel.extensions import db
from funnel.settings.queries import current_settings


def find_user_by_email(email: str) -> User | None:
    """The account for ``email`` in any letter case, or None (also for a malformed address)."""
    try:
        normalised = normalise_email(email)
    except InvalidEmail:
        return None
    return db.session.scalar(sa.select(User).where(User.email == normalised))


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def find_api_token(token_hash: str) -> ApiToken | None:
    """The API token row for a secret's hash, with its user, in one statement."""
    return db.session.scalar(
        sa.select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == token_hash)
    )


def list_api_tokens(user_id: int) -> list[ApiToken]:
    """The user's tokens that are not revoked, newest first (expired ones included)."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def get_api_token(user_id: int, token_id: int) -> ApiToken | None:
    """The token if it exists *and* belongs to ``user_id``; None otherwise."""
    return db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )


# Built once, as every signed-in request runs them: a statement object reused keeps its SQL
# cache key, which SQLAlchemy otherwise computes again for each new one.
_SESSION_OF_TOKEN_HASH = (
    sa.select(UserSession)
    .options(joinedload(UserSession.user))
    .where(UserSession.token_hash == sa.bindparam("token_hash"))
)
_DEFAULT_SHIPPING_COUNTRY = (
    sa.select(Address.country_code)
    .where(Address.user_id == sa.bindparam("user_id"), Address.is_default_shipping.is_(True))
    .order_by(Address.id)
    .limit(1)
)


def find_session(token_hash: str) -> UserSession | None:
    """The session row for a token hash, with its user, in one statement."""
    return db.session.scalar(_SESSION_OF_TOKEN_HASH, {"token_hash": token_hash})


def count_open_sessions(user_id: int) -> int:
    """Sessions not ended (a sign-in still awaiting its code is no session yet)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
            UserSession.second_step_expires_at.is_(None),
        )
    )


def find_reset_token(token_hash: str) -> PasswordResetToken | None:
    return db.session.scalar(
        sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash)
    )


def list_addresses(user_id: int) -> list[Address]:
    """The user's addresses: the default shipping address first, then newest first."""
    return list(
        db.session.scalars(
            sa.select(Address)
            .where(Address.user_id == user_id)
            .order_by(
                Address.is_default_shipping.desc(), Address.created_at.desc(), Address.id.desc()
            )
        )
    )


def default_shipping_country(user_id: int) -> str | None:
    """The country code of the user's default shipping address (None without one)."""
    return db.session.scalar(_DEFAULT_SHIPPING_COUNTRY, {"user_id": user_id})


def find_address(user_id: int, address_id: int) -> Address | None:
    """The address if it exists *and* belongs to ``user_id``; None otherwise."""
    return db.session.scalar(
        sa.select(Address).where(Address.id == address_id, Address.user_id == user_id)
    )


def search_users(search: str, page: int, per_page: int, *, role: Role | None = None) -> Pagination:
    """Accounts whose email, or a name in whose address book, contains the text (any case),
    of ``role`` if given, newest first, one page."""
    statement = sa.select(User).order_by(User.created_at.desc(), User.id.desc())
    if role is not None:
        statement = statement.where(User.role == role)
    # Control characters cannot be in an address; NUL would even break the query on PostgreSQL.
    term = "".join(char for char in search if char.isprintable()).strip().lower()
    if term:
        named = (
            sa.select(Address.id)
            .where(
                Address.user_id == User.id,
                sa.func.lower(Address.full_name).contains(term, autoescape=True),
            )
            .exists()
        )
        statement = statement.where(sa.or_(User.email.contains(term, autoescape=True), named))
    return db.paginate(statement, page=page, per_page=per_page, error_out=False, max_per_page=100)


def count_users_by_role() -> dict[Role, int]:
    rows = db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role))
    counts = dict.fromkeys(Role, 0)
    for role, number in rows.tuples():
        counts[role] = number
    return counts


def count_unverified_customers() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .where(User.role == Role.CUSTOMER, User.is_email_verified.is_(False))
    )


def find_invitation(token_hash: str) -> StaffInvitation | None:
    return db.session.scalar(
        sa.select(StaffInvitation).where(StaffInvitation.token_hash == token_hash)
    )


def staff_members() -> list[User]:
    """Staff and admins, admins first, then by email."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role.in_((Role.ADMIN, Role.STAFF)))
            .order_by(User.role, User.email)
        )
    )


def pending_invitations() -> list[StaffInvitation]:
    """Invitations whose link still works, newest first."""
    return list(
        db.session.scalars(
            sa.select(StaffInvitation)
            .where(
                StaffInvitation.accepted_at.is_(None),
                StaffInvitation.revoked_at.is_(None),
                StaffInvitation.expires_at > clock.utcnow(),
            )
            .order_by(StaffInvitation.created_at.desc(), StaffInvitation.id.desc())
        )
    )


def find_two_factor(user_id: int) -> TwoFactorCredential | None:
    """The account's authenticator, confirmed or still being set up; None without one."""
    return db.session.scalar(
        sa.select(TwoFactorCredential).where(TwoFactorCredential.user_id == user_id)
    )


def has_two_factor(user_id: int) -> bool:
    """Whether sign-in asks this account for a code (its authenticator is confirmed)."""
    return (
        db.session.scalar(
            sa.select(TwoFactorCredential.id).where(
                TwoFactorCredential.user_id == user_id,
                TwoFactorCredential.confirmed_at.is_not(None),
            )
        )
        is not None
    )


def count_unused_recovery_codes(user_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def is_two_factor_enrolment_due(user: User) -> bool:
    """Whether the shop requires two-factor sign-in of staff and this staff account has none
    yet: it may reach its own account pages, and no staff page or staff API operation."""
    return (
        user.is_staff
        and current_settings().staff_two_factor_required
        and not has_two_factor(user.id)
    )


def emails_by_id(user_ids: Iterable[int]) -> dict[int, str]:
    """The email of each account named (accounts that no longer exist are left out)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    return dict(
        db.session.execute(sa.select(User.id, User.email).where(User.id.in_(ids))).tuples().all()
    )


def staff_emails_with(permission: Permission) -> list[str]:
    """The addresses of the staff and admins holding ``permission`` whose accounts are not
    disabled, sorted: whom the shop tells of what needs that permission (a disputed charge)."""
    staff = db.session.scalars(
        sa.select(User)
        .where(User.role.in_((Role.STAFF, Role.ADMIN)), User.disabled_at.is_(None))
        .order_by(User.email)
    )
    return [user.email for user in staff if permission in permissions_of(user)]

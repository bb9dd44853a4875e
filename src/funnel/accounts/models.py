"""Account tables: users, their server-side sessions, password reset tokens, addresses, and
the second factor of staff sign-in (an authenticator's secret and recovery codes)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from funnel.accounts.countries import is_country_code
from funnel.accounts.errors import InvalidEmail
from funnel.core.models import now
from funnel.extensions import db

EMAIL_MAX_LENGTH = 254


class Role(enum.StrEnum):
    """Every account has exactly one role; registration always makes a customer."""

    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


def normalise_email(raw: str) -> str:
    """The form of an address that is stored and compared: stripped, validated, lower-cased.

    The whole address is lower-cased (not only the domain) so that uniqueness is
    case-insensitive on every database. Raises InvalidEmail.
    """
    candidate = (raw or "").strip()
    if not candidate:
        raise InvalidEmail("Enter your email address.")
    if len(candidate) > EMAIL_MAX_LENGTH:
        raise InvalidEmail(f"An email address has at most {EMAIL_MAX_LENGTH} characters.")
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidEmail(f"This email address is not valid: {error}") from error
    normalised = result.normalized.lower()
    if len(normalised) > EMAIL_MAX_LENGTH:
        raise InvalidEmail(f"An email address has at most {EMAIL_MAX_LENGTH} characters.")
    return normalised


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(
        sa.Enum(
            Role,
            native_enum=False,
            length=16,
            values_callable=lambda roles: [role.value for role in roles],
            validate_strings=True,
            create_constraint=True,
            name="role",
        ),
        default=Role.CUSTOMER,
    )
    is_email_verified: Mapped[bool] = mapped_column(default=False)
    email_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_sign_in_at: Mapped[datetime | None]
    # Set by staff: the account cannot sign in and its sessions and API tokens are refused.
    disabled_at: Mapped[datetime | None]
    # A staff member's permission groups, comma-separated (``permissions.PERMISSION_GROUPS``);
    # NULL: the staff role's default permissions.
    permission_groups: Mapped[str | None] = mapped_column(sa.String(200))

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        return normalise_email(value)

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def is_staff(self) -> bool:
        """Staff and admins may open the staff dashboard."""
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value if self.role else None}>"


class UserSession(db.Model):
    """A signed-in browser. The cookie holds a random token; this row holds its SHA-256.

    A session is valid while ``ended_at`` is empty, it was seen within the idle timeout and it
    began within the absolute timeout.

    A row with ``second_step_expires_at`` is not a session yet: the password was right, and
    the account still owes its second factor (a code) before that time. It opens only the
    second step of sign-in, which ends it and starts a full session (a new token); NULL: a
    full session. ``failed_codes`` counts the wrong codes sent to that step.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_seen_at: Mapped[datetime] = mapped_column(default=now)
    ended_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    second_step_expires_at: Mapped[datetime | None]
    failed_codes: Mapped[int | None]

    user: Mapped[User] = relationship(lazy="raise")

    @property
    def awaits_second_factor(self) -> bool:
        return self.second_step_expires_at is not None


class StaffInvitation(db.Model):
    """An invitation to join the shop's staff: a single-use link (only its SHA-256 is stored)
    that lets the invitee set a password and become staff with the groups chosen."""

    __tablename__ = "staff_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX_LENGTH), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    permission_groups: Mapped[str] = mapped_column(sa.String(200))
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def groups(self) -> list[str]:
        return [name for name in self.permission_groups.split(",") if name]


class PasswordResetToken(db.Model):
    """A single-use reset link; only the SHA-256 of the token in the link is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="raise")


class Address(db.Model):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    company: Mapped[str | None] = mapped_column(sa.String(200))
    line1: Mapped[str] = mapped_column(sa.String(200))
    line2: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str] = mapped_column(sa.String(100))
    region: Mapped[str | None] = mapped_column(sa.String(100))
    postal_code: Mapped[str] = mapped_column(sa.String(20))
    country_code: Mapped[str] = mapped_column(sa.String(2))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    is_default_shipping: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=now)

    @validates("country_code")
    def _check_country_code(self, _key: str, value: str) -> str:
        if not is_country_code(value):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value


# The longest name an API token may have (its column; the API schema and the service check it).
API_TOKEN_NAME_LENGTH = 100


class ApiToken(db.Model):
    """A bearer token for API clients. Only the SHA-256 of the secret is stored (the secret is
    shown once, at creation); ``prefix`` is its first characters, to tell tokens apart.

    A token works while it is not revoked and not expired.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(API_TOKEN_NAME_LENGTH))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="raise")


class TwoFactorCredential(db.Model):
    """An account's authenticator (TOTP, RFC 6238): its shared secret, base32 as apps take it.

    Enrolment writes the row with ``confirmed_at`` NULL; a right code from the app confirms it,
    and only then does sign-in ask for codes. ``last_used_step`` is the time step of the last
    code accepted: a code of that step or an earlier one is refused, so a code seen over a
    shoulder cannot be used again.
    """

    __tablename__ = "two_factor_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    confirmed_at: Mapped[datetime | None]
    last_used_step: Mapped[int | None]

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(db.Model):
    """A single-use recovery code, in place of an authenticator's code; only its SHA-256 (with
    the account's id) is stored. Ten are made at enrolment; making new ones deletes the old."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    used_at: Mapped[datetime | None]

"""Creating accounts, verifying their email address, and roles."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from funnel.accounts import emails, passwords, queries
from funnel.accounts.errors import EmailTaken, TokenInvalid, UserNotFound
from funnel.accounts.models import Role, User, normalise_email
from funnel.accounts.services.sessions import SignedIn, start_session
from funnel.accounts.tokens import make_verification_token, read_verification_token
from funnel.core import clock
from funnel.core.database import on_commit, transaction
from funnel.extensions import db


def create_user(
    email: str,
    password: str,
    *,
    role: Role = Role.CUSTOMER,
    is_email_verified: bool = False,
) -> User:
    """Create an account with a normalised email and an Argon2id hash of the password.

    Raises InvalidEmail, PasswordRejected (length or common-password list) and EmailTaken
    (uniqueness is case-insensitive). Side effects: inserts a ``users`` row; sends nothing.
    """
    normalised, password_hash = _checked_credentials(email, password)
    with transaction():
        return _insert_user(normalised, password_hash, role, is_email_verified)


def register(
    email: str, password: str, *, user_agent: str | None = None, ip: str | None = None
) -> SignedIn:
    """Register a customer and sign them in.

    Raises InvalidEmail, PasswordRejected, EmailTaken. Side effects: creates the account (role
    customer, unverified) and a session, and emails a verification link after commit.
    """
    normalised, password_hash = _checked_credentials(email, password)
    with transaction():
        user = _insert_user(normalised, password_hash, Role.CUSTOMER, is_email_verified=False)
        _schedule_verification_email(user)
        token = start_session(user.id, user_agent=user_agent, ip=ip)
    return SignedIn(user=user, token=token)


def register_customer(email: str, password: str) -> User:
    """Register a customer without starting a browser session (API clients then create a
    token). The same rules as ``register``.

    Raises InvalidEmail, PasswordRejected, EmailTaken. Side effects: creates the account (role
    customer, unverified) and emails a verification link after commit.
    """
    normalised, password_hash = _checked_credentials(email, password)
    with transaction():
        user = _insert_user(normalised, password_hash, Role.CUSTOMER, is_email_verified=False)
        _schedule_verification_email(user)
    return user


def resend_verification_email(user_id: int) -> bool:
    """Email a fresh verification link, unless the address is verified already.

    Returns whether an email was scheduled. Raises UserNotFound.
    """
    with transaction():
        user = queries.get_user(user_id)
        if user is None:
            raise UserNotFound()
        if user.is_email_verified:
            return False
        _schedule_verification_email(user)
    return True


def check_verification_token(token: str) -> User:
    """The account a verification link is for; raises TokenInvalid. Reads only."""
    user_id, email = read_verification_token(token)
    user = queries.get_user(user_id)
    if user is None or user.email != email:
        raise TokenInvalid()
    return user


def verify_email(token: str) -> User:
    """Mark the account a verification link was sent for as verified (idempotent).

    Raises TokenInvalid when the link is tampered with, expired, or was sent to an address the
    account no longer has. Side effect: sets ``is_email_verified`` and ``email_verified_at``.
    """
    user_id, email = read_verification_token(token)
    with transaction():
        user = queries.get_user(user_id)
        if user is None or user.email != email:
            raise TokenInvalid()
        if not user.is_email_verified:
            user.is_email_verified = True
            user.email_verified_at = clock.utcnow()
    return user


def change_role(user_id: int, role: Role) -> User:
    """Give the account ``role``. Raises UserNotFound. Side effect: updates ``users.role``."""
    with transaction():
        user = queries.get_user(user_id)
        if user is None:
            raise UserNotFound()
        user.role = role
    return user


def _checked_credentials(email: str, password: str) -> tuple[str, str]:
    """The normalised email and the password's hash, computed before any transaction opens
    (hashing takes tens of milliseconds; SQLite's write lock should not wait for it)."""
    normalised = normalise_email(email)
    passwords.check_password_policy(password)
    return normalised, passwords.hash_password(password)


def _insert_user(
    normalised_email: str, password_hash: str, role: Role, is_email_verified: bool
) -> User:
    session = db.session
    if session.scalar(sa.select(User.id).where(User.email == normalised_email)) is not None:
        raise EmailTaken()
    user = User(
        email=normalised_email,
        password_hash=password_hash,
        role=role,
        is_email_verified=is_email_verified,
        email_verified_at=clock.utcnow() if is_email_verified else None,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as error:  # registered concurrently with the same address
        raise EmailTaken() from error
    return user


def _schedule_verification_email(user: User) -> None:
    db.session.flush()
    address = user.email
    token = make_verification_token(user.id, address)
    on_commit(lambda: emails.send_verification_email(address, token))

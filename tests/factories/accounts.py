"""Factories for the accounts domain.

Hashing a password takes about 0.1 s, so every factory user shares one precomputed Argon2id
hash of ``KNOWN_PASSWORD``, made with the application's own hasher (so signing in with it
does not trigger a rehash).
"""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from funnel.accounts.models import Address, Role, User
from funnel.accounts.passwords import hash_password
from funnel.extensions import db

KNOWN_PASSWORD = "correct horse battery staple"
KNOWN_PASSWORD_HASH = hash_password(KNOWN_PASSWORD)


class UserFactory(SQLAlchemyModelFactory):
    class Meta:
        model = User
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"

    email = factory.Sequence(lambda number: f"customer{number}@example.com")
    password_hash = KNOWN_PASSWORD_HASH
    role = Role.CUSTOMER
    is_email_verified = False


class AddressFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Address
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"

    user_id = factory.LazyFunction(lambda: UserFactory().id)
    full_name = "Ann Smith"
    company = None
    line1 = factory.Sequence(lambda number: f"{number} High Street")
    line2 = None
    city = "Bristol"
    region = None
    postal_code = "BS1 4DJ"
    country_code = "GB"
    phone = "+44 117 496 0000"
    is_default_shipping = False

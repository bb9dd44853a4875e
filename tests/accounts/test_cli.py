"""US-12: ``flask --app funnel create-admin EMAIL``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.accounts import passwords
from funnel.accounts.models import Role, User
from funnel.extensions import db
from tests.factories.accounts import KNOWN_PASSWORD_HASH, UserFactory

PASSWORD = "a long admin passphrase"


def users() -> list[User]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(User).order_by(User.id)))


@pytest.mark.story("US-12")
def test_create_admin_creates_an_admin_after_asking_the_password_twice(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-admin", "Boss@Example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )

    assert result.exit_code == 0, result.output
    assert "Created the admin account boss@example.com." in result.output
    assert PASSWORD not in result.output  # the input is hidden
    [admin] = users()
    assert (admin.email, admin.role, admin.is_email_verified) == (
        "boss@example.com",
        Role.ADMIN,
        True,
    )
    assert passwords.verify_password(admin.password_hash, PASSWORD)


@pytest.mark.story("US-12")
def test_create_admin_refuses_a_common_password_with_exit_code_1(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-admin", "boss@example.com"], input="password123\npassword123\n"
    )

    assert result.exit_code == 1
    assert "Error: This password is too common." in result.output
    assert users() == []


def test_create_admin_asks_again_when_the_two_passwords_differ(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-admin", "boss@example.com"],
        input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "Error: The two entered values do not match." in result.output
    assert [user.role for user in users()] == [Role.ADMIN]


def test_create_admin_refuses_a_malformed_email(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["create-admin", "not-an-email"])

    assert result.exit_code == 1
    assert "Error: This email address is not valid" in result.output
    assert users() == []


@pytest.mark.story("US-12")
def test_create_admin_promotes_an_existing_account_after_confirmation(app: Flask) -> None:
    UserFactory(email="ann@example.com")

    result = app.test_cli_runner().invoke(args=["create-admin", "ANN@example.com"], input="y\n")

    assert result.exit_code == 0, result.output
    assert "ann@example.com is now an admin." in result.output
    [user] = users()
    assert user.role == Role.ADMIN
    assert user.password_hash == KNOWN_PASSWORD_HASH


def test_create_admin_changes_nothing_when_promotion_is_declined(app: Flask) -> None:
    UserFactory(email="ann@example.com")

    result = app.test_cli_runner().invoke(args=["create-admin", "ann@example.com"], input="n\n")

    assert result.exit_code == 1
    assert "Aborted!" in result.output
    assert [user.role for user in users()] == [Role.CUSTOMER]

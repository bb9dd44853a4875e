"""US-59: an admin resets the two-factor sign-in of a staff member who lost both their phone and
their recovery codes, from the team page (the operator's command does the same from a shell)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from tests.accounts.helpers import Clock
from tests.accounts.two_factor_helpers import (
    credential_of,
    enrol,
    is_signed_in,
    password_step,
)
from tests.audit.helpers import entries
from tests.factories.accounts import UserFactory
from tests.support.mailbox import Mailbox

pytestmark = pytest.mark.story("US-59")


def reset(browser: FlaskClient, member: User):
    return browser.post(f"/staff/team/{member.id}/two-factor/reset")


@pytest.fixture
def member(app: Flask) -> User:
    return UserFactory(
        email="sam@example.com", role=Role.STAFF, permission_groups="orders", is_email_verified=True
    )


def test_an_admin_resets_a_members_two_factor_and_the_member_signs_in_with_the_password(
    admin_user: User,
    member: User,
    signed_in,
    app: Flask,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a staff member with two-factor sign-in, signed in on their laptop, and an admin
    clock = Clock(monkeypatch)
    enrol(member, clock.now)
    laptop = signed_in(member)
    admin = signed_in(admin_user)
    assert "On: sam@example.com signs in with a code" in admin.get(f"/staff/team/{member.id}").text

    # when the admin resets it from the team page
    response = reset(admin, member)

    # then it is off, the laptop is signed out, the member is told by email who did it, and
    # the audit log says so
    assert response.status_code == 303
    page = admin.get(response.headers["Location"]).text
    assert "Two-factor sign-in is off for sam@example.com" in page
    assert "<p>Off.</p>" in page
    assert credential_of(member) is None
    assert not is_signed_in(laptop)
    [message] = mailbox.to("sam@example.com")
    assert "admin@example.com turned off two-factor sign-in" in mailbox.body(message)
    [entry] = [row for row in entries() if row["action"] == "staff.two_factor_reset"]
    assert (entry["actor"], entry["object"], entry["before"], entry["after"]) == (
        admin_user.id,
        ("staff_member", str(member.id)),
        {"two_factor": True},
        {"two_factor": False},
    )
    # and the member signs in with the password alone
    phone = app.test_client()
    password_step(phone, "sam@example.com")
    assert is_signed_in(phone)


def test_an_admin_cannot_reset_their_own_two_factor_here(
    admin_user: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an admin with two-factor sign-in
    clock = Clock(monkeypatch)
    enrol(admin_user, clock.now)
    admin = signed_in(admin_user)
    assert "Reset two-factor sign-in" not in admin.get(f"/staff/team/{admin_user.id}").text

    # when they post the reset of their own account anyway
    response = reset(admin, admin_user)

    # then it is refused with the way to do it, and it stays on
    assert response.status_code == 409
    assert "Turn your own two-factor sign-in off on your account page" in response.text
    assert credential_of(admin_user) is not None


@pytest.mark.parametrize("caller", ["anonymous", "customer", "staff without staff.manage"])
def test_only_staff_managers_reset_two_factor(
    caller: str,
    member: User,
    customer: User,
    signed_in,
    client: FlaskClient,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a staff member with two-factor sign-in
    clock = Clock(monkeypatch)
    enrol(member, clock.now)
    other_staff = UserFactory(
        email="kim@example.com", role=Role.STAFF, permission_groups="orders,stock"
    )
    browser = {
        "anonymous": client,
        "customer": signed_in(customer),
        "staff without staff.manage": signed_in(other_staff),
    }[caller]

    # when that caller posts the reset
    response = reset(browser, member)

    # then it is refused and nothing changed
    expected = 302 if caller == "anonymous" else 403
    assert response.status_code == expected
    assert credential_of(member) is not None
    assert list(mailbox) == []


def test_resetting_a_customer_or_an_unknown_account_is_not_found(
    admin_user: User, customer: User, signed_in
) -> None:
    admin = signed_in(admin_user)

    assert admin.post(f"/staff/team/{customer.id}/two-factor/reset").status_code == 404
    assert admin.post("/staff/team/999999/two-factor/reset").status_code == 404

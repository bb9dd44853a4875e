"""US-34: staff find a customer and look after the account: its page (orders, total spent,
addresses, verification), a password reset or verification link sent on the customer's
behalf, and disabling the account, which signs it out everywhere and revokes its API tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import ApiToken, Role, User, UserSession
from funnel.extensions import db
from tests.accounts.helpers import link_in
from tests.factories.accounts import KNOWN_PASSWORD, AddressFactory, UserFactory
from tests.factories.orders import paid_order, place
from tests.support.api import live_token
from tests.support.mailbox import Mailbox

pytestmark = pytest.mark.story("US-34")

ACTIONS = ["disable", "enable", "password-reset", "verification-email"]


def customer_page(browser: FlaskClient, user: User) -> Any:
    return browser.get(f"/staff/customers/{user.id}")


def act(browser: FlaskClient, user: User, action: str) -> Any:
    return browser.post(f"/staff/customers/{user.id}/{action}")


def flashed(browser: FlaskClient, response: Any) -> str:
    assert response.status_code == 303, response.text[:500]
    return browser.get(response.headers["Location"]).text


def standing(user_id: int) -> tuple[bool, int, int]:
    """(disabled, open sessions, live API tokens) of the account."""
    db.session.expire_all()
    user = db.session.get(User, user_id)
    sessions = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    )
    tokens = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    )
    return user.is_disabled, int(sessions), int(tokens)


def sign_in(client: FlaskClient, email: str, password: str) -> Any:
    return client.post("/account/sign-in", data={"email": email, "password": password})


def test_the_customer_page_shows_orders_total_spent_addresses_and_verification(
    staff_user: User, customer: User, signed_in
) -> None:
    # given a customer with two paid orders, one unpaid, and an address
    first = paid_order(email=customer.email, user_id=customer.id)
    second = paid_order(email=customer.email, user_id=customer.id, shipping=0)
    place(email=customer.email, user_id=customer.id)
    AddressFactory(user_id=customer.id, full_name="Ann Smith", city="Bristol")

    # when staff open the customer's page
    page = customer_page(signed_in(staff_user), customer).text

    # then it shows the account, its orders newest first, what the paid ones add up to
    total = first.total_minor + second.total_minor
    assert "<h1>customer@example.com</h1>" in page
    assert "<dt>Email verified</dt><dd>No</dd>" in page
    assert "<dt>Orders</dt><dd>3</dd>" in page
    assert f"<dt>Lifetime value</dt><dd>${total // 100:,}.{total % 100:02d}</dd>" in page
    numbers = re.findall(r'<a href="/staff/orders/([^"]+)">', page)
    assert numbers[1:] == [second.number, first.number]
    assert "Ann Smith" in page
    assert "Bristol" in page
    assert "Disable the account" in page


def test_customers_are_found_by_a_name_in_their_address_book(staff_user: User, signed_in) -> None:
    ann = UserFactory(email="a.s@example.com")
    AddressFactory(user_id=ann.id, full_name="Ann Smith")
    UserFactory(email="bob@example.com")

    page = signed_in(staff_user).get("/staff/customers", query_string={"q": "SMITH"}).text

    assert re.findall(r'<a href="/staff/customers/\d+">([^<]+)</a>', page) == ["a.s@example.com"]


def test_disabling_an_account_signs_it_out_everywhere_revokes_tokens_and_refuses_sign_in(
    app: Flask, staff_user: User, customer: User, signed_in, client: FlaskClient
) -> None:
    # given a customer signed in on a browser and holding an API token
    customer_browser = signed_in(customer)
    token = live_token(customer)
    assert standing(customer.id) == (False, 1, 1)

    # when staff disable the account
    page = flashed(staff_browser := signed_in(staff_user), act(staff_browser, customer, "disable"))

    # then its session and token no longer work, and the right password is told it is disabled
    assert "The account is disabled" in page
    assert "Disabled since" in page
    assert standing(customer.id) == (True, 0, 0)
    assert customer_browser.get("/account").status_code == 302
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    refused = sign_in(client, customer.email, KNOWN_PASSWORD)
    assert refused.status_code in (403, 422)
    assert "This account is disabled. Please contact the shop." in refused.text
    wrong = sign_in(client, customer.email, "not the password at all")
    assert "This account is disabled" not in wrong.text
    assert standing(customer.id) == (True, 0, 0)


def test_an_enabled_account_signs_in_again(
    staff_user: User, customer: User, signed_in, client: FlaskClient
) -> None:
    staff_browser = signed_in(staff_user)
    act(staff_browser, customer, "disable")

    page = flashed(staff_browser, act(staff_browser, customer, "enable"))

    assert "The account can sign in again." in page
    assert sign_in(client, customer.email, KNOWN_PASSWORD).status_code == 302
    assert standing(customer.id) == (False, 1, 0)


def test_disabling_twice_changes_nothing_the_second_time(
    staff_user: User, customer: User, signed_in
) -> None:
    staff_browser = signed_in(staff_user)
    act(staff_browser, customer, "disable")
    disabled_at = db.session.get(User, customer.id).disabled_at

    page = flashed(staff_browser, act(staff_browser, customer, "disable"))

    assert "The account was already disabled." in page
    db.session.expire_all()
    assert db.session.get(User, customer.id).disabled_at == disabled_at


def test_staff_cannot_disable_their_own_account(staff_user: User, admin_user: User, signed_in):
    response = act(signed_in(admin_user), admin_user, "disable")

    assert response.status_code == 409
    assert "You cannot disable your own account." in response.text
    assert standing(admin_user.id) == (False, 1, 0)


def test_only_an_admin_may_disable_a_staff_account(
    staff_user: User, admin_user: User, signed_in
) -> None:
    colleague = UserFactory(email="colleague@example.com", role=Role.STAFF)

    refused = act(signed_in(staff_user), colleague, "disable")
    assert refused.status_code == 403
    assert standing(colleague.id)[0] is False

    allowed = act(signed_in(admin_user), colleague, "disable")
    assert allowed.status_code == 303
    assert standing(colleague.id)[0] is True


def test_staff_email_a_password_reset_link_to_the_customer(
    staff_user: User, customer: User, signed_in, mailbox: Mailbox
) -> None:
    page = flashed(browser := signed_in(staff_user), act(browser, customer, "password-reset"))

    assert "A password reset link was emailed to the customer." in page
    assert [message["To"] for message in mailbox] == ["customer@example.com"]
    assert link_in(mailbox, mailbox[0]).startswith("/account/password/reset/")


def test_staff_resend_the_verification_link_only_while_unverified(
    staff_user: User, customer: User, signed_in, mailbox: Mailbox
) -> None:
    browser = signed_in(staff_user)
    verified_customer = UserFactory(email="verified@example.com", is_email_verified=True)

    sent = flashed(browser, act(browser, customer, "verification-email"))
    verified = flashed(browser, act(browser, verified_customer, "verification-email"))

    assert "A new verification link was emailed to the customer." in sent
    assert "This email address is verified already: nothing was sent." in verified
    assert [message["To"] for message in mailbox] == ["customer@example.com"]


def test_an_unknown_customer_is_a_404(staff_user: User, signed_in) -> None:
    browser = signed_in(staff_user)

    assert browser.get("/staff/customers/999999").status_code == 404
    assert browser.post("/staff/customers/999999/disable").status_code == 404


# -- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
def test_a_visitor_is_sent_to_sign_in_and_nothing_changes(
    client: FlaskClient, customer: User, action: str, mailbox: Mailbox
) -> None:
    response = act(client, customer, action)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")
    assert standing(customer.id) == (False, 0, 0)
    assert list(mailbox) == []


@pytest.mark.parametrize("action", ACTIONS)
def test_a_customer_gets_403_and_nothing_changes(
    customer: User, signed_in, action: str, mailbox: Mailbox
) -> None:
    other = UserFactory(email="other@example.com")

    response = act(signed_in(customer), other, action)

    assert response.status_code == 403
    assert standing(other.id) == (False, 0, 0)
    assert list(mailbox) == []


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_open_a_customer_page(
    staff_user: User, admin_user: User, customer: User, signed_in, role: str
) -> None:
    browser = signed_in(staff_user if role == "staff" else admin_user)

    assert customer_page(browser, customer).status_code == 200
    assert act(browser, customer, "disable").status_code == 303

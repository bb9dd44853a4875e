"""US-59: who may reach the two-factor pages. They concern the caller's own account: visitors
are sent to sign in, customers are not offered two-factor sign-in, staff and admins are."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import RecoveryCode, TwoFactorCredential, User
from funnel.extensions import db
from tests.factories.accounts import KNOWN_PASSWORD

pytestmark = pytest.mark.story("US-59")

PAGES = [
    ("GET", "/account/security"),
    ("POST", "/account/security/two-factor/start"),
    ("GET", "/account/security/two-factor"),
    ("POST", "/account/security/two-factor"),
    ("POST", "/account/security/recovery-codes"),
    ("POST", "/account/security/two-factor/disable"),
]
FORM = {"code": "123456", "current_password": KNOWN_PASSWORD}


def written() -> tuple[int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(sa.select(sa.func.count(TwoFactorCredential.id))),
        db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))),
    )


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_visitors_are_sent_to_sign_in(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method, data=FORM)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in?next=%2Faccount%2Fsecurity")
    assert written() == (0, 0)


def test_customers_are_not_offered_two_factor_sign_in(customer: User, signed_in) -> None:
    browser = signed_in(customer)

    page = browser.get("/account/security")
    start = browser.post("/account/security/two-factor/start")
    enrol_page = browser.get("/account/security/two-factor")
    confirm = browser.post("/account/security/two-factor", data=FORM)
    renew = browser.post("/account/security/recovery-codes", data=FORM)
    disable = browser.post("/account/security/two-factor/disable", data=FORM)

    assert page.status_code == 200
    assert "Two-factor sign-in is offered to shop staff." in page.text
    assert "Set up two-factor sign-in" not in page.text
    assert start.status_code == 403
    assert "Two-factor sign-in is offered to shop staff." in start.text
    assert enrol_page.status_code == 302
    assert enrol_page.headers["Location"] == "/account/security"
    assert confirm.status_code == 302
    assert renew.status_code == 409
    assert disable.status_code == 409
    assert written() == (0, 0)


@pytest.mark.parametrize("who", ["staff_user", "admin_user"])
def test_staff_and_admins_may_set_it_up(
    who: str, request: pytest.FixtureRequest, signed_in
) -> None:
    user = request.getfixturevalue(who)
    browser = signed_in(user)

    assert "Set up two-factor sign-in" in browser.get("/account/security").text
    response = browser.post("/account/security/two-factor/start")

    assert response.status_code == 303
    assert browser.get("/account/security/two-factor").status_code == 200
    assert written() == (1, 0)


def test_starting_again_replaces_the_secret(staff_user: User, signed_in) -> None:
    browser = signed_in(staff_user)
    browser.post("/account/security/two-factor/start")
    first = db.session.scalar(sa.select(TwoFactorCredential.secret))

    browser.post("/account/security/two-factor/start")

    db.session.expire_all()
    assert db.session.scalar(sa.select(TwoFactorCredential.secret)) != first
    assert written() == (1, 0)

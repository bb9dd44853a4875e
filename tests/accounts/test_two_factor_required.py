"""US-59: the shop's setting that requires two-factor sign-in of every staff member, and the
API: tokens are made only after both factors; the staff API refuses staff without them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import ApiToken, User
from funnel.extensions import db
from tests.accounts.helpers import Clock
from tests.accounts.two_factor_helpers import (
    app_code,
    code_step,
    enrol,
    is_signed_in,
    password_step,
    require_two_factor_of_staff,
    secret_on_page,
)
from tests.factories.accounts import KNOWN_PASSWORD
from tests.settings.helpers import save, stored
from tests.support.api import problem

pytestmark = pytest.mark.story("US-59")

TOKENS = "/api/v1/auth/tokens"


def test_required_setting_sends_staff_to_enrolment_after_the_password(
    staff_user: User, admin_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a shop that requires two-factor sign-in of staff, and a staff member without it
    clock = Clock(monkeypatch)
    require_two_factor_of_staff(admin_user)

    # when they sign in with their password
    response = password_step(client, "staff@example.com", next_url="/staff/")

    # then they are sent to set it up, and reach no staff page until they have
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/security"
    security = client.get("/account/security")
    assert "The shop requires two-factor sign-in for staff." in security.text
    staff_page = client.get("/staff/orders")
    assert staff_page.status_code == 302
    assert staff_page.headers["Location"] == "/account/security"

    # when they set it up
    client.post("/account/security/two-factor/start")
    secret = secret_on_page(client.get("/account/security/two-factor").text)
    client.post("/account/security/two-factor", data={"code": app_code(secret, clock.now)})

    # then the staff pages open
    assert client.get("/staff/").status_code == 200


def test_required_setting_closes_the_staff_api_to_staff_without_it(
    staff_user: User, admin_user: User, client: FlaskClient, bearer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given staff API tokens of a staff member without two-factor sign-in
    Clock(monkeypatch)
    headers = bearer(staff_user)
    assert client.get("/api/v1/staff/orders", headers=headers).status_code == 200

    # when the shop starts requiring it
    require_two_factor_of_staff(admin_user)

    # then the staff API refuses them (their own account's operations still answer)
    problem(
        client.get("/api/v1/staff/orders", headers=headers), 403, "two_factor_enrolment_required"
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_customers_are_not_asked_when_staff_must(
    customer: User, admin_user: User, client: FlaskClient
) -> None:
    require_two_factor_of_staff(admin_user)

    response = password_step(client, "customer@example.com")

    assert response.headers["Location"] == "/account"
    assert is_signed_in(client)


def test_staff_with_two_factor_are_let_in_when_it_is_required(
    staff_user: User, admin_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    secret, _codes = enrol(staff_user, clock.now)
    require_two_factor_of_staff(admin_user)
    clock.advance(seconds=30)

    password_step(client, "staff@example.com", next_url="/staff/")
    response = code_step(client, app_code(secret, clock.now), next_url="/staff/")

    assert response.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_an_admin_requires_it_on_the_settings_page(admin_user: User, signed_in) -> None:
    # given an admin on the settings page
    admin = signed_in(admin_user)
    assert "Every staff member signs in with a code" in admin.get("/staff/settings").text

    # when they tick the setting and save
    response = save(admin, staff_two_factor_required="y")

    # then it is stored, and the admin, without two-factor sign-in yet, is the first sent to
    # set it up
    assert response.status_code == 303
    assert stored()["staff_two_factor_required"] == "true"
    assert admin.get("/staff/settings").headers["Location"] == "/account/security"


def test_an_api_token_needs_the_code_of_an_account_with_two_factor(
    staff_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member with two-factor sign-in
    clock = Clock(monkeypatch)
    secret, codes = enrol(staff_user, clock.now)
    clock.advance(seconds=30)
    credentials = {"email": "staff@example.com", "password": KNOWN_PASSWORD}

    # when they ask for a token with the password alone, a wrong code, then the app's code
    without = client.post(TOKENS, json=credentials)
    wrong = client.post(TOKENS, json={**credentials, "code": "000000"})
    right = client.post(TOKENS, json={**credentials, "code": app_code(secret, clock.now)})
    replayed = client.post(TOKENS, json={**credentials, "code": app_code(secret, clock.now)})
    recovery = client.post(TOKENS, json={**credentials, "code": codes[0]})

    # then a token is made only after both factors, and each code works once
    problem(without, 401, "second_factor_required")
    problem(wrong, 401, "second_factor_invalid")
    assert right.status_code == 201
    problem(replayed, 401, "second_factor_invalid")
    assert recovery.status_code == 201
    count = db.session.scalar(
        sa.select(sa.func.count(ApiToken.id)).where(ApiToken.user_id == staff_user.id)
    )
    assert count == 2


def test_the_operator_turns_two_factor_off_for_someone_locked_out(
    app, staff_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member with two-factor sign-in who lost their phone and recovery codes
    clock = Clock(monkeypatch)
    enrol(staff_user, clock.now)

    # when the operator resets it, twice
    first = app.test_cli_runner().invoke(args=["reset-two-factor", "STAFF@example.com"])
    second = app.test_cli_runner().invoke(args=["reset-two-factor", "staff@example.com"])
    unknown = app.test_cli_runner().invoke(args=["reset-two-factor", "nobody@example.com"])

    # then the first turns it off (sign-in asks for the password alone), the second says so
    assert first.exit_code == 0, first.output
    assert "Two-factor sign-in is off for staff@example.com" in first.output
    assert "staff@example.com had no two-factor sign-in." in second.output
    assert unknown.exit_code == 1
    assert password_step(client, "staff@example.com").headers["Location"] == "/account"

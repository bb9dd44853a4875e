"""US-59: staff set up two-factor sign-in with an authenticator app (TOTP) and sign in with a
code after their password; recovery codes work once; a code is never accepted twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from funnel.accounts import services
from funnel.accounts.models import User
from tests.accounts.helpers import Clock
from tests.accounts.two_factor_helpers import (
    app_code,
    code_step,
    credential_of,
    enrol,
    is_signed_in,
    password_step,
    recovery_codes_on_page,
    secret_on_page,
    sessions_of,
    unused_recovery_codes,
)
from tests.factories.accounts import KNOWN_PASSWORD

pytestmark = pytest.mark.story("US-59")


def test_staff_enrol_with_the_qr_code_and_a_code_from_the_app(
    staff_user: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a signed-in staff member on their security page
    clock = Clock(monkeypatch)
    browser = signed_in(staff_user)
    assert "Set up two-factor sign-in" in browser.get("/account/security").text

    # when they start, scan the QR code (or type the key) and enter the app's code
    started = browser.post("/account/security/two-factor/start")
    page = browser.get("/account/security/two-factor")
    secret = secret_on_page(page.text)
    confirmed = browser.post(
        "/account/security/two-factor", data={"code": app_code(secret, clock.now)}
    )

    # then the page held an inline SVG QR code and the key as text, never cached
    assert started.status_code == 303
    assert started.headers["Location"] == "/account/security/two-factor"
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "<svg" in page.text
    assert "QR code to scan with your authenticator app" in page.text
    assert len(secret) == 32
    # and two-factor sign-in is on, with ten recovery codes shown once (hashes kept)
    assert confirmed.status_code == 200
    assert confirmed.headers["Cache-Control"] == "no-store"
    codes = recovery_codes_on_page(confirmed.text)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    credential = credential_of(staff_user)
    assert credential is not None
    assert credential.secret == secret
    assert credential.confirmed_at == clock.now
    assert unused_recovery_codes(staff_user) == 10
    assert "<strong>On.</strong>" in browser.get("/account/security").text
    assert "10 unused recovery codes" in browser.get("/account/security").text


def test_a_wrong_code_at_enrolment_is_named_beside_the_field(
    staff_user: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member who has started setting up
    Clock(monkeypatch)
    browser = signed_in(staff_user)
    browser.post("/account/security/two-factor/start")

    # when they enter a code that is not the app's
    response = browser.post("/account/security/two-factor", data={"code": "000000"})

    # then the message is beside the code field, and two-factor sign-in stays off
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert '<small id="code-error" class="field-error">This code is not right.' in response.text
    credential = credential_of(staff_user)
    assert credential is not None
    assert credential.confirmed_at is None
    assert unused_recovery_codes(staff_user) == 0


def test_enrolment_ends_other_sessions_and_api_tokens(
    staff_user: User, signed_in, bearer, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member signed in on two browsers, with an API token
    clock = Clock(monkeypatch)
    other_browser = signed_in(staff_user)
    headers = bearer(staff_user)
    browser = signed_in(staff_user)

    # when they turn two-factor sign-in on in one browser
    browser.post("/account/security/two-factor/start")
    secret = secret_on_page(browser.get("/account/security/two-factor").text)
    browser.post("/account/security/two-factor", data={"code": app_code(secret, clock.now)})

    # then that browser stays signed in; the other and the token (made with the password
    # alone) are ended
    assert is_signed_in(browser)
    assert not is_signed_in(other_browser)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_sign_in_asks_for_the_code_before_the_session_starts(
    staff_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member with two-factor sign-in
    clock = Clock(monkeypatch)
    secret, _codes = enrol(staff_user, clock.now)
    clock.advance(seconds=30)

    # when they enter the right password
    first = password_step(client, "staff@example.com", next_url="/staff/")

    # then they are asked for the code, and are not signed in yet
    assert first.status_code == 302
    assert first.headers["Location"] == "/account/sign-in/code?next=/staff/"
    assert not is_signed_in(client)
    assert client.get("/staff/").status_code == 302
    [pending] = sessions_of(staff_user)
    assert pending.awaits_second_factor
    assert client.get("/account/sign-in/code").status_code == 200

    # when they enter the app's code
    second = code_step(client, app_code(secret, clock.now), next_url="/staff/")

    # then the session starts, under a new token (the pending one never becomes a session)
    assert second.status_code == 302
    assert second.headers["Location"] == "/staff/"
    assert is_signed_in(client)
    assert client.get("/staff/").status_code == 200
    ended, started = sessions_of(staff_user)
    assert ended.id == pending.id
    assert ended.ended_at == clock.now
    assert not started.awaits_second_factor
    assert started.ended_at is None
    assert started.token_hash != pending.token_hash


def test_a_wrong_code_is_named_beside_the_field(
    staff_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    enrol(staff_user, clock.now)
    password_step(client, "staff@example.com")

    response = code_step(client, "123456")

    assert response.status_code == 422
    assert '<small id="code-error" class="field-error">This code is not right' in response.text
    assert not is_signed_in(client)


def test_a_code_is_not_accepted_twice_within_its_window(
    staff_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member who signed in with a code, and signed out
    clock = Clock(monkeypatch)
    secret, _codes = enrol(staff_user, clock.now)
    clock.advance(seconds=30)
    code = app_code(secret, clock.now)
    password_step(client, "staff@example.com")
    assert code_step(client, code).status_code == 302
    client.post("/account/sign-out")

    # when the same code is sent again ten seconds later (seen over a shoulder)
    clock.advance(seconds=10)
    password_step(client, "staff@example.com")
    replayed = code_step(client, code)

    # then it is refused; the next step's code works
    assert replayed.status_code == 422
    assert not is_signed_in(client)
    clock.advance(seconds=30)
    assert code_step(client, app_code(secret, clock.now)).status_code == 302
    assert is_signed_in(client)


def test_the_previous_step_code_is_accepted_but_not_an_older_one(
    staff_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member whose phone's clock is a little behind
    clock = Clock(monkeypatch)
    secret, _codes = enrol(staff_user, clock.now)
    clock.advance(minutes=2)
    two_steps_ago = app_code(secret, clock.now - timedelta(seconds=60))
    one_step_ago = app_code(secret, clock.now - timedelta(seconds=30))
    password_step(client, "staff@example.com")

    # when they send a code two steps old, then one a step old
    too_old = code_step(client, two_steps_ago)
    late = code_step(client, one_step_ago)

    # then the first is refused and the second accepted
    assert too_old.status_code == 422
    assert late.status_code == 302
    assert is_signed_in(client)


def test_a_recovery_code_signs_in_once(
    staff_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member with recovery codes (and no phone)
    clock = Clock(monkeypatch)
    _secret, codes = enrol(staff_user, clock.now)

    # when they sign in with one, typed in capitals without hyphens
    password_step(client, "staff@example.com")
    first = code_step(client, codes[3].replace("-", "").upper())

    # then they are signed in, and that code is used up
    assert first.status_code == 302
    assert is_signed_in(client)
    assert unused_recovery_codes(staff_user) == 9
    client.post("/account/sign-out")
    password_step(client, "staff@example.com")
    second = code_step(client, codes[3])
    assert second.status_code == 422
    assert not is_signed_in(client)
    assert code_step(client, codes[4]).status_code == 302


def test_the_second_step_expires_after_five_minutes(
    staff_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member who entered their password
    clock = Clock(monkeypatch)
    secret, _codes = enrol(staff_user, clock.now)
    password_step(client, "staff@example.com", next_url="/staff/")

    # when they send the app's right code five minutes later
    clock.advance(minutes=5)
    response = code_step(client, app_code(secret, clock.now), next_url="/staff/")

    # then they are sent back to the password, not signed in
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in?next=/staff/"
    assert "Your sign-in has expired" in client.get("/account/sign-in").text
    assert not is_signed_in(client)
    assert code_step(client, app_code(secret, clock.now)).status_code == 302
    assert not is_signed_in(client)


def test_five_wrong_codes_end_the_second_step(
    staff_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    secret, _codes = enrol(staff_user, clock.now)
    clock.advance(seconds=30)
    password_step(client, "staff@example.com")

    answers = [code_step(client, "000000").status_code for _ in range(5)]

    assert answers == [422, 422, 422, 422, 302]
    assert code_step(client, app_code(secret, clock.now)).status_code == 302
    assert not is_signed_in(client)
    [row] = sessions_of(staff_user)
    assert row.failed_codes == 5
    assert row.ended_at == clock.now


def test_the_second_step_cannot_be_opened_without_the_password(client: FlaskClient) -> None:
    response = client.get("/account/sign-in/code")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in"


def test_a_disabled_account_is_refused_at_either_step(
    staff_user: User, admin_user: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member with two-factor sign-in, disabled after entering their password
    clock = Clock(monkeypatch)
    secret, _codes = enrol(staff_user, clock.now)
    clock.advance(seconds=30)
    password_step(client, "staff@example.com")
    services.disable_account(admin_user, staff_user.id)

    # when they send the right code, then they are refused
    response = code_step(client, app_code(secret, clock.now))
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in"
    assert "This account is disabled" in client.get("/account/sign-in").text
    assert not is_signed_in(client)

    # and the password step refuses them too
    again = password_step(client, "staff@example.com")
    assert again.status_code == 422
    assert "This account is disabled" in again.text
    assert [row.ended_at is not None for row in sessions_of(staff_user)] == [True]


def test_recovery_codes_are_renewed_with_the_password(
    staff_user: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member with two-factor sign-in
    clock = Clock(monkeypatch)
    _secret, old_codes = enrol(staff_user, clock.now)
    browser = signed_in(staff_user)

    # when they ask for new codes with a wrong password, then with theirs
    refused = browser.post(
        "/account/security/recovery-codes", data={"current_password": "not my password"}
    )
    renewed = browser.post(
        "/account/security/recovery-codes", data={"current_password": KNOWN_PASSWORD}
    )

    # then the wrong password is named beside its field; the right one gives ten new codes,
    # and the old ones stop working
    assert refused.status_code == 422
    assert 'id="current_password-error"' in refused.text
    assert renewed.status_code == 200
    assert renewed.headers["Cache-Control"] == "no-store"
    new_codes = recovery_codes_on_page(renewed.text)
    assert len(new_codes) == 10
    assert set(new_codes).isdisjoint(old_codes)
    assert unused_recovery_codes(staff_user) == 10
    client = browser.application.test_client()
    password_step(client, "staff@example.com")
    assert code_step(client, old_codes[0]).status_code == 422
    assert code_step(client, new_codes[0]).status_code == 302


def test_turning_two_factor_off_needs_the_password_and_a_code(
    staff_user: User, signed_in, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member with two-factor sign-in
    clock = Clock(monkeypatch)
    secret, _codes = enrol(staff_user, clock.now)
    browser = signed_in(staff_user)
    clock.advance(seconds=30)
    url = "/account/security/two-factor/disable"

    # when they try with a wrong password, then with a wrong code, then with both right
    wrong_password = browser.post(
        url, data={"current_password": "nope nope", "code": app_code(secret, clock.now)}
    )
    wrong_code = browser.post(url, data={"current_password": KNOWN_PASSWORD, "code": "111111"})
    right = browser.post(
        url, data={"current_password": KNOWN_PASSWORD, "code": app_code(secret, clock.now)}
    )

    # then each wrong one is named beside its field and changes nothing; the right one turns
    # it off, and sign-in asks for the password alone
    assert wrong_password.status_code == 422
    assert 'id="current_password-error"' in wrong_password.text
    assert wrong_code.status_code == 422
    assert 'id="code-error"' in wrong_code.text
    assert right.status_code == 303
    assert credential_of(staff_user) is None
    assert unused_recovery_codes(staff_user) == 0
    assert password_step(client, "staff@example.com").headers["Location"] == "/account"
    assert is_signed_in(client)


def test_customers_sign_in_as_before(customer: User, client: FlaskClient) -> None:
    response = password_step(client, "customer@example.com")

    assert response.headers["Location"] == "/account"
    assert is_signed_in(client)
    assert "offered to shop staff" in client.get("/account/security").text


@pytest.mark.story("US-07")
@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_wrong_codes_are_limited_to_5_a_minute_per_account_from_any_client(
    staff_user: User, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a staff member with two-factor sign-in, whose password an attacker knows
    clock = Clock(monkeypatch)
    secret, _codes = enrol(staff_user, clock.now)
    clock.advance(seconds=30)
    first, second = app.test_client(), app.test_client()
    first.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    second.environ_base["REMOTE_ADDR"] = "192.0.2.2"

    # when they guess codes from two addresses
    password_step(first, "staff@example.com")
    password_step(second, "staff@example.com")
    guesses = [code_step(first, f"00000{digit}").status_code for digit in range(3)]
    guesses += [code_step(second, f"11111{digit}").status_code for digit in range(3)]

    # then the sixth wrong code is refused unheard, and so is the right one for that minute
    assert guesses == [422, 422, 422, 422, 422, 429]
    assert code_step(second, app_code(secret, clock.now)).status_code == 429
    assert not is_signed_in(second)

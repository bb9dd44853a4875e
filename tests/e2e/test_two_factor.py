"""US-59 in the browser: an admin sets up two-factor sign-in by typing the key shown under the
QR code into "an app" (pyotp, as an authenticator computes codes), then signs in with a code.
The pages met on the way have no serious or critical accessibility violation (axe-core).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.support.live_server import LiveServer, live_server

pytestmark = pytest.mark.e2e

ADMIN = "owner@example.com"
PASSWORD = "the owner's long passphrase"
BLOCKING = frozenset({"serious", "critical"})
STEP_SECONDS = 30


@pytest.fixture(scope="module")
def owners_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A migrated shop with no data but its admin (its own: the demo shop's admin keeps
    signing in with a password alone)."""
    instance = tmp_path_factory.mktemp("two-factor-shop")
    with live_server(instance, workers=2) as server:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "funnel", "create-admin", ADMIN],
            input=f"{PASSWORD}\n{PASSWORD}\n",
            env=server.environment,
            cwd=instance,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        yield server


@pytest.fixture
def shop_page(browser: Browser, owners_shop: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=owners_shop.base_url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def blocking_violations(page: Page, axe: Axe) -> list[str]:
    return [
        f"{page.url} {violation['id']} ({violation['impact']})"
        for violation in axe.run(page).response["violations"]
        if violation.get("impact") in BLOCKING
    ]


def password_step(page: Page) -> None:
    page.goto("/account/sign-in?next=/staff/")
    page.get_by_label("Email", exact=True).fill(ADMIN)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in", exact=True).click()


def code_after(totp: pyotp.TOTP, used_step: int) -> tuple[str, int]:
    """The app's code for a step later than ``used_step`` that the shop still accepts now (the
    current step, or the next one when the current one was used)."""
    step = max(int(time.time()) // STEP_SECONDS, used_step + 1)
    return totp.at(step * STEP_SECONDS), step


@pytest.mark.story("US-59")
def test_an_admin_sets_up_two_factor_sign_in_and_signs_in_with_a_code(shop_page: Page) -> None:
    page = shop_page
    axe = Axe()
    problems: list[str] = []

    # given the admin, signed in with their password, on their security page
    password_step(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff dashboard")
    page.goto("/account")
    page.get_by_role("link", name="Security and two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Security")
    problems += blocking_violations(page, axe)

    # when they set it up with the key shown under the QR code, and the app's code
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    problems += blocking_violations(page, axe)
    totp = pyotp.TOTP(page.locator("#two-factor-secret").inner_text().replace(" ", ""))
    page.get_by_label("Code from the app", exact=True).fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("#code-error")).to_contain_text("This code is not right.")
    code, used_step = code_after(totp, 0)
    page.get_by_label("Code from the app", exact=True).fill(code)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    # then two-factor sign-in is on, and ten recovery codes are shown
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in is on")
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(
        10
    )
    problems += blocking_violations(page, axe)

    # when they sign out and in again: the password, then the app's next code
    page.get_by_role("button", name="Sign out").click()
    password_step(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
    problems += blocking_violations(page, axe)
    assert page.goto("/staff/").url.split("?")[0].endswith("/account/sign-in")
    password_step(page)
    code, used_step = code_after(totp, used_step)
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("main").get_by_role("button", name="Sign in", exact=True).click()

    # then they are in the staff dashboard
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff dashboard")
    assert problems == []

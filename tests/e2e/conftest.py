"""Browser tests: a real shop under gunicorn, driven by Debian's Chromium through Playwright.

The shop runs from a scratch instance folder, migrated and filled with a small demo catalogue
by the same CLI commands an operator uses. Chromium is Debian's (``make browser``); Playwright
never downloads a browser here. A missing Chromium skips these tests locally and fails them
under ``CI=true``, as a missing database does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, sync_playwright

from tests.e2e.problems import PageProblems
from tests.support.live_server import live_server as run_live_server
from tests.support.static import static_path

CHROMIUM = Path("/usr/bin/chromium")
FAVICON_PATH = static_path("favicon.svg")
# What a page loads to look right (a script's own fetches may answer 4xx on purpose).
ASSET_TYPES = frozenset({"stylesheet", "script", "image", "font"})
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PRODUCTS = 30
IS_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a migrated demo shop served by gunicorn (two workers)."""
    instance = tmp_path_factory.mktemp("live-instance")
    with run_live_server(instance, workers=2, demo_products=DEMO_PRODUCTS) as server:
        yield server.base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"browser tests need Debian's Chromium at {CHROMIUM} (install it: make browser)"
        if IS_CI:
            pytest.fail(f"{reason} (CI=true: every service must be reachable)")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies) whose relative URLs go to the live shop."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page_problems(page: Page, live_server: str) -> PageProblems:
    """Start collecting the problems ``page`` reports (CSP violations are console errors)."""
    problems = PageProblems()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.console_errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.page_errors.append(f"{page.url}: {error}"))

    def on_request_failed(request: Request) -> None:
        # Chromium fetches the icon at its own pace, after the page's load event, and cancels
        # that fetch when the test moves on to the next page: no user sees that.
        if request.url.endswith(FAVICON_PATH) and request.failure == "net::ERR_ABORTED":
            return
        # A page's own background request (suggestions as the shopper types) still under way
        # when the shopper moves on is cancelled by the browser: nothing failed.
        if request.resource_type in {"xhr", "fetch"} and request.failure == "net::ERR_ABORTED":
            return
        problems.failed_requests.append(f"{request.url}: {request.failure}")

    def on_response(response: Response) -> None:
        # A missing stylesheet or script is an answer, not a failed request: count it too.
        if response.status >= 400 and response.request.resource_type in ASSET_TYPES:
            problems.failed_requests.append(f"{response.url}: HTTP {response.status}")

    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server + "/", "data:"))
            else problems.foreign_requests.append(request.url)
        ),
    )
    return problems

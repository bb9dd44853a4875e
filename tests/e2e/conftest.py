"""Browser tests: a real shop under gunicorn, driven by Debian's Chromium through Playwright.

The shop runs from a scratch instance folder, migrated and filled with a small demo catalogue
by the same CLI commands an operator uses. Chromium is Debian's (``make browser``); Playwright
never downloads a browser here. A missing Chromium skips these tests locally and fails them
under ``CI=true``, as a missing database does.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.e2e.problems import PageProblems

CHROMIUM = Path("/usr/bin/chromium")
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
START_TIMEOUT_SECONDS = 60
IS_CI = os.environ.get("CI", "").lower() == "true"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _shop_environment(instance: Path) -> dict[str, str]:
    """The inherited environment without any FUNNEL_ setting, plus the scratch instance."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("FUNNEL_")}
    environment["FUNNEL_INSTANCE_PATH"] = str(instance)
    environment["FUNNEL_RATELIMIT_ENABLED"] = "false"
    return environment


def _flask(environment: dict[str, str], *arguments: str) -> None:
    command = ["flask", "--app", "funnel", *arguments]
    result = subprocess.run(
        [sys.executable, "-m", *command],
        env=environment,
        cwd=environment["FUNNEL_INSTANCE_PATH"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout}{result.stderr}"
        )


def _wait_until_answering(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling a starting server, not waiting for the page
    raise RuntimeError(
        f"gunicorn did not answer {url} in {START_TIMEOUT_SECONDS}s:\n{log.read_text()}"
    )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a migrated demo shop served by gunicorn (two workers)."""
    instance = tmp_path_factory.mktemp("live-instance")
    environment = _shop_environment(instance)
    _flask(environment, "db", "upgrade", "heads")
    _flask(environment, "demo", "--products", str(DEMO_PRODUCTS))

    port = _free_port()
    log = instance / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--no-control-socket",  # gunicorn 27 shares one control socket per machine
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "funnel:create_app()",
            ],
            env=environment,
            cwd=instance,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(base_url + "/", server, log)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


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
    page.on(
        "requestfailed",
        lambda request: problems.failed_requests.append(f"{request.url}: {request.failure}"),
    )
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server + "/", "data:"))
            else problems.foreign_requests.append(request.url)
        ),
    )
    return problems

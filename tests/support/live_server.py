"""A real Funnel under gunicorn, for tests that need real HTTP and several processes.

``LiveServer(instance, database_url=...)`` migrates the database with ``flask db upgrade
heads`` (as an operator does), optionally loads the demo catalogue, then starts gunicorn with
several sync workers on a free port, ``--no-control-socket`` (gunicorn 27 would otherwise share
one control socket between the servers of a test run). ``FUNNEL_BASE_URL`` is the server's own
address, so that links, the test gateway's 3-D Secure page and its webhooks point at it.
The environment holds no inherited ``FUNNEL_`` setting: only what the caller passes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# A test shop's bank account (FUNNEL_BANK_ACCOUNT's form): holder;IBAN;BIC;bank name.
TEST_BANK_ACCOUNT = "Funnel Test Ltd;GB33 BUKB 2020 1555 5555 55;BUKBGB22;Barclays"


def shop_environment(instance: Path, settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """The inherited environment without any FUNNEL_ setting, plus the scratch instance."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("FUNNEL_")}
    environment["FUNNEL_INSTANCE_PATH"] = str(instance)
    environment["FUNNEL_RATELIMIT_ENABLED"] = "false"
    # Every test shopper calls from this machine's one address: no share limit on reservations.
    environment["FUNNEL_RESERVATION_MAX_SHARE"] = "100"
    # Bank transfer is offered only with a bank account: test shops have one.
    environment["FUNNEL_BANK_ACCOUNT"] = TEST_BANK_ACCOUNT
    # Product views written in their request: a test reads the funnel at once.
    environment["FUNNEL_ANALYTICS_BATCH_MILLISECONDS"] = "0"
    # Every page rendered afresh: a test sees its own change at once.
    environment["FUNNEL_PAGE_CACHE_SECONDS"] = "0"
    environment.update(settings or {})
    return environment


def run_flask(environment: Mapping[str, str], *arguments: str) -> None:
    command = ["flask", "--app", "funnel", *arguments]
    result = subprocess.run(
        [sys.executable, "-m", *command],
        env=dict(environment),
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


class LiveServer:
    """One gunicorn-served shop; ``start()`` then ``stop()`` (or ``live_server(...)``)."""

    def __init__(
        self,
        instance: Path,
        *,
        database_url: str | None = None,
        workers: int = 2,
        demo_products: int = 0,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.instance = instance
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.demo_products = demo_products
        values = {"FUNNEL_BASE_URL": self.base_url, **(settings or {})}
        if database_url:
            values["FUNNEL_DATABASE_URL"] = database_url
        self.environment = shop_environment(instance, values)
        self.log = instance / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> LiveServer:
        run_flask(self.environment, "db", "upgrade", "heads")
        if self.demo_products:
            run_flask(self.environment, "demo", "--products", str(self.demo_products))
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--no-control-socket",
                    "-w",
                    str(self.workers),
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "120",
                    "funnel:create_app()",
                ],
                env=self.environment,
                cwd=self.instance,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_answering(self.base_url + "/")
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_answering(self, url: str) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"gunicorn exited with {code}:\n{self.logs()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)  # polling a starting server, not waiting for a page
        raise RuntimeError(
            f"gunicorn did not answer {url} in {START_TIMEOUT_SECONDS}s:\n{self.logs()}"
        )

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def live_server(instance: Path, **options: object) -> Iterator[LiveServer]:
    server = LiveServer(instance, **options)  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.stop()

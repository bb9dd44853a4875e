"""US-48: the Procfile, as a Heroku-style platform runs it, started with honcho.

Its ``release`` phase migrates an empty database; ``web`` (gunicorn with the deploy config on
``$PORT``) and ``worker`` (Celery on Redis, ``FUNNEL_TEST_REDIS_URL``) then start together, the
shop answers and is ready (database at head, broker reachable), and the worker takes jobs. Redis
missing skips locally and fails under ``CI=true``.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import missing_service
from tests.support.live_server import free_port, shop_environment

pytestmark = pytest.mark.story("US-48")

ROOT = Path(__file__).resolve().parents[2]
HONCHO = Path(sys.executable).with_name("honcho")
WAIT_SECONDS = 90


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _honcho(no_env_file: Path, *processes: str) -> list[str]:
    """``honcho start`` of ``processes`` from the app's root, as a platform runs them (a developer's
    own ``.env`` is not read: the test's environment is the whole configuration)."""
    return [str(HONCHO), "start", "--env", str(no_env_file), *processes]


PORT_ATTEMPTS = 3


def _start_web_and_worker(
    no_env_file: Path, environment: dict[str, str], log: Path
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``web`` and ``worker`` and wait until the shop is ready and the worker too; the
    running honcho and the shop's port. A port that another test's server took between
    ``free_port`` and gunicorn's bind (other tests start servers in parallel) is not the
    Procfile's fault: the start is tried again on another port."""
    for attempt in range(PORT_ATTEMPTS):
        port = int(environment["PORT"]) if attempt == 0 else free_port()
        environment.update({"PORT": str(port), "FUNNEL_BASE_URL": f"http://127.0.0.1:{port}"})
        with log.open("wb") as output:
            honcho = subprocess.Popen(
                _honcho(no_env_file, "web", "worker"),
                env=environment,
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and not (
            _status(f"http://127.0.0.1:{port}/readyz") == 200
            and " ready." in log.read_text(errors="replace")
        ):
            if honcho.poll() is not None:
                break
            time.sleep(0.2)  # polling starting servers
        output_text = log.read_text(errors="replace")
        is_port_taken = honcho.poll() is not None and "Address already in use" in output_text
        if not is_port_taken or attempt == PORT_ATTEMPTS - 1:
            assert honcho.poll() is None, output_text
            return honcho, port
        honcho.wait(timeout=60)
    raise AssertionError("unreachable")


def test_honcho_runs_the_release_phase_then_the_web_and_worker_processes(tmp_path: Path) -> None:
    redis_url = os.environ.get("FUNNEL_TEST_REDIS_URL")
    if not redis_url:
        missing_service("the Procfile test runs its worker on FUNNEL_TEST_REDIS_URL")
    assert redis_url is not None
    port = free_port()
    instance = tmp_path / "instance"
    instance.mkdir()
    environment = shop_environment(
        instance,
        {
            "FUNNEL_DATABASE_URL": f"sqlite:///{instance / 'funnel.db'}",
            "FUNNEL_CELERY_BROKER_URL": redis_url,
            "FUNNEL_CELERY_QUEUE": f"funnel-procfile-{secrets.token_hex(6)}",
            "FUNNEL_BASE_URL": f"http://127.0.0.1:{port}",
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
            "WORKER_CONCURRENCY": "1",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
    )

    no_env_file = tmp_path / "empty.env"
    no_env_file.write_text("")

    # when the platform runs the release phase on an empty database
    release = subprocess.run(
        _honcho(no_env_file, "release"),
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # then it migrates it and ends well
    assert release.returncode == 0, release.stdout + release.stderr
    assert "Running upgrade" in release.stdout

    # when the web and worker processes start
    log = tmp_path / "honcho.log"
    honcho, port = _start_web_and_worker(no_env_file, environment, log)
    try:
        # then the shop answers on $PORT, ready, and the worker reads the broker
        output = log.read_text(errors="replace")
        assert _status(f"http://127.0.0.1:{port}/readyz") == 200, output
        assert _status(f"http://127.0.0.1:{port}/") == 200
        ready = [
            line.split("|")[0].split()[-1] for line in output.splitlines() if " ready." in line
        ]
        assert ready == ["worker.1"]
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGTERM)
        honcho.wait(timeout=60)

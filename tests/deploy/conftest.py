"""The scaled-out shop (``tests/deploy/scale.py``), started once for the tests that use it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from funnel import create_app
from funnel.extensions import db
from tests.conftest import missing_service
from tests.deploy import stack
from tests.deploy.scale import WORKER, RedisServer, ScaleOut, answers, wait_until
from tests.factories.accounts import KNOWN_PASSWORD, UserFactory
from tests.support.databases import DatabaseProvider
from tests.support.live_server import TEST_BANK_ACCOUNT, free_port, run_flask
from tests.support.mailbox import SmtpServer
from tests.support.tcp_proxy import TcpProxy

CUSTOMER = "scaled@example.com"
GUNICORN_WORKERS = 1
IDEMPOTENCY_LOCK_SECONDS = 5
# Four shop processes start at once: on a busy two-core machine that takes a while.
START_SECONDS = 180


def _environment(instance: str, database_url: str, redis: RedisServer, smtp: SmtpServer) -> dict:
    """The shop's settings on every machine: one database, one Redis, one queue, one key.

    ``FUNNEL_ENV=test`` only because production refuses the test gateway, whose cards the
    buyers pay with; everything else is as production sets it (secure cookies, JSON logs,
    rate limits on)."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("FUNNEL_")}
    return inherited | {
        "FUNNEL_ENV": "test",
        "FUNNEL_SECURE_COOKIES": "true",
        "FUNNEL_LOG_FORMAT": "json",
        "FUNNEL_SECRET_KEY": secrets.token_urlsafe(48),
        "FUNNEL_INSTANCE_PATH": instance,
        "FUNNEL_DATABASE_URL": database_url,
        "FUNNEL_REDIS_URL": redis.url(0),
        "FUNNEL_CELERY_BROKER_URL": redis.url(1),
        "FUNNEL_CELERY_QUEUE": f"funnel-scale-{secrets.token_hex(4)}",
        "FUNNEL_TRUSTED_PROXIES": "1",
        "FUNNEL_MAIL_HOST": smtp.host,
        "FUNNEL_MAIL_PORT": str(smtp.port),
        "FUNNEL_BASE_URL": f"https://{stack.HOST}",
        "FUNNEL_PAYMENT_GATEWAYS": "test,manual",
        "FUNNEL_BANK_ACCOUNT": TEST_BANK_ACCOUNT,
        # A payment cut by a killed worker is taken over after this (60 s by default).
        "FUNNEL_IDEMPOTENCY_LOCK_SECONDS": str(IDEMPOTENCY_LOCK_SECONDS),
    }


def _customer(database_url: str) -> None:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "writer", "SQLALCHEMY_DATABASE_URI": database_url}
    )
    with app.app_context():
        UserFactory(email=CUSTOMER, is_email_verified=True)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="package")
def scale_out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleOut]:
    stack.nginx_binary()  # fails (or skips) first when nginx is not installed
    folder = tmp_path_factory.mktemp("scale-out")
    provider = DatabaseProvider(folder)
    database_url = provider.url_for("postgresql")
    if database_url is None:
        missing_service(provider.missing_reason("postgresql"))
    assert database_url is not None
    redis = RedisServer(folder)
    smtp = SmtpServer()
    proxy = None
    processes = []
    try:
        redis.start()
        smtp.start()
        direct = make_url(database_url)
        proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432).start()
        through_proxy = direct.set(host="127.0.0.1", port=proxy.port)
        instance = folder / "instance"
        instance.mkdir()
        environment = _environment(
            str(instance), through_proxy.render_as_string(hide_password=False), redis, smtp
        )
        run_flask({**environment, "FUNNEL_DATABASE_URL": database_url}, "db", "upgrade", "heads")
        _customer(database_url)
        backends = [free_port(), free_port()]
        logs = [folder / f"gunicorn-{port}.log" for port in backends]
        for port, log in zip(backends, logs, strict=True):
            processes.append(stack.start_gunicorn(environment, port, log, GUNICORN_WORKERS))
        worker_log = folder / "worker.log"
        with worker_log.open("wb") as output:
            processes.append(
                stack.subprocess.Popen(
                    WORKER,
                    env=environment,
                    cwd=instance,
                    stdout=output,
                    stderr=stack.subprocess.STDOUT,
                )
            )
        for port, log, process in zip(backends, logs, processes[:2], strict=True):
            stack.wait_for(
                "gunicorn", lambda port=port: answers(port) == 200, process, log, START_SECONDS
            )
        wait_until("the worker", lambda: " ready." in worker_log.read_text(), worker_log)
        static, media = folder / "static", instance / "media"
        static.mkdir()
        media.mkdir()
        certificate, key = stack.self_signed_certificate(folder)
        prefix = folder / "nginx"
        prefix.mkdir()
        https_port = free_port()
        nginx_process, error_log = stack.start_nginx(
            prefix,
            stack.rendered_site(
                backends=backends,
                http_port=free_port(),
                https_port=https_port,
                certificate=certificate,
                key=key,
                static=static,
                media=media,
            ),
        )
        processes.append(nginx_process)
        client = stack.Client(https_port)
        stack.wait_for(
            "nginx", lambda: client.call("GET", "/healthz").status == 200, processes[-1], error_log
        )
        yield ScaleOut(
            https_port=https_port,
            backends=backends,
            masters=processes[:2],
            logs=logs,
            database_url=database_url,
            mailbox=smtp.mailbox,
            proxy=proxy,
            redis=redis,
            worker_log=worker_log,
            queue=environment["FUNNEL_CELERY_QUEUE"],
            customer=CUSTOMER,
            password=KNOWN_PASSWORD,
        )
    finally:
        for process in reversed(processes):
            stack.stop(process)
        if proxy is not None:
            proxy.stop()
        redis.stop()
        smtp.stop()
        provider.drop_all()

"""US-49: a real Celery worker runs the shop's jobs from a real broker, Redis and RabbitMQ.

A worker process (``celery -A funnel.worker worker``, as ``make worker`` runs it) reads a queue
of its own on the broker; the shop in this process sends its jobs there. An order placed over the
API has its confirmation email sent by the worker to a real SMTP server, and beat's job for
expired stock reservations, sent as beat sends it, deletes them in the worker. Redis comes from
``FUNNEL_TEST_REDIS_URL``, RabbitMQ from ``FUNNEL_TEST_AMQP_URL``: missing, each skips locally
and fails under ``CI=true``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from kombu import Connection

from funnel import create_app
from funnel.core import clock
from funnel.core.database import transaction
from funnel.core.outbox import PendingJob, relay_pending_jobs
from funnel.extensions import db
from funnel.inventory.models import StockReservation
from funnel.inventory.tasks import DELETE_EXPIRED_RESERVATIONS
from funnel.orders.emails import SEND_ORDER_EMAIL
from tests.conftest import missing_service
from tests.factories.inventory import StockReservationFactory, stocked_variant
from tests.support.api_carts import CARTS, CHECKOUTS, card, checkout_body, guest_cart
from tests.support.live_server import run_flask, shop_environment
from tests.support.mailbox import Mailbox, SmtpServer

pytestmark = pytest.mark.story("US-49")

BROKERS = {"redis": "FUNNEL_TEST_REDIS_URL", "rabbitmq": "FUNNEL_TEST_AMQP_URL"}
WAIT_SECONDS = 60
# A broker address where nothing listens: the web process's broker is down.
DEAD_ADDRESS = "127.0.0.1:1"
# ``make worker``'s command, one process reading one queue, without chatter between workers.
WORKER = (
    *(sys.executable, "-m", "celery", "-A", "funnel.worker", "worker", "--loglevel=INFO"),
    *("--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat"),
)


@dataclass(frozen=True)
class WorkerShop:
    """A shop whose jobs go to ``queue`` on a real broker, read by a worker process."""

    app: Flask
    mailbox: Mailbox
    worker_log: Path
    database_url: str
    broker_url: str
    queue: str

    def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)  # polling another process's work, not timing it
        log = self.worker_log.read_text(errors="replace")
        raise AssertionError(f"{what} did not happen in {WAIT_SECONDS}s; the worker's log:\n{log}")


def _broker_url(kind: str) -> str:
    url = os.environ.get(BROKERS[kind])
    if not url:
        missing_service(f"the {kind} broker test needs {BROKERS[kind]}")
    assert url is not None
    try:
        with Connection(url, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as error:  # any failure to connect means "not reachable"
        missing_service(f"{kind} is not reachable at {BROKERS[kind]}: {error}")
    return url


def _wait_until_ready(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited:\n{log.read_text(errors='replace')}")
        if " ready." in log.read_text(errors="replace"):
            return
        time.sleep(0.1)  # polling a starting worker
    raise RuntimeError(f"the worker did not start:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module", params=sorted(BROKERS))
def worker_shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerShop]:
    """One worker per broker, shared by this module's tests (each starts in about 10 s)."""
    broker = _broker_url(request.param)
    tmp_path = tmp_path_factory.mktemp(f"worker-{request.param}")
    queue = f"funnel-test-{secrets.token_hex(6)}"
    smtp = SmtpServer()
    smtp.start()
    instance = tmp_path / "instance"
    instance.mkdir()
    database_url = f"sqlite:///{instance / 'funnel.db'}"
    environment = shop_environment(
        instance,
        {
            "FUNNEL_DATABASE_URL": database_url,
            "FUNNEL_CELERY_BROKER_URL": broker,
            "FUNNEL_CELERY_QUEUE": queue,
            "FUNNEL_MAIL_HOST": smtp.host,
            "FUNNEL_MAIL_PORT": str(smtp.port),
            "FUNNEL_BASE_URL": "http://shop.example.com",
        },
    )
    run_flask(environment, "db", "upgrade", "heads")
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [*WORKER, "--hostname", f"{queue}@%h"],
            env=environment,
            cwd=instance,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_ready(worker, log)
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": database_url,
                "CELERY_BROKER_URL": broker,
                "CELERY_QUEUE": queue,
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            yield WorkerShop(app, smtp.mailbox, log, database_url, broker, queue)
            db.session.remove()
            db.engine.dispose()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        smtp.stop()
        with Connection(broker) as connection:
            connection.default_channel.queue_delete(queue)


def test_the_worker_sends_the_order_email_of_an_order_placed_over_the_api(
    worker_shop: WorkerShop,
) -> None:
    # given a product in stock, in a shop whose jobs go to the broker
    variant = stocked_variant(3)
    client = worker_shop.app.test_client()

    # when a guest buys it over the API
    cart_id, headers = guest_cart(client)
    added = client.post(
        f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id, "quantity": 1}, headers=headers
    )
    started = client.post(CHECKOUTS, json=checkout_body(cart_id), headers=headers)
    completed = client.post(
        f"{CHECKOUTS}/{started.get_json()['id']}/complete",
        json={"payment_method": "test", "card": card()},
        headers=headers,
    )

    # then the order is paid at once, and its email reaches the guest from the worker
    assert (added.status_code, started.status_code, completed.status_code) == (201, 201, 200)
    number = completed.get_json()["order"]["number"]
    worker_shop.wait_for(
        "the order email", lambda: len(worker_shop.mailbox.to("ann@example.com")) == 1
    )
    [email] = worker_shop.mailbox.to("ann@example.com")
    assert number in email["Subject"]
    # (the worker logs the task's success just after the email left: wait for the line too)
    worker_shop.wait_for(
        "the worker's log of the task",
        lambda: "succeeded in" in worker_shop.worker_log.read_text(errors="replace"),
    )
    assert f"Task {SEND_ORDER_EMAIL}[" in worker_shop.worker_log.read_text(errors="replace")


def test_beat_s_job_sent_to_the_broker_deletes_expired_reservations_in_the_worker(
    worker_shop: WorkerShop,
) -> None:
    # given a reservation that expired a minute ago and one that holds for ten more
    now = clock.utcnow()
    StockReservationFactory(holder="gone", expires_at=now - timedelta(minutes=1))
    StockReservationFactory(holder="holding", expires_at=now + timedelta(minutes=10))

    # when beat's periodic job arrives on the broker, as beat sends it
    worker_shop.app.extensions["celery"].send_task(DELETE_EXPIRED_RESERVATIONS)

    # then the worker deletes the expired one only
    def holders() -> list[str]:
        db.session.rollback()
        return list(db.session.scalars(sa.select(StockReservation.holder)))

    worker_shop.wait_for("the reservation's deletion", lambda: holders() == ["holding"])
    assert f"Task {DELETE_EXPIRED_RESERVATIONS}[" in worker_shop.worker_log.read_text()


def _buy(client: FlaskClient, email: str) -> str:
    """A guest's purchase over the API; the order's number."""
    variant = stocked_variant(3)
    cart_id, headers = guest_cart(client)
    client.post(
        f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id, "quantity": 1}, headers=headers
    )
    started = client.post(CHECKOUTS, json=checkout_body(cart_id, email=email), headers=headers)
    completed = client.post(
        f"{CHECKOUTS}/{started.get_json()['id']}/complete",
        json={"payment_method": "test", "card": card()},
        headers=headers,
    )
    assert completed.status_code == 200, completed.get_data(as_text=True)
    return completed.get_json()["order"]["number"]


def test_an_order_placed_while_the_broker_is_down_gets_its_email_once_it_is_back(
    worker_shop: WorkerShop,
) -> None:
    # given the shop's web process cut off from its broker (nothing listens at its address)
    dead = urlsplit(worker_shop.broker_url)._replace(netloc=f"{DEAD_ADDRESS}").geturl()
    cut_off = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": worker_shop.database_url,
            "CELERY_BROKER_URL": dead,
            "CELERY_QUEUE": worker_shop.queue,
            "RATELIMIT_ENABLED": False,
        }
    )

    # when a guest buys: the order is placed and paid all the same
    with cut_off.app_context():
        number = _buy(cut_off.test_client(), "outage@example.com")
        kept = [(job.task, job.attempts) for job in db.session.scalars(sa.select(PendingJob))]
        db.session.remove()
        db.engine.dispose()

    # then its email waits in the outbox, sent to no one
    assert kept == [(SEND_ORDER_EMAIL, 1)]
    assert worker_shop.mailbox.to("outage@example.com") == []

    # when the broker is back and beat's relay job runs (the row is old enough to be relayed)
    with transaction():
        db.session.execute(
            sa.update(PendingJob).values(created_at=clock.utcnow() - timedelta(minutes=1))
        )
    with worker_shop.app.test_request_context():
        sent = relay_pending_jobs()

    # then the worker sends the email, once, and the outbox is empty
    assert sent == 1
    worker_shop.wait_for(
        "the delayed order email", lambda: len(worker_shop.mailbox.to("outage@example.com")) == 1
    )
    [email] = worker_shop.mailbox.to("outage@example.com")
    assert number in email["Subject"]
    db.session.rollback()
    assert db.session.scalars(sa.select(PendingJob)).all() == []

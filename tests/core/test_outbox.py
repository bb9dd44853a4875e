"""US-49: the job outbox. With a broker, a job is written in the transaction of the work that
asks for it and kept until the broker takes it: a rolled-back order sends nothing, and a broker
that is down loses nothing (``tests/core/test_worker_broker.py`` sees the email arrive once the
broker is back). Without a broker, jobs run in-process and nothing is written."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.core import clock
from funnel.core.database import transaction
from funnel.core.outbox import PendingJob, relay_pending_jobs, send_after_commit
from funnel.core.tasks import DELETE_EXPIRED_IDEMPOTENCY_KEYS
from funnel.extensions import db
from tests.factories.orders import paid_order
from tests.support.mailbox import Mailbox

pytestmark = pytest.mark.story("US-49")

# A broker address where nothing listens.
DOWN = pytest.mark.config(CELERY_BROKER_URL="redis://127.0.0.1:1/0")


def pending() -> list[tuple[str, str, int]]:
    db.session.rollback()
    rows = db.session.scalars(sa.select(PendingJob).order_by(PendingJob.id))
    return [(job.task, job.arguments, job.attempts) for job in rows]


def age_every_job(minutes: int) -> None:
    with transaction():
        db.session.execute(
            sa.update(PendingJob).values(created_at=clock.utcnow() - timedelta(minutes=minutes))
        )


@DOWN
def test_a_rolled_back_transaction_leaves_no_job(app: Flask) -> None:
    def change_of_mind() -> None:
        with transaction():
            send_after_commit(DELETE_EXPIRED_IDEMPOTENCY_KEYS)
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        change_of_mind()

    assert pending() == []


@DOWN
def test_a_job_the_broker_refuses_is_kept_with_its_arguments_and_attempts(app: Flask) -> None:
    with transaction():
        send_after_commit(DELETE_EXPIRED_IDEMPOTENCY_KEYS, 3, note="é")

    assert pending() == [
        (DELETE_EXPIRED_IDEMPOTENCY_KEYS, '{"args": [3], "kwargs": {"note": "\\u00e9"}}', 1)
    ]
    [error] = db.session.scalars(sa.select(PendingJob.last_error)).all()
    assert error != ""


@DOWN
def test_the_relay_leaves_young_jobs_and_retries_old_ones_while_the_broker_is_down(
    app: Flask,
) -> None:
    send_after_commit(DELETE_EXPIRED_IDEMPOTENCY_KEYS)
    send_after_commit(DELETE_EXPIRED_IDEMPOTENCY_KEYS)

    # a job still being handed over by its request is not the relay's
    assert relay_pending_jobs() == 0
    assert [attempts for _task, _arguments, attempts in pending()] == [1, 1]

    # an old one is tried again; the broker still down, the relay stops at the first refusal
    age_every_job(minutes=5)
    assert relay_pending_jobs() == 0
    assert [attempts for _task, _arguments, attempts in pending()] == [2, 1]


def test_without_a_broker_jobs_run_in_process_and_nothing_is_kept(
    app: Flask, mailbox: Mailbox
) -> None:
    order = paid_order(email="in-process@example.com")

    assert pending() == []
    assert [message["Subject"] for message in mailbox.to("in-process@example.com")] == [
        f"Order {order.number} confirmed"
    ]

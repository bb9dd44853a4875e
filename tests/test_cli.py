"""The operators' job commands: ``flask --app funnel jobs list`` and ``jobs run NAME``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from funnel.core import clock
from funnel.extensions import db
from funnel.inventory import queries
from funnel.inventory.models import StockReservation
from tests.factories.inventory import StockReservationFactory, stocked_variant

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
JOBS = [
    "accounts-delete-expired-sign-ins",
    "analytics-delete-old-events",
    "cart-delete-stale-carts",
    "checkout-expire-checkouts",
    "checkout-reconcile-charges",
    "core-delete-expired-idempotency-keys",
    "core-relay-pending-jobs",
    "core-delete-old-request-minutes",
    "inventory-delete-expired-reservations",
    "orders-cancel-overdue-manual-orders",
    "payments-deliver-test-webhooks",
    "reports-summarise-funnel",
]


def holders() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(StockReservation.holder).order_by(StockReservation.id)))


@pytest.mark.story("US-49")
@pytest.mark.backends("sqlite")  # reads the schedule only
def test_jobs_list_names_each_periodic_job_with_its_interval_and_purpose(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["jobs", "list"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == JOBS
    assert lines[JOBS.index("inventory-delete-expired-reservations")].split(None, 1)[1] == (
        "every 1 min     Delete expired stock reservations; returns how many."
    )
    assert "every 5 s " in lines[JOBS.index("payments-deliver-test-webhooks")]
    assert "every 24 h " in lines[JOBS.index("cart-delete-stale-carts")]


@pytest.mark.story("US-49")
def test_jobs_run_releases_an_expired_reservation(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a reservation that lapsed a second ago and one still held, on a 5-unit variant
    monkeypatch.setattr(clock, "utcnow", lambda: NOON)
    variant = stocked_variant(5)
    StockReservationFactory(
        variant_id=variant.id, holder="lapsed", quantity=2, expires_at=NOON - timedelta(seconds=1)
    )
    StockReservationFactory(
        variant_id=variant.id, holder="held", quantity=1, expires_at=NOON + timedelta(minutes=5)
    )

    # when the operator runs the expiry job once
    result = app.test_cli_runner().invoke(
        args=["jobs", "run", "inventory-delete-expired-reservations"]
    )

    # then the lapsed reservation is gone, the held one stays, and the command says how many
    assert result.exit_code == 0, result.output
    assert result.output == "inventory-delete-expired-reservations: done (1)\n"
    assert holders() == ["held"]
    assert queries.available_quantities([variant.id]) == {variant.id: 4}


def test_every_listed_job_runs_on_an_empty_shop(app: Flask) -> None:
    runner = app.test_cli_runner()

    outputs = [runner.invoke(args=["jobs", "run", name]) for name in JOBS]

    results = {
        "checkout-expire-checkouts": "(0, 0)",
        "checkout-reconcile-charges": (
            "{'matched': 0, 'paid': 0, 'refunded': 0, 'foreign': 0, 'unresolved': 0, "
            "'missing_charge': 0, 'missing_refund': 0}"
        ),
        "reports-summarise-funnel": (
            "{'time_zone': 'UTC', 'days': 0, 'late_events': 0, 'summarised_through': None, "
            "'started_again': False}"
        ),
    }
    assert [(result.exit_code, result.output) for result in outputs] == [
        (0, f"{name}: done ({results.get(name, 0)})\n") for name in JOBS
    ]


@pytest.mark.story("US-49")
@pytest.mark.backends("sqlite")
def test_an_unknown_job_is_a_clear_error_and_a_failing_exit(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["jobs", "run", "delete-everything"])

    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: No job named 'delete-everything'. The jobs are: {', '.join(JOBS)} "
        "(flask --app funnel jobs list)."
    )


@pytest.mark.backends("sqlite")
def test_a_failing_job_says_so_and_exits_1(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> int:
        raise RuntimeError("database is on fire")

    monkeypatch.setattr("funnel.inventory.services.delete_expired_reservations", broken)

    result = app.test_cli_runner().invoke(
        args=["jobs", "run", "inventory-delete-expired-reservations"]
    )

    assert result.exit_code == 1
    assert result.output == (
        "Error: The job inventory-delete-expired-reservations failed: database is on fire\n"
    )

"""Idempotency keys: replay, reuse with another body, a request still running, per caller.

A small operation registered for these tests counts how often its work really ran (rows in a
table of its own would need a migration: the calls are counted in memory instead, and the
stored records are read from the real ``idempotency_keys`` table).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, request
from flask.testing import FlaskClient
from flask_smorest import Blueprint

from funnel.core import clock
from funnel.core.errors import Conflict, ValidationFailed
from funnel.core.idempotency import (
    LOCK_SECONDS,
    IdempotencyRecord,
    delete_expired_keys,
    idempotent,
)
from funnel.extensions import db
from tests.support.api import problem

# The probe adds its own routes to the app.
pytestmark = pytest.mark.own_app

URL = "/api/test/idempotency-probe"
KEY = {"Idempotency-Key": "5f1c3c1e-9e0e-4c43-9a7e-0c4c1e2f0a11"}
ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}


class Probe:
    """The operation under test: it records each run; ``gate`` can hold a run mid-way."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.entered = threading.Event()
        self.gate: threading.Event | None = None


@pytest.fixture
def probe(app: Flask) -> Probe:
    state = Probe()
    bp = Blueprint("idempotency_probe", __name__)

    @bp.route(URL, methods=["POST"])
    @idempotent(bp)
    def create_thing() -> Any:
        body = dict(request.get_json(silent=True) or {})
        state.entered.set()
        if state.gate is not None:
            state.gate.wait(10)
        if body.get("fail") == "domain":
            raise Conflict("Sold out.")
        if body.get("fail") == "validation":
            raise ValidationFailed("Bad.", fields={"name": ["Bad."]})
        if body.get("fail") == "crash":
            raise RuntimeError("the worker fell over")
        state.runs.append(body)
        return {"run": len(state.runs), "name": body.get("name")}, 201, {"Location": "/things/1"}

    @bp.route("/api/test/idempotency-probe-required", methods=["POST"])
    @idempotent(bp, required=True)
    def create_required_thing() -> Any:
        state.runs.append({})
        return {"run": len(state.runs)}, 201

    app.register_blueprint(bp)
    return state


def records() -> list[tuple[str, int | None]]:
    rows = db.session.execute(
        sa.select(IdempotencyRecord.key, IdempotencyRecord.response_status).order_by(
            IdempotencyRecord.id
        )
    )
    return [tuple(row) for row in rows]


def test_a_retry_with_the_same_key_and_body_gets_the_stored_response(
    client: FlaskClient, probe: Probe
) -> None:
    first = client.post(URL, json={"name": "lamp"}, headers=KEY | ALICE)
    again = client.post(
        URL, data='{ "name" :  "lamp" }', headers=KEY | ALICE, content_type="application/json"
    )

    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == "/things/1"
    assert again.get_json() == first.get_json() == {"run": 1, "name": "lamp"}
    assert probe.runs == [{"name": "lamp"}]
    assert records() == [(KEY["Idempotency-Key"], 201)]


def test_the_same_key_with_another_body_is_refused_and_runs_nothing(
    client: FlaskClient, probe: Probe
) -> None:
    client.post(URL, json={"name": "lamp"}, headers=KEY | ALICE)

    reused = client.post(URL, json={"name": "chair"}, headers=KEY | ALICE)

    problem(reused, 422, "idempotency_key_reused")
    assert probe.runs == [{"name": "lamp"}]


def test_keys_belong_to_their_caller(client: FlaskClient, probe: Probe) -> None:
    alice = client.post(URL, json={"name": "lamp"}, headers=KEY | ALICE)
    bob = client.post(URL, json={"name": "lamp"}, headers=KEY | BOB)

    assert (alice.get_json()["run"], bob.get_json()["run"]) == (1, 2)
    assert "Idempotent-Replayed" not in bob.headers
    assert len(probe.runs) == 2


def test_without_a_key_every_request_runs(client: FlaskClient, probe: Probe) -> None:
    client.post(URL, json={"name": "lamp"}, headers=ALICE)
    client.post(URL, json={"name": "lamp"}, headers=ALICE)

    assert len(probe.runs) == 2
    assert records() == []


def test_an_operation_that_requires_a_key_refuses_a_request_without_one(
    client: FlaskClient, probe: Probe
) -> None:
    response = client.post("/api/test/idempotency-probe-required", json={}, headers=ALICE)

    body = problem(response, 422, "validation_failed")
    assert list(body["fields"]) == ["Idempotency-Key"]
    assert probe.runs == []


@pytest.mark.parametrize("key", ["", " ", "k" * 256, "clé", "tab\there"])
def test_a_malformed_key_is_refused(client: FlaskClient, probe: Probe, key: str) -> None:
    response = client.post(URL, json={}, headers={"Idempotency-Key": key} | ALICE)

    problem(response, 422, "validation_failed")
    assert probe.runs == []
    assert records() == []


def test_a_final_refusal_is_stored_and_replayed(client: FlaskClient, probe: Probe) -> None:
    first = client.post(URL, json={"fail": "validation"}, headers=KEY | ALICE)
    again = client.post(URL, json={"fail": "validation"}, headers=KEY | ALICE)

    problem(first, 422, "validation_failed")
    problem(again, 422, "validation_failed")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.mimetype == "application/problem+json"
    assert records() == [(KEY["Idempotency-Key"], 422)]


def test_a_conflict_frees_the_key_for_a_later_try(client: FlaskClient, probe: Probe) -> None:
    refused = client.post(URL, json={"fail": "domain"}, headers=KEY | ALICE)

    problem(refused, 409, "conflict")
    assert records() == []


def test_a_server_error_frees_the_key(app: Flask, client: FlaskClient, probe: Probe) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    crashed = client.post(URL, json={"fail": "crash"}, headers=KEY | ALICE)

    assert crashed.status_code == 500
    assert records() == []


def test_the_same_key_while_the_first_request_runs_is_a_409(app: Flask, probe: Probe) -> None:
    probe.gate = threading.Event()
    answers: dict[str, Any] = {}

    def first() -> None:
        answers["first"] = app.test_client().post(URL, json={"name": "lamp"}, headers=KEY | ALICE)

    worker = threading.Thread(target=first)
    worker.start()
    assert probe.entered.wait(10)
    try:
        during = app.test_client().post(URL, json={"name": "lamp"}, headers=KEY | ALICE)
    finally:
        probe.gate.set()
        worker.join(10)
    after = app.test_client().post(URL, json={"name": "lamp"}, headers=KEY | ALICE)

    problem(during, 409, "idempotency_request_in_progress")
    assert answers["first"].status_code == 201
    assert after.headers["Idempotent-Replayed"] == "true"
    assert probe.runs == [{"name": "lamp"}]


def test_a_request_whose_worker_died_is_taken_over(client: FlaskClient, probe: Probe) -> None:
    first = client.post(URL, json={"name": "lamp"}, headers=KEY | ALICE)
    assert first.status_code == 201
    record = db.session.scalar(
        sa.select(IdempotencyRecord).where(IdempotencyRecord.key == KEY["Idempotency-Key"])
    )
    assert record is not None
    stale = clock.utcnow() - timedelta(seconds=LOCK_SECONDS + 1)
    db.session.execute(
        sa.update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record.id)
        .values(response_status=None, locked_at=stale)
    )
    db.session.commit()

    retried = client.post(URL, json={"name": "lamp"}, headers=KEY | ALICE)

    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert [run["name"] for run in probe.runs] == ["lamp", "lamp"]


def test_keys_are_kept_a_day_then_deleted(app: Flask, client: FlaskClient, probe: Probe) -> None:
    client.post(URL, json={"name": "lamp"}, headers=KEY | ALICE)
    day_old = clock.utcnow() - timedelta(hours=24, seconds=1)
    db.session.add(
        IdempotencyRecord(scope="0" * 64, key="old", request_hash="x", created_at=day_old)
    )
    db.session.commit()

    assert delete_expired_keys() == 1
    assert records() == [(KEY["Idempotency-Key"], 201)]

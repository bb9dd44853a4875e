"""Structured logs: one JSON object per line on standard output, one line per request with its
request id, the id carried into background jobs, and no secret ever written."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from funnel.catalog.models import Variant
from funnel.core import logs
from funnel.extensions import db
from tests.checkout.helpers import CARD_SUCCEEDS, add_to_cart, go_to_pay, pay
from tests.factories.accounts import KNOWN_PASSWORD
from tests.factories.catalog import ProductFactory
from tests.support.api import live_token

pytestmark = pytest.mark.story("US-53")

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def json_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[Lines]:
    """Logs as production writes them (JSON on standard output); call it to read the lines
    written so far, each parsed (a line that is not one JSON object fails the test)."""
    logs.configure_logging("json", "info")
    capsys.readouterr()

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]

    yield read
    logs.remove_logging()


@pytest.fixture
def mug(app: Flask) -> Any:
    ProductFactory(
        title="Blue mug", variants=[{"sku": "MUG-1", "price": 1200, "stock_quantity": 5}]
    )
    return db.session.scalars(select(Variant).where(Variant.sku == "MUG-1")).one()


def request_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "funnel.request"]


def test_a_request_writes_one_json_line_with_its_id(client: FlaskClient, json_lines: Lines) -> None:
    response = client.get("/", headers={"X-Request-ID": "lb-7f3a9c2e-0001"})

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "lb-7f3a9c2e-0001"
    [line] = request_lines(json_lines())
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "method",
        "path",
        "status",
        "duration_ms",
        "user_id",
    }
    assert datetime.fromisoformat(line["time"]).utcoffset() == UTC.utcoffset(None)
    assert line["level"] == "INFO"
    assert line["message"] == "GET / 200"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/", 200)
    assert line["request_id"] == "lb-7f3a9c2e-0001"
    assert line["user_id"] is None
    assert isinstance(line["duration_ms"], float)


@pytest.mark.parametrize(
    "given", ["", "short", "has space in it", "x" * 129, "<script>alert(1)</script>", "ab;cd=ef/gh"]
)
def test_a_missing_or_malformed_request_id_is_replaced(
    client: FlaskClient, json_lines: Lines, given: str
) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": given} if given else {})

    generated = response.headers["X-Request-ID"]
    assert len(generated) == 32
    assert generated != given
    assert request_lines(json_lines())[0]["request_id"] == generated


def test_each_request_gets_its_own_id(client: FlaskClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]

    assert first != second


def test_the_signed_in_user_is_named(
    app: Flask, customer: Any, signed_in: Any, json_lines: Lines
) -> None:
    browser = signed_in(customer)

    assert browser.get("/account").status_code == 200

    [line] = request_lines(json_lines())
    assert line["user_id"] == customer.id


def test_a_secret_in_the_path_and_the_query_string_are_not_logged(
    client: FlaskClient, json_lines: Lines
) -> None:
    client.get("/account/password/reset/s3cret-reset-token-value?email=ann@example.com")

    output = json.dumps(json_lines())
    assert "s3cret-reset-token-value" not in output
    assert "ann@example.com" not in output
    assert '"path": "/account/password/reset/<token>"' in output


@pytest.mark.own_app
def test_a_500_logs_the_exception_with_the_request_id_shown_on_the_error_page(
    app: Flask, client: FlaskClient, json_lines: Lines
) -> None:
    @app.get("/__broken")
    def broken() -> str:
        raise RuntimeError("the flux capacitor melted")

    response = client.get("/__broken", headers={"X-Request-ID": "support-ticket-4711"})

    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "support-ticket-4711"
    page = response.get_data(as_text=True)
    assert '<code id="request-id">support-ticket-4711</code>' in page
    lines = json_lines()
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == "support-ticket-4711"
    assert error["message"] == "unhandled error"
    assert "RuntimeError: the flux capacitor melted" in error["exception"]
    assert request_lines(lines)[0]["status"] == 500


@pytest.mark.own_app
def test_an_api_500_names_its_request_id_in_the_problem_body(
    app: Flask, client: FlaskClient, json_lines: Lines
) -> None:
    @app.get("/api/v1/__broken")
    def broken() -> str:
        raise RuntimeError("the flux capacitor melted")

    response = client.get("/api/v1/__broken", headers={"X-Request-ID": "support-ticket-4712"})
    missing = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "support-ticket-4713"})

    assert (response.status_code, response.mimetype) == (500, "application/problem+json")
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Something went wrong",
        "status": 500,
        "detail": "An unexpected error happened on our side. It has been logged.",
        "code": "internal_error",
        "request_id": "support-ticket-4712",
    }
    assert "flux capacitor" not in response.get_data(as_text=True)
    [error] = [line for line in json_lines() if line["level"] == "ERROR"]
    assert error["request_id"] == "support-ticket-4712"
    # a client's own mistake carries no id: there is nothing for support to look up
    assert missing.status_code == 404
    assert "request_id" not in missing.get_json()


def test_text_logs_in_development_carry_the_request_id(
    client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure_logging("text", "info")
    try:
        capsys.readouterr()
        client.get("/healthz", headers={"X-Request-ID": "dev-request-0001"})
        output = capsys.readouterr().out
    finally:
        logs.remove_logging()

    assert " INFO funnel.request [dev-request-0001] GET /healthz 200" in output


def test_a_full_purchase_logs_no_password_card_session_or_token(
    app: Flask, customer: Any, mug: Any, json_lines: Lines, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    # a wrong password first, then the right one: neither may be written down
    client.post(
        "/account/sign-in", data={"email": customer.email, "password": "Wr0ng-passw0rd-xyz"}
    )
    signed = client.post(
        "/account/sign-in", data={"email": customer.email, "password": KNOWN_PASSWORD}
    )
    assert signed.status_code in (302, 303)
    session_cookie = client.get_cookie("funnel_session")
    assert session_cookie is not None

    add_to_cart(client, mug, 1)
    token = go_to_pay(client, email=customer.email)
    paid = pay(client, token, CARD_SUCCEEDS)
    assert paid.status_code == 303, paid.get_data(as_text=True)[:500]
    api_token = live_token(customer)
    orders = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {api_token}"})
    assert orders.status_code == 200
    assert len(orders.get_json()["items"]) == 1

    lines = json_lines()
    assert len(request_lines(lines)) == 10  # every request of the purchase, one line each
    output = json.dumps(lines) + caplog.text
    for secret in (
        KNOWN_PASSWORD,
        "Wr0ng-passw0rd-xyz",
        CARD_SUCCEEDS,
        CARD_SUCCEEDS.replace(" ", ""),
        session_cookie.value,
        api_token,
        token,
    ):
        assert secret not in output


@pytest.mark.backends("sqlite")
def test_a_job_logs_the_id_of_the_request_that_enqueued_it(app: Flask, json_lines: Lines) -> None:
    # given a worker consuming from a broker, and a job sent while a request is served
    worker_app = Celery("log-test", broker="memory://", set_as_current=False)
    worker_app.conf.update(
        task_ignore_result=True, result_backend=None, worker_hijack_root_logger=False
    )
    ran = threading.Event()

    @worker_app.task(name="log_test.shout")
    def shout() -> None:
        logging.getLogger("funnel.jobs.test").info("the job ran")
        ran.set()

    with app.test_request_context(headers={"X-Request-ID": "checkout-req-0042"}):
        app.preprocess_request()
        shout.delay()
        app.do_teardown_request()

    # when the worker runs it
    with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert ran.wait(10)

    # then the job's log line carries the request's id
    [line] = [line for line in json_lines() if line["message"] == "the job ran"]
    assert line["request_id"] == "checkout-req-0042"
    assert logs.current_request_id() is None


@pytest.mark.own_app
@pytest.mark.backends("sqlite")
def test_a_failed_statement_logs_no_parameters(
    app: Flask, client: FlaskClient, json_lines: Lines
) -> None:
    # given a request whose statement fails with a customer's data among its parameters
    @app.get("/__bad-insert")
    def bad_insert() -> str:
        db.session.execute(
            text("INSERT INTO users (email) VALUES (:email)"), {"email": "ann.secret@example.com"}
        )
        return "unreachable"

    response = client.get("/__bad-insert")

    # then the 500 is logged with its exception, without the parameters
    assert response.status_code == 500
    lines = json_lines()
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert "IntegrityError" in error["exception"]
    assert "ann.secret@example.com" not in json.dumps(lines)


def test_a_card_number_in_a_path_is_masked(client: FlaskClient, json_lines: Lines) -> None:
    client.get("/p/4242-4242-4242-4242")

    output = json.dumps(json_lines())
    assert "4242-4242-4242-4242" not in output
    assert "/p/[card number]" in output


@pytest.mark.parametrize(
    "text",
    [
        "card 4242 4242 4242 4242, expiring",
        "4242-4242-4242-4242",
        '{"number": "4000000000000002"}',
        "/p/4111111111111111?",
    ],
)
def test_a_card_number_is_masked_however_it_is_written(text: str) -> None:
    masked = logs.mask_card_numbers(text)

    assert "[card number]" in masked
    assert not any(character.isdigit() for character in masked)


@pytest.mark.parametrize(
    "identifier",
    [
        # job ids whose digits run 13 and more in a row, across the dashes
        "12345678-1234-4567-8abc-def012345678",
        "0e07f6e2-1234-4567-8901-234567890abc",
        "abcdef01-2345-4678-9012-345678901234",
    ],
)
def test_a_job_id_with_a_long_run_of_digits_is_logged_whole(identifier: str) -> None:
    line = f"Task funnel.orders.send_order_email[{identifier}] succeeded"

    assert logs.mask_card_numbers(line) == line

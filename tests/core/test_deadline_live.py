"""Under gunicorn, a request past the shop's deadline is answered by the shop (a 503 problem
with Retry-After), well before gunicorn's worker timeout would kill the worker."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from funnel.catalog.models import Variant
from funnel.core.idempotency import IdempotencyRecord
from funnel.extensions import db
from tests.checkout.helpers import CARD_SUCCEEDS, expiry
from tests.checkout.test_api_concurrency import call
from tests.factories.catalog import ProductFactory
from tests.support.api_carts import ADDRESS
from tests.support.shops import shop_on


@pytest.mark.story("US-44")
def test_a_request_past_the_deadline_under_gunicorn_is_a_503_problem(tmp_path: Path) -> None:
    # given a shop whose gateway takes 5 s to answer, a deadline of 1 s (gunicorn's: 120 s)
    settings = {"FUNNEL_TEST_GATEWAY_LATENCY_MS": "5000", "FUNNEL_REQUEST_TIMEOUT_SECONDS": "1"}
    with shop_on("sqlite", tmp_path, settings=settings, workers=1) as (server, app):
        with app.app_context():
            ProductFactory(variants=[{"sku": "SLOW-1", "price": 1500, "stock_quantity": 3}])
            variant_id = db.session.scalars(sa.select(Variant.id)).one()
        base = server.base_url
        _, _, cart = call(base, "POST", "/api/v1/carts")
        secret = {"Cart-Secret": cart["secret"]}
        line = {"variant_id": variant_id, "quantity": 1}
        call(base, "POST", f"/api/v1/carts/{cart['id']}/lines", line, secret)
        details = {"cart_id": cart["id"], "email": "slow@example.com",
                   "shipping_address": ADDRESS, "shipping_method": "standard"}  # fmt: skip
        _, _, checkout = call(base, "POST", "/api/v1/checkouts", details, secret)
        payment = {
            "payment_method": "test",
            "card": {"number": CARD_SUCCEEDS, "expiry": expiry(), "cvc": "123"},
        }

        # when the checkout is paid through the slow gateway
        started = time.monotonic()
        status, headers, body = call(
            base,
            "POST",
            f"/api/v1/checkouts/{checkout['id']}/complete",
            payment,
            secret | {"Idempotency-Key": "slow-payment-1"},
        )
        elapsed = time.monotonic() - started

        # then the shop answers a 503 problem after about a second, and frees the key
        assert (status, body["code"]) == (503, "request_timeout"), body
        assert headers["Content-Type"] == "application/problem+json"
        assert headers["Retry-After"] == "10"
        assert elapsed < 4
        with app.app_context():
            assert db.session.scalars(sa.select(IdempotencyRecord.key)).all() == []

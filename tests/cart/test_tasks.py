"""US-18: carts untouched for ``CART_RETENTION_DAYS`` (30 by default) are deleted by a daily job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from funnel.cart import tasks
from funnel.cart.models import Cart
from funnel.core import clock
from funnel.extensions import db
from tests.cart.helpers import all_lines
from tests.factories.cart import cart_with
from tests.factories.inventory import stocked_variant

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    now = [NOON]
    monkeypatch.setattr(clock, "utcnow", lambda: now[0])
    return now


def cart_ids() -> list[int]:
    db.session.commit()
    return list(db.session.scalars(select(Cart.id).order_by(Cart.id)))


@pytest.mark.story("US-18")
def test_the_job_deletes_carts_untouched_for_30_days(app: Flask, frozen: list[datetime]) -> None:
    # given carts last touched 45, 31, 30 and 2 days ago
    frozen[0] = NOON - timedelta(days=45)
    variant = stocked_variant(50)
    ages = {}
    for age in (45, 31, 30, 2):
        frozen[0] = NOON - timedelta(days=age, seconds=-1 if age == 30 else 0)
        ages[age] = cart_with({variant: 1}).id

    # when the job runs now (eagerly: no broker in tests)
    frozen[0] = NOON
    deleted = tasks.delete_stale_carts.delay().get()

    # then the two older than 30 days are gone, with their lines
    assert deleted == 2
    assert cart_ids() == [ages[30], ages[2]]
    assert sorted(cart_id for cart_id, _, _ in all_lines()) == [ages[30], ages[2]]


@pytest.mark.config(CART_RETENTION_DAYS=7)
def test_the_retention_is_a_setting(app: Flask, frozen: list[datetime]) -> None:
    variant = stocked_variant(50)
    frozen[0] = NOON - timedelta(days=8)
    cart_with({variant: 1})
    frozen[0] = NOON - timedelta(days=6)
    kept = cart_with({variant: 1}).id
    frozen[0] = NOON

    assert tasks.delete_stale_carts() == 1
    assert cart_ids() == [kept]


def test_the_job_is_scheduled_daily() -> None:
    assert tasks.BEAT_SCHEDULE == {
        "cart-delete-stale-carts": {
            "task": "funnel.cart.tasks.delete_stale_carts",
            "schedule": 86400.0,
        }
    }
    assert tasks.delete_stale_carts.name == "funnel.cart.tasks.delete_stale_carts"

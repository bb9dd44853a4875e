"""US-64 and US-39 on the staff dashboard: today's and the last 7 days' headline figures, the
same as their reports', for those who may read the reports only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from funnel.accounts.models import Role, User
from funnel.analytics.models import FunnelStage
from funnel.catalog.models import Variant
from funnel.core import clock
from funnel.extensions import db
from tests.factories.accounts import UserFactory
from tests.factories.catalog import ProductFactory
from tests.factories.orders import pay_by_card, place
from tests.reports.helpers import journey, row_of

pytestmark = [pytest.mark.story("US-64", "US-39"), pytest.mark.config(CURRENCY="GBP")]
NOW = datetime(2026, 4, 15, 18, tzinfo=UTC)


def _paid_at(monkeypatch: pytest.MonkeyPatch, at: datetime, variant: Variant) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: at)
    pay_by_card(place([(variant, 1)], shipping=0, tax=0))


def test_the_dashboard_shows_today_and_the_last_7_days(
    admin_user: User, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = ProductFactory(variants=[{"sku": "MUG", "price": 1000, "stock_quantity": 50}])
    mug = db.session.scalars(select(Variant).where(Variant.product_id == product.id)).one()
    # today: four visitors, one pays; 3 days ago: two more, one pays; 8 days ago: one, pays
    journey("ann", NOW, *FunnelStage)
    for visitor in ("bob", "cat", "dan"):
        journey(visitor, NOW, FunnelStage.VISIT)
    three_days_ago = datetime(2026, 4, 12, 12, tzinfo=UTC)
    journey("eve", three_days_ago, *FunnelStage)
    journey("fay", three_days_ago, FunnelStage.VISIT, FunnelStage.PRODUCT_VIEW)
    journey("gus", datetime(2026, 4, 7, 12, tzinfo=UTC), *FunnelStage)
    _paid_at(monkeypatch, NOW, mug)
    _paid_at(monkeypatch, three_days_ago, mug)
    _paid_at(monkeypatch, three_days_ago, mug)
    _paid_at(monkeypatch, datetime(2026, 4, 7, 12, tzinfo=UTC), mug)
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)

    page = signed_in(admin_user).get("/staff/").text

    assert row_of(page, "Visitors") == ["4", "6"]
    assert row_of(page, "Orders paid") == ["1", "3"]
    assert row_of(page, "Revenue") == ["£10.00", "£30.00"]
    assert row_of(page, "Visitors who paid") == ["25.0 %", "33.3 %"]
    assert '<progress value="6" max="6" aria-label="Visited the shop: 6 visitors">' in page
    assert '<progress value="2" max="6" aria-label="Paid an order: 2 visitors">' in page


def test_staff_without_the_reports_see_no_figures(
    app: object, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    clerk = UserFactory(role=Role.STAFF, permission_groups="orders,catalogue")
    analyst = UserFactory(role=Role.STAFF, permission_groups="reports")

    assert "Today and the last 7 days" not in signed_in(clerk).get("/staff/").text
    assert "Today and the last 7 days" in signed_in(analyst).get("/staff/").text

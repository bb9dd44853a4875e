"""US-64: the shop's time zone, whose days the reports count in: its initial value from
``FUNNEL_TIME_ZONE`` (default UTC), changed by admins on the settings page (checked against
the time-zone database, audited), and used by the funnel report."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from funnel.accounts.models import User
from funnel.config import load_settings
from funnel.core import clock
from funnel.settings.errors import InitialSettingsError
from funnel.settings.values import initial_values, shop_settings
from tests.audit.helpers import entries
from tests.reports.helpers import event
from tests.settings.helpers import save, stored

pytestmark = pytest.mark.story("US-64")


def test_the_environment_gives_a_new_shop_its_time_zone(tmp_path: Path) -> None:
    berlin = load_settings(str(tmp_path), {"FUNNEL_TIME_ZONE": "Europe/Berlin"})

    assert shop_settings(initial_values(berlin), "EUR").time_zone == "Europe/Berlin"
    default = load_settings(str(tmp_path), {})
    assert shop_settings(initial_values(default), "EUR").time_zone == "UTC"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe/../etc/passwd", "Berlin"])
def test_a_time_zone_from_the_environment_that_is_not_one_stops_the_shop(
    tmp_path: Path, zone: str
) -> None:
    config = load_settings(str(tmp_path), {"FUNNEL_TIME_ZONE": zone})

    with pytest.raises(InitialSettingsError, match="TIME_ZONE"):
        initial_values(config)


def test_a_stored_time_zone_that_is_not_one_is_not_read(tmp_path: Path) -> None:
    values = initial_values(load_settings(str(tmp_path), {}))

    with pytest.raises(ValueError, match="not a time zone"):
        shop_settings({**values, "time_zone": "Mars/Olympus"}, "EUR")


def test_an_admin_sets_the_time_zone_and_the_change_is_audited(
    admin_user: User, signed_in: Any
) -> None:
    admin = signed_in(admin_user)
    [field] = re.findall(r'<input[^>]*name="time_zone"[^>]*>', admin.get("/staff/settings").text)
    assert 'value="UTC"' in field

    response = save(admin, time_zone="Europe/Berlin")

    assert response.status_code == 303
    assert stored() == {"time_zone": '"Europe/Berlin"'}
    [entry] = entries()
    assert (entry["action"], entry["before"], entry["after"]) == (
        "settings.updated",
        {"time_zone": "UTC"},
        {"time_zone": "Europe/Berlin"},
    )


@pytest.mark.parametrize("zone", ["Berlin", "", "Europe/Berlin/Mitte"])
def test_a_time_zone_that_is_not_one_is_refused_beside_its_field(
    admin_user: User, signed_in: Any, zone: str
) -> None:
    response = save(signed_in(admin_user), time_zone=zone)

    assert response.status_code == 422
    assert 'id="time_zone-error"' in response.text
    assert "A time zone such as Europe/Berlin" in response.text
    assert (stored(), entries()) == ({}, [])


def test_the_funnel_report_counts_the_shops_days_in_its_time_zone(
    app: Flask, admin_user: User, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a shop in Berlin, at 22:30 UTC on 31 March (00:30 on 1 April there), and a visit
    # at 23:30 UTC on 31 March
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    admin = signed_in(admin_user)
    assert save(admin, time_zone="Europe/Berlin").status_code == 303
    event("visit", "night-owl", datetime(2026, 3, 31, 23, 30, tzinfo=UTC))

    # when the owner opens the report
    page = admin.get("/staff/reports/funnel", query_string={"from": "2026-04-01"}).text

    # then today is 1 April there, and the visit is on it
    assert "Today is 2026-04-01" in page
    assert 'name="to" value="2026-04-01"' in page
    assert "(1 day, Europe/Berlin)" in page
    assert '<th scope="row">Visited the shop</th>\n      <td>1</td>' in page

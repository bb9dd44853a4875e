"""US-26, US-58: the return window is a shop setting: from FUNNEL_RETURN_WINDOW_DAYS for a new
shop, then edited on the staff settings page like the others."""

from __future__ import annotations

from datetime import timedelta

import pytest

from funnel.accounts.models import User
from funnel.config import load_settings
from funnel.core import clock
from funnel.orders import queries
from funnel.settings.errors import InitialSettingsError
from funnel.settings.queries import current_settings
from funnel.settings.values import initial_values, shop_settings
from tests.returns.helpers import delivered_order, lines_of, returns_state
from tests.settings.helpers import save, stored
from tests.support.staff_pages import field_error


@pytest.mark.story("US-26", "US-47")
def test_the_initial_window_comes_from_the_environment(tmp_path) -> None:
    def window(environ: dict[str, str]) -> int:
        config = load_settings(str(tmp_path), environ)
        return shop_settings(initial_values(config), "USD").return_window_days

    assert window({"FUNNEL_RETURN_WINDOW_DAYS": "14"}) == 14
    assert window({}) == 30
    with pytest.raises(InitialSettingsError, match="RETURN_WINDOW_DAYS"):
        window({"FUNNEL_RETURN_WINDOW_DAYS": "two weeks"})


@pytest.mark.story("US-26")
@pytest.mark.config(RETURN_WINDOW_DAYS="7")
def test_a_new_shop_has_the_configured_window(customer: User, signed_in, monkeypatch) -> None:
    order = delivered_order(customer)
    [first, _] = lines_of(order)
    delivered_at = queries.get_order(order.number).delivered_at
    monkeypatch.setattr(clock, "utcnow", lambda: delivered_at + timedelta(days=8))

    response = signed_in(customer).post(
        f"/account/orders/{order.number}/returns",
        data={f"return-quantity-{first.id}": "1", "reason": "Late"},
    )

    assert current_settings().return_window_days == 7
    assert response.status_code == 422
    assert "7 days after delivery" in response.text
    assert returns_state() == []


@pytest.mark.story("US-26", "US-58")
def test_an_admin_changes_the_window_on_the_settings_page(admin_user: User, signed_in) -> None:
    admin = signed_in(admin_user)
    assert 'name="return_window_days"' in admin.get("/staff/settings").text
    assert 'value="30"' in admin.get("/staff/settings").text

    response = save(admin, return_window_days="60")

    assert response.status_code in {302, 303}
    assert stored()["return_window_days"] == "60"
    assert current_settings().return_window_days == 60


@pytest.mark.story("US-26", "US-58")
@pytest.mark.parametrize("typed", ["thirty", "-1", "3651", ""])
def test_a_window_that_is_no_number_of_days_is_refused_beside_its_field(
    admin_user: User, signed_in, typed: str
) -> None:
    admin = signed_in(admin_user)

    response = save(admin, return_window_days=typed)

    assert response.status_code == 422
    assert field_error(response.text, "return_window_days") == (
        "A whole number of days from 0 (no returns) to 3650."
    )
    assert "return_window_days" not in stored()

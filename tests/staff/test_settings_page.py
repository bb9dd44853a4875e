"""US-58: the staff settings page. Admins edit shipping, tax, bank details and the shop's
identity; a wrong value is named beside its field and nothing is saved."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import User
from tests.settings.helpers import history, save, settings_form, stored

pytestmark = pytest.mark.story("US-58")


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    for response in (client.get("/staff/settings"), save(client, shop_name="Mine")):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/sign-in?next=%2Fstaff%2F")
    assert stored() == {}


@pytest.mark.parametrize("who", ["customer", "staff_user"])
def test_customers_and_staff_without_the_permission_get_403(
    who: str, request: pytest.FixtureRequest, signed_in
) -> None:
    browser = signed_in(request.getfixturevalue(who))

    assert browser.get("/staff/settings").status_code == 403
    assert save(browser, shop_name="Mine").status_code == 403
    assert (stored(), history()) == ({}, [])


def test_staff_do_not_see_the_section_and_admins_do(
    staff_user: User, admin_user: User, signed_in
) -> None:
    assert "/staff/settings" not in signed_in(staff_user).get("/staff/").text
    assert "/staff/settings" in signed_in(admin_user).get("/staff/").text


def test_an_admin_saves_the_settings_and_sees_the_change_listed(
    admin_user: User, signed_in
) -> None:
    admin = signed_in(admin_user)
    page = admin.get("/staff/settings")
    assert page.status_code == 200
    assert 'value="14.99"' in page.text

    response = save(
        admin,
        shop_name="Corner Shop",
        postal_address="1 High Street\nBristol",
        shipping_methods__1__price="12.50",
        shipping_methods__2__code="pickup",
        shipping_methods__2__name="Pick up in the shop",
        shipping_methods__2__price="0",
        tax_rates__3__country="",
        tax_rates__3__rate="",
        tax_rates__4__country="it",
        tax_rates__4__rate="22",
        default_tax_rate="7.5",
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/settings"
    assert stored() == {
        "shop_name": '"Corner Shop"',
        "postal_address": '"1 High Street\\nBristol"',
        "shipping_methods": (
            '[{"code": "standard", "is_free_above_threshold": true, "name": "Standard", '
            '"price_minor": 499}, {"code": "express", "is_free_above_threshold": false, '
            '"name": "Express", "price_minor": 1250}, {"code": "pickup", '
            '"is_free_above_threshold": false, "name": "Pick up in the shop", "price_minor": 0}]'
        ),
        "tax_rates": '{"DE": 1900, "FR": 2000, "GB": 2000, "IT": 2200}',
        "default_tax_rate": "750",
    }
    assert [(key, who) for key, _before, _after, who in history()] == [
        (key, "admin@example.com")
        for key in (
            "shop_name",
            "postal_address",
            "shipping_methods",
            "tax_rates",
            "default_tax_rate",
        )
    ]
    page = admin.get("/staff/settings").text
    assert (
        "Saved: shop name, postal address, shipping methods, tax rates, default tax rate." in page
    )
    assert "<title>Settings · Staff · Corner Shop</title>" in page
    assert 'value="7.5"' in page
    assert page.count("admin@example.com") == 5


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"shipping_methods__0__price": "-1.00"}, "A price of 0 or more."),
        ({"shipping_methods__1__code": "standard"}, "standard is already a method above."),
        ({"tax_rates__0__country": "XX"}, "A country&#39;s ISO code, such as GB or DE."),
        ({"tax_rates__0__rate": "100.5"}, "A rate from 0 to 100 %."),
        ({"shop_name": "   "}, "This cannot be empty."),
        ({"shipping_methods__0__price": "cheap"}, "An amount in USD, such as 4.99."),
        ({"default_tax_rate": "twenty"}, "A rate in percent, such as 20 or 19.5."),
    ],
)
def test_a_wrong_value_is_named_beside_its_field_and_nothing_is_saved(
    admin_user: User, signed_in, changes: dict[str, str], message: str
) -> None:
    admin = signed_in(admin_user)

    response = save(admin, **{"shop_name": "Corner Shop", **changes})

    assert response.status_code == 422
    assert f'class="field-error">{message}</small>' in response.text
    assert (stored(), history()) == ({}, [])


def test_saving_without_a_change_saves_nothing(admin_user: User, signed_in) -> None:
    admin = signed_in(admin_user)

    assert admin.post("/staff/settings", data=settings_form()).status_code == 303

    assert (stored(), history()) == ({}, [])
    assert "Nothing had changed." in admin.get("/staff/settings").text

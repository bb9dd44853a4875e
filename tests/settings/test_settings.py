"""The settings read model and use case: initial values from the environment, a change saved
once and recorded, read by every worker at its next request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from funnel.accounts.models import User
from funnel.accounts.permissions import settings_editor
from funnel.config import load_settings
from funnel.core.errors import PermissionDenied, ValidationFailed
from funnel.extensions import db
from funnel.settings import services
from funnel.settings.errors import InitialSettingsError
from funnel.settings.queries import current_settings
from funnel.settings.values import (
    INITIAL_CONFIG_KEYS,
    BankAccount,
    ShippingMethodSetting,
    initial_values,
)
from tests.conftest import build_app
from tests.settings.helpers import history, save, stored
from tests.support.databases import DatabaseProvider
from tests.support.mailbox import SmtpServer


@pytest.mark.story("US-47")
@pytest.mark.config(
    SHOP_NAME="Corner Shop",
    SHIPPING_METHODS="post:Post:3.50,courier:Courier:9.00",
    FREE_SHIPPING_THRESHOLD="off",
    FREE_SHIPPING_METHODS="post",
    TAX_RATES="GB:2000,de:1950",
    DEFAULT_TAX_RATE=500,
    BANK_TRANSFER_DETAILS="IBAN GB33 BUKB 2020 1555 5555 55",
    MAIL_SENDER="Corner Shop <hello@corner.example>",
)
def test_a_new_shop_has_the_environment_values(app: Flask) -> None:
    shop = current_settings()

    assert (shop.shop_name, shop.contact_email, shop.postal_address) == (
        "Corner Shop",
        "hello@corner.example",
        "",
    )
    assert shop.shipping_methods == (
        ShippingMethodSetting("post", "Post", 350, True),
        ShippingMethodSetting("courier", "Courier", 900, False),
    )
    assert shop.free_shipping_threshold_minor is None
    assert shop.tax_rates == (("DE", 1950), ("GB", 2000))
    assert (shop.default_tax_rate, shop.tax_rate_of("jp")) == (500, 500)
    assert shop.bank_transfer_details == "IBAN GB33 BUKB 2020 1555 5555 55"
    assert shop.order_number_prefix == "FN-"
    assert stored() == {}


@pytest.mark.story("US-58")
def test_only_what_changed_is_saved_and_recorded(app: Flask, admin_user: User) -> None:
    changed = services.update_settings(
        settings_editor(admin_user),
        {
            "shop_name": " Corner Shop ",
            "default_tax_rate": 0,
            "tax_rates": [
                {"country": "gb", "rate": 2000},
                {"country": "DE", "rate": 1900},
                {"country": "FR", "rate": 2000},
                {"country": "US", "rate": 0},
            ],
        },
    )

    # the tax rates were the initial ones: only the name is saved
    assert changed == ["shop_name"]
    assert stored() == {"shop_name": '"Corner Shop"'}
    assert history() == [("shop_name", '"Funnel"', '"Corner Shop"', "admin@example.com")]
    assert current_settings().shop_name == "Corner Shop"


@pytest.mark.story("US-58")
def test_staff_without_the_permission_change_nothing(app: Flask, staff_user: User) -> None:
    with pytest.raises(PermissionDenied):
        services.update_settings(settings_editor(staff_user), {"shop_name": "Mine"})

    assert (stored(), history()) == ({}, [])


@pytest.mark.story("US-58")
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"shop_name": "  "}, "shop_name", "This cannot be empty."),
        ({"contact_email": "shop"}, "contact_email", "An email address, such as shop@example.com."),
        (
            {"shipping_methods": [{"code": "std", "name": "Std", "price_minor": -1}]},
            "shipping_methods-0-price",
            "A price of 0 or more.",
        ),
        (
            {
                "shipping_methods": [
                    {"code": "std", "name": "Std", "price_minor": 100},
                    {"code": "STD", "name": "Again", "price_minor": 200},
                ]
            },
            "shipping_methods-1-code",
            "std is already a method above.",
        ),
        ({"shipping_methods": []}, "shipping_methods", "Offer at least one shipping method."),
        (
            {"tax_rates": [{"country": "XX", "rate": 100}]},
            "tax_rates-0-country",
            "A country's ISO code, such as GB or DE.",
        ),
        (
            {"tax_rates": [{"country": "GB", "rate": 10_001}]},
            "tax_rates-0-rate",
            "A rate from 0 to 100 %.",
        ),
        ({"default_tax_rate": -1}, "default_tax_rate", "A rate from 0 to 100 %."),
        (
            {"free_shipping_threshold_minor": -5},
            "free_shipping_threshold_minor",
            "An amount of 0 or more, or none.",
        ),
        (
            {"order_number_prefix": "F N"},
            "order_number_prefix",
            "1 to 6 capital letters or digits, with a - at the end if you like (such as FN-).",
        ),
        ({"currency": "EUR"}, "currency", "This is not a setting."),
    ],
)
def test_a_wrong_value_is_named_and_nothing_is_saved(
    app: Flask, admin_user: User, changes: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.update_settings(settings_editor(admin_user), {"shop_name": "New", **changes})

    assert refused.value.fields == {field: [message]}
    assert (stored(), history()) == ({}, [])


@pytest.fixture
def second_worker(
    app: Flask, backend: str, database_provider: DatabaseProvider, smtp_server: SmtpServer
) -> Iterator[Flask]:
    """Another app on the same database: what another gunicorn worker is."""
    other = build_app(database_provider.url_for(backend), smtp_server, {})
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.mark.story("US-58")
def test_a_change_saved_in_one_worker_shows_at_the_next_request_of_another(
    app: Flask, second_worker: Flask, admin_user: User, signed_in
) -> None:
    # given another worker that has served a page already
    visitor = second_worker.test_client()
    assert "Welcome to Funnel" in visitor.get("/").text

    # when an admin saves a new name through this one
    assert save(signed_in(admin_user), shop_name="Corner Shop").status_code == 303

    # then the other worker's next page shows it, without a restart
    assert "Welcome to Corner Shop" in visitor.get("/").text


@pytest.mark.story("US-58")
def test_a_page_reads_the_settings_with_one_small_query(
    app: Flask, admin_user: User, signed_in, sql_statements: list[str]
) -> None:
    admin = signed_in(admin_user)
    save(admin, shop_name="Corner Shop")

    for path in ("/", "/staff/settings"):
        sql_statements.clear()
        assert admin.get(path).status_code == 200
        reads = [s for s in sql_statements if "FROM shop_settings" in s]
        assert len(reads) == 1, path


@pytest.mark.story("US-22")
@pytest.mark.config(BANK_ACCOUNT=" Corner Shop Ltd ; DE89 3704 0044 0532 0130 00;COBADEFFXXX")
def test_the_environment_gives_a_new_shop_its_bank_account(app: Flask) -> None:
    assert current_settings().bank_account == BankAccount(
        "Corner Shop Ltd", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", ""
    )
    assert current_settings().bank_account.is_configured is True


@pytest.mark.story("US-22")
@pytest.mark.config(BANK_ACCOUNT="")
def test_a_shop_without_a_bank_account_has_none_configured(app: Flask) -> None:
    assert current_settings().bank_account == BankAccount("", "", "", "")
    assert current_settings().bank_account.is_configured is False
    assert current_settings().bank_transfer_details == ""


def test_the_bank_account_variable_is_read_from_the_environment(tmp_path: Any) -> None:
    settings = load_settings(
        str(tmp_path), {"FUNNEL_BANK_ACCOUNT": "Funnel Ltd;GB33BUKB20201555555555"}
    )

    assert settings["BANK_ACCOUNT"] == "Funnel Ltd;GB33BUKB20201555555555"
    assert initial_values(settings)["bank_account"] == {
        "holder": "Funnel Ltd",
        "account_number": "GB33BUKB20201555555555",
        "bic": "",
        "bank_name": "",
    }


@pytest.mark.parametrize("raw", ["Funnel Ltd", ";GB33BUKB20201555555555", "a;b;c;d;e"])
def test_a_malformed_bank_account_variable_stops_the_shop(raw: str) -> None:
    with pytest.raises(InitialSettingsError, match="BANK_ACCOUNT: give holder;IBAN"):
        initial_values({"BANK_ACCOUNT": raw})


@pytest.mark.story("US-58")
def test_an_admin_saves_the_bank_account_and_history_keeps_it(app: Flask, admin_user: User) -> None:
    account = {
        "holder": "Corner Shop Ltd",
        "account_number": "12345678",
        "bic": "20-00-00",
        "bank_name": "",
    }

    changed = services.update_settings(settings_editor(admin_user), {"bank_account": account})

    assert changed == ["bank_account"]
    assert current_settings().bank_account == BankAccount(
        "Corner Shop Ltd", "12345678", "20-00-00", ""
    )
    [(key, _, after, who)] = history()
    assert (key, who) == ("bank_account", "admin@example.com")
    assert after == (
        '{"account_number": "12345678", "bank_name": "", "bic": "20-00-00", '
        '"holder": "Corner Shop Ltd"}'
    )


@pytest.mark.story("US-58")
def test_a_bank_account_without_its_account_number_is_refused(app: Flask, admin_user: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.update_settings(
            settings_editor(admin_user),
            {"bank_account": {"holder": "Corner Shop Ltd", "bic": "COBADEFFXXX"}},
        )

    assert refused.value.fields == {
        "bank_account-account_number": [
            "Needed for bank transfer (or leave every bank field empty)."
        ]
    }
    assert (stored(), history()) == ({}, [])


@pytest.mark.story("US-58")
def test_an_admin_empties_the_bank_account_and_bank_transfer_is_no_longer_offered(
    app: Flask, admin_user: User, signed_in
) -> None:
    admin = signed_in(admin_user)

    response = save(admin, bank_holder="", bank_account_number="", bank_bic="", bank_name="")

    assert response.status_code == 303
    assert current_settings().bank_account.is_configured is False
    assert admin.get("/api/v1/payment-methods").get_json() == {
        "items": [{"code": "test", "label": "Card (test gateway)"}]
    }


@pytest.mark.story("US-58")
def test_the_settings_page_names_a_missing_account_holder_beside_its_field(
    app: Flask, admin_user: User, signed_in
) -> None:
    admin = signed_in(admin_user)

    response = save(admin, bank_holder="")

    assert response.status_code == 422
    assert "Needed for bank transfer (or leave every bank field empty)." in response.text
    assert stored() == {}


@pytest.mark.story("US-58")
@pytest.mark.parametrize("path", ["/", "/cart", "/account/sign-in", "/no-such-page"])
def test_every_storefront_page_footer_gives_the_shops_contact_address(
    app: Flask, admin_user: User, signed_in, path: str
) -> None:
    # given an admin changed the contact address
    save(signed_in(admin_user), contact_email="help@corner.example")

    # then every storefront page's footer gives it, as a link
    page = app.test_client().get(path)
    assert (
        '<small>Funnel · Questions? <a href="mailto:help@corner.example" id="contact-email">'
        "help@corner.example</a> · powered by Funnel</small>"
    ) in page.text


@pytest.mark.story("US-58")
def test_an_admin_gives_a_shipping_method_its_delivery_time(
    app: Flask, admin_user: User, signed_in
) -> None:
    admin = signed_in(admin_user)

    response = save(admin, shipping_methods__0__delivery_days="3-5")

    assert response.status_code == 303
    assert current_settings().shipping_methods[0] == ShippingMethodSetting(
        "standard", "Standard", 499, True, 3, 5
    )
    assert 'value="3-5"' in admin.get("/staff/settings").text


@pytest.mark.story("US-58")
@pytest.mark.parametrize("days", ["5-3", "soon", "1-400"])
def test_a_wrong_delivery_time_is_named_beside_its_field(
    app: Flask, admin_user: User, signed_in, days: str
) -> None:
    response = save(signed_in(admin_user), shipping_methods__1__delivery_days=days)

    assert response.status_code == 422
    assert "Working days such as 3-5 (or 2), or empty." in response.text
    assert stored() == {}


def test_the_configuration_keys_the_initial_values_read_are_all_listed() -> None:
    # given a configuration that notes every key asked of it
    class Recording(dict[str, Any]):
        asked: set[str] = set()

        def get(self, key: str, default: Any = None) -> Any:
            self.asked.add(key)
            return super().get(key, default)

        def __getitem__(self, key: str) -> Any:
            self.asked.add(key)
            return super().__getitem__(key)

    config = Recording()

    # when the initial values are read from it
    initial_values(config)

    # then each key is one a worker's read model is kept under (a change of any is seen)
    assert config.asked == set(INITIAL_CONFIG_KEYS)

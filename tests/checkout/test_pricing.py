"""The pricing policy on its own: shipping methods, free shipping, flat tax per country."""

from __future__ import annotations

import pytest

from funnel.checkout.pricing import PricingSettingsError, policy_from_settings, quote, tax_on
from funnel.core.money import Money

SETTINGS = {
    "CURRENCY": "EUR",
    "SHIPPING_METHODS": "standard:Standard:4.99,express:Express:14.99",
    "FREE_SHIPPING_THRESHOLD": "50.00",
    "FREE_SHIPPING_METHODS": "standard",
    "TAX_RATES": "GB:2000,de:1900,US:0",
    "DEFAULT_TAX_RATE": "750",
}


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


@pytest.mark.parametrize(
    ("subtotal", "method", "country", "expected"),
    [
        (4999, "standard", "GB", (499, 1100, 6598)),  # 1 cent under the threshold
        (5000, "standard", "GB", (0, 1000, 6000)),  # at the threshold: free
        (5000, "express", "GB", (1499, 1300, 7799)),  # express is never free
        (1000, "standard", "DE", (499, 285, 1784)),  # 19 %, half up (284.81)
        (1000, "standard", "US", (499, 0, 1499)),
        (1000, "standard", "JP", (499, 112, 1611)),  # the default 7.5 %, half up (112.425)
    ],
)
def test_quotes(subtotal: int, method: str, country: str, expected: tuple[int, int, int]) -> None:
    policy = policy_from_settings(SETTINGS)

    result = quote(policy, eur(subtotal), policy.method(method), country)

    assert (result.shipping.amount, result.tax.amount, result.total.amount) == expected


def test_half_a_cent_of_tax_rounds_up() -> None:
    assert tax_on(eur(25), 2000) == eur(5)
    assert tax_on(eur(1), 5000) == eur(1)
    assert tax_on(eur(1), 4999) == eur(0)


def test_the_rate_reads_as_a_percentage() -> None:
    policy = policy_from_settings(SETTINGS)
    rates = [
        quote(policy, eur(100), policy.methods[0], country).tax_rate_percent
        for country in ("GB", "JP", "US")
    ]
    assert rates == ["20", "7.5", "0"]


def test_off_means_shipping_is_never_free() -> None:
    policy = policy_from_settings({**SETTINGS, "FREE_SHIPPING_THRESHOLD": "off"})
    assert policy.shipping_cost(policy.methods[0], eur(10**9)) == eur(499)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHIPPING_METHODS", "standard:Standard"),
        ("SHIPPING_METHODS", "standard:Standard:4.999"),
        ("SHIPPING_METHODS", "a:A:1.00,a:Again:2.00"),
        ("SHIPPING_METHODS", " , "),
        ("FREE_SHIPPING_THRESHOLD", "fifty"),
        ("TAX_RATES", "GBR:2000"),
        ("TAX_RATES", "GB:20%"),
        ("DEFAULT_TAX_RATE", "-1"),
    ],
)
def test_malformed_settings_are_refused(name: str, value: str) -> None:
    with pytest.raises(PricingSettingsError):
        policy_from_settings({**SETTINGS, name: value})

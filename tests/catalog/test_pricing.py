"""US-62: the price display policy on its own, and the checkout's tax per unit in gross mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.catalog.pricing import (
    PriceDisplay,
    gross_of,
    net_at_least,
    net_at_most,
    price_display,
    tax_name,
    tax_on,
)
from funnel.checkout.pricing import policy_from_settings, quote
from funnel.config import load_settings
from funnel.core.money import Money
from funnel.settings.errors import InitialSettingsError
from funnel.settings.values import initial_values, shop_settings

CONFIG = {
    "CURRENCY": "GBP",
    "SHIPPING_METHODS": "standard:Standard:4.99",
    "FREE_SHIPPING_THRESHOLD": "off",
    "TAX_RATES": "GB:2000,DE:1900,US:0",
    "DEFAULT_TAX_RATE": "750",
    "SHOP_COUNTRY": "GB",
}


def gbp(amount: int) -> Money:
    return Money(amount, "GBP")


@pytest.mark.story("US-62")
@pytest.mark.parametrize(
    ("net", "rate", "gross"),
    [
        (999, 2000, 1199),  # 1.998 of tax rounds up to 2.00
        (1000, 2000, 1200),  # exact
        (199, 1900, 237),  # 0.3781 rounds up to 0.38
        (250, 100, 253),  # 2.5 minor units: half rounds up
        (249, 100, 251),  # 2.49 rounds down to 2
        (999, 0, 999),  # no tax
        (0, 2000, 0),
    ],
)
def test_a_gross_unit_price_is_net_plus_its_tax_rounded_half_up(
    net: int, rate: int, gross: int
) -> None:
    assert gross_of(gbp(net), rate) == gbp(gross)
    assert tax_on(gbp(net), rate) == gbp(gross - net)


@pytest.mark.story("US-62")
def test_the_display_shows_net_or_gross_with_its_label() -> None:
    gross = PriceDisplay(includes_tax=True, tax_rate=2000, country_code="GB")
    net = PriceDisplay(includes_tax=False, tax_rate=2000, country_code="GB")

    assert (gross.unit(gbp(999)), gross.line(gbp(999), 3), gross.label) == (
        gbp(1199),
        gbp(3597),
        "incl. VAT",
    )
    assert (net.unit(gbp(999)), net.line(gbp(999), 3), net.label) == (
        gbp(999),
        gbp(2997),
        "excl. VAT",
    )


@pytest.mark.story("US-62")
@pytest.mark.parametrize(
    ("country", "word"), [("GB", "VAT"), ("de", "VAT"), ("US", "tax"), ("", "tax"), (None, "tax")]
)
def test_the_label_says_vat_where_the_country_has_one(country: str | None, word: str) -> None:
    assert tax_name(country) == word


@pytest.mark.story("US-62")
@pytest.mark.parametrize(
    ("shopper", "shop_country", "expected"),
    [
        ("DE", "GB", ("DE", 1900)),  # the shopper's own country first
        (None, "GB", ("GB", 2000)),  # else the shop's
        (None, "", ("", 750)),  # neither: the rate for any other country
        ("JP", "GB", ("JP", 750)),
    ],
)
def test_the_shoppers_country_else_the_shops_gives_the_rate(
    shopper: str | None, shop_country: str, expected: tuple[str, int]
) -> None:
    settings = shop_settings(
        initial_values({**CONFIG, "SHOP_COUNTRY": shop_country, "PRICES_INCLUDE_TAX": True}),
        "GBP",
    )

    display = price_display(settings, shopper)

    assert (display.country_code, display.tax_rate, display.includes_tax) == (*expected, True)


@pytest.mark.story("US-62")
def test_in_gross_mode_the_checkout_takes_the_tax_per_unit() -> None:
    # given 3 units at 9.99 and 4.99 of shipping at 20 %
    units = [(gbp(999), 3)]
    net_policy = policy_from_settings(CONFIG)
    gross_policy = policy_from_settings({**CONFIG, "PRICES_INCLUDE_TAX": True})
    method = net_policy.method("standard")

    net = quote(net_policy, gbp(2997), method, "GB", units)
    gross = quote(gross_policy, gbp(2997), method, "GB", units)

    # net prices: the tax once on 34.96 (6.992 -> 6.99)
    assert (net.tax, net.total) == (gbp(699), gbp(4195))
    # gross prices: 3 x 2.00 on the units and 1.00 on the shipping; the shown amounts add up
    assert (gross.tax, gross.total) == (gbp(700), gbp(4196))
    assert gross.shown_line(gbp(999), 3) + gross.shipping_gross == gross.total
    assert (gross.subtotal_gross, gross.shipping_gross) == (gbp(3597), gbp(599))


@pytest.mark.story("US-62")
@given(
    lines=st.lists(st.tuples(st.integers(0, 100_000), st.integers(1, 20)), min_size=1, max_size=6),
    shipping=st.integers(0, 5_000),
    rate=st.integers(0, 10_000),
)
def test_shown_gross_lines_and_shipping_always_add_up_to_the_total(
    lines: list[tuple[int, int]], shipping: int, rate: int
) -> None:
    policy = policy_from_settings(
        {
            **CONFIG,
            "PRICES_INCLUDE_TAX": True,
            "SHIPPING_METHODS": f"standard:Standard:{shipping / 100:.2f}",
            "TAX_RATES": f"GB:{rate}",
        }
    )
    units = [(gbp(price), quantity) for price, quantity in lines]
    subtotal = gbp(sum(price * quantity for price, quantity in lines))

    result = quote(policy, subtotal, policy.methods[0], "GB", units)

    shown = sum((result.shown_line(unit, quantity) for unit, quantity in units), gbp(0))
    assert shown + result.shipping_gross == result.total
    assert shown == result.subtotal_gross


@pytest.mark.story("US-62")
def test_the_environment_gives_a_new_shop_its_price_display(tmp_path: Path) -> None:
    config = load_settings(
        str(tmp_path), {"FUNNEL_PRICES_INCLUDE_TAX": "true", "FUNNEL_SHOP_COUNTRY": "gb"}
    )

    settings = shop_settings(initial_values(config), "GBP")

    assert (settings.prices_include_tax, settings.shop_country) == (True, "GB")
    assert (
        shop_settings(initial_values(load_settings(str(tmp_path), {})), "GBP").prices_include_tax
        is False
    )


@pytest.mark.story("US-62")
def test_a_shop_country_from_the_environment_that_is_not_one_stops_the_shop(
    tmp_path: Path,
) -> None:
    config = load_settings(str(tmp_path), {"FUNNEL_SHOP_COUNTRY": "Britain"})

    with pytest.raises(InitialSettingsError, match="SHOP_COUNTRY"):
        initial_values(config)


@pytest.mark.story("US-62")
@given(gross=st.integers(0, 1_000_000), rate=st.integers(0, 10_000))
def test_a_price_filter_on_shown_prices_becomes_the_exact_net_bounds(gross: int, rate: int) -> None:
    def shown(net: int) -> int:
        return gross_of(gbp(net), rate).amount

    most = net_at_most(gross, rate)
    least = net_at_least(gross, rate)

    # the largest net whose shown price is within the bound, and the smallest from it
    assert shown(most) <= gross < shown(most + 1)
    assert shown(least) >= gross
    assert least == 0 or shown(least - 1) < gross

"""Checkout pricing policy, pure: shipping methods, free shipping, a flat tax rate per country.

The values are the shop's settings (``funnel.settings``: edited by staff on the settings page);
a new shop's initial values come from ``config.py`` as strings:

- ``SHIPPING_METHODS``: ``"code:Name:price,..."`` with prices in the shop currency's major
  units, e.g. ``"standard:Standard:4.99,express:Express:14.99"``; a fourth part gives the
  delivery time in working days (``"standard:Standard:4.99:3-5"``);
- ``FREE_SHIPPING_THRESHOLD``: a subtotal (major units) from which the methods named in
  ``FREE_SHIPPING_METHODS`` (``"standard"``) cost nothing; ``off``: never free;
- ``TAX_RATES``: ``"GB:2000,DE:1900"`` in basis points (2000 = 20 %) per ISO country code, and
  ``DEFAULT_TAX_RATE`` (basis points) for any other country.

Prices are net: tax is added on the goods and the shipping, rounded half up to the minor unit.
A full tax engine comes later; this is the flat rate the first shops need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from funnel.core.money import Money
from funnel.settings.errors import InitialSettingsError
from funnel.settings.values import ShopSettings, delivery_time, initial_values, shop_settings

BASIS_POINTS = 10_000


class PricingSettingsError(ValueError):
    """A pricing setting cannot be read (the shop refuses to start with it)."""


@dataclass(frozen=True)
class ShippingMethod:
    code: str
    name: str
    price: Money
    is_free_above_threshold: bool
    min_days: int | None = None  # working days from dispatch to delivery
    max_days: int | None = None

    @property
    def delivery_time(self) -> str:
        """``3-5 working days``; empty when the shop gives none for this method."""
        return delivery_time(self.min_days, self.max_days)


@dataclass(frozen=True)
class PricingPolicy:
    currency: str
    methods: tuple[ShippingMethod, ...]
    free_shipping_threshold: Money | None
    tax_rates: Mapping[str, int]
    default_tax_rate: int

    def method(self, code: str | None) -> ShippingMethod | None:
        return next((method for method in self.methods if method.code == code), None)

    def shipping_cost(self, method: ShippingMethod, subtotal: Money) -> Money:
        """The method's price, or nothing when it is free from the threshold on."""
        threshold = self.free_shipping_threshold
        if method.is_free_above_threshold and threshold is not None and threshold <= subtotal:
            return Money.zero(self.currency)
        return method.price

    def tax_rate(self, country_code: str | None) -> int:
        """Basis points for the country (the default for any country not listed)."""
        return self.tax_rates.get((country_code or "").upper(), self.default_tax_rate)


@dataclass(frozen=True)
class Quote:
    subtotal: Money
    shipping_method: ShippingMethod
    shipping: Money
    tax_rate: int
    tax: Money
    total: Money

    @property
    def tax_rate_percent(self) -> str:
        """``20``, ``19.5``: the rate as people write it."""
        whole, rest = divmod(self.tax_rate, 100)
        return f"{whole}" if not rest else f"{whole}.{rest:02d}".rstrip("0")


def tax_on(amount: Money, basis_points: int) -> Money:
    """``amount`` times the rate, rounded half up to the minor unit (amounts are not negative)."""
    return Money(
        (amount.amount * basis_points + BASIS_POINTS // 2) // BASIS_POINTS, amount.currency
    )


def quote(policy: PricingPolicy, subtotal: Money, method: ShippingMethod, country: str) -> Quote:
    """The order's totals: lines' subtotal, shipping, tax on both, total."""
    shipping = policy.shipping_cost(method, subtotal)
    rate = policy.tax_rate(country)
    tax = tax_on(subtotal + shipping, rate)
    return Quote(subtotal, method, shipping, rate, tax, subtotal + shipping + tax)


def policy_from_shop_settings(settings: ShopSettings) -> PricingPolicy:
    """The pricing policy of the shop's settings (the read model, already checked)."""
    currency = settings.currency
    threshold = settings.free_shipping_threshold_minor
    return PricingPolicy(
        currency=currency,
        methods=tuple(
            ShippingMethod(
                method.code,
                method.name,
                Money(method.price_minor, currency),
                method.is_free_above_threshold,
                method.min_days,
                method.max_days,
            )
            for method in settings.shipping_methods
        ),
        free_shipping_threshold=None if threshold is None else Money(threshold, currency),
        tax_rates=dict(settings.tax_rates),
        default_tax_rate=settings.default_tax_rate,
    )


def policy_from_settings(config: Mapping[str, Any]) -> PricingPolicy:
    """The policy of the configuration's initial values (a new shop's, before staff save any).
    Raises PricingSettingsError for a malformed one."""
    try:
        values = initial_values(config)
    except InitialSettingsError as error:
        raise PricingSettingsError(str(error)) from error
    return policy_from_shop_settings(shop_settings(values, str(config.get("CURRENCY", "USD"))))

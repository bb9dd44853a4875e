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

Catalogue prices are net: tax is added on the goods and the shipping, rounded half up to the
minor unit (``catalog.pricing.tax_on``, the one rounding rule). With the shop's prices shown
tax included (``prices_include_tax``), the tax is taken per unit instead: each line's tax is
its quantity times the tax of one unit, and the shipping's is its own; so the gross prices the
shopper saw (unit + its tax, times the quantity) and the gross shipping add up to the total
charged to the minor unit. A full tax engine comes later; this is the flat rate the first shops
need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from funnel.catalog.pricing import gross_of, tax_on
from funnel.core.money import Money
from funnel.settings.errors import InitialSettingsError
from funnel.settings.values import ShopSettings, delivery_time, initial_values, shop_settings


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
    prices_include_tax: bool = False  # shown gross: the tax is taken per unit (see above)

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
    prices_include_tax: bool = False  # the shop shows prices gross: the tax is per unit

    def shown_unit(self, net: Money) -> Money:
        """A net unit price as the review shows it: with this order's rate when prices are
        shown with tax included."""
        return gross_of(net, self.tax_rate) if self.prices_include_tax else net

    def shown_line(self, net_unit: Money, quantity: int) -> Money:
        return self.shown_unit(net_unit) * quantity

    @property
    def shipping_gross(self) -> Money:
        """The shipping with its tax, as a shop showing prices with tax includes it."""
        return gross_of(self.shipping, self.tax_rate)

    @property
    def subtotal_gross(self) -> Money:
        """The goods with their tax: the total less the shipping with its tax (with the tax
        taken per unit, the sum of the lines' gross totals)."""
        return self.total - self.shipping_gross

    @property
    def tax_rate_percent(self) -> str:
        """``20``, ``19.5``: the rate as people write it."""
        whole, rest = divmod(self.tax_rate, 100)
        return f"{whole}" if not rest else f"{whole}.{rest:02d}".rstrip("0")


def quote(
    policy: PricingPolicy,
    subtotal: Money,
    method: ShippingMethod,
    country: str,
    units: Sequence[tuple[Money, int]] | None = None,
) -> Quote:
    """The order's totals: lines' subtotal, shipping, tax, total.

    Net prices: the tax on the subtotal and shipping together. Prices shown with tax included
    and ``units`` given (each line's net unit price and quantity, adding up to ``subtotal``):
    the tax per unit of each line plus the tax on the shipping, so that the shown gross lines
    and shipping add up to the total.
    """
    shipping = policy.shipping_cost(method, subtotal)
    rate = policy.tax_rate(country)
    if policy.prices_include_tax and units is not None:
        tax = Money.zero(subtotal.currency)
        for unit_price, quantity in units:
            tax += tax_on(unit_price, rate) * quantity
        tax += tax_on(shipping, rate)
    else:
        tax = tax_on(subtotal + shipping, rate)
    total = subtotal + shipping + tax
    return Quote(subtotal, method, shipping, rate, tax, total, policy.prices_include_tax)


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
        prices_include_tax=settings.prices_include_tax,
    )


def policy_from_settings(config: Mapping[str, Any]) -> PricingPolicy:
    """The policy of the configuration's initial values (a new shop's, before staff save any).
    Raises PricingSettingsError for a malformed one."""
    try:
        values = initial_values(config)
    except InitialSettingsError as error:
        raise PricingSettingsError(str(error)) from error
    return policy_from_shop_settings(shop_settings(values, str(config.get("CURRENCY", "USD"))))

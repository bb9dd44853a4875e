"""Checkout pricing policy, pure: shipping methods, free shipping, a flat tax rate per country.

Settings (strings, from ``config.py``):

- ``SHIPPING_METHODS``: ``"code:Name:price,..."`` with prices in the shop currency's major
  units, e.g. ``"standard:Standard:4.99,express:Express:14.99"``;
- ``FREE_SHIPPING_THRESHOLD``: a subtotal (major units) from which the methods named in
  ``FREE_SHIPPING_METHODS`` (``"standard"``) cost nothing; ``off``: never free;
- ``TAX_RATES``: ``"GB:2000,DE:1900"`` in basis points (2000 = 20 %) per ISO country code, and
  ``DEFAULT_TAX_RATE`` (basis points) for any other country.

Prices are net: tax is added on the goods and the shipping, rounded half up to the minor unit.
A full tax engine comes later; this is the flat rate the first shops need.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from funnel.core.money import Money, MoneyError

BASIS_POINTS = 10_000
MAX_TAX_RATE = 100_000
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class PricingSettingsError(ValueError):
    """A pricing setting cannot be read (the shop refuses to start with it)."""


@dataclass(frozen=True)
class ShippingMethod:
    code: str
    name: str
    price: Money
    is_free_above_threshold: bool


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


def _parse_methods(raw: str, currency: str, free_codes: set[str]) -> tuple[ShippingMethod, ...]:
    methods: list[ShippingMethod] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        pieces = item.split(":")
        if len(pieces) != 3 or not _CODE.match(pieces[0].strip()) or not pieces[1].strip():
            raise PricingSettingsError(f"SHIPPING_METHODS: {item!r} is not code:Name:price")
        code, name, price = (piece.strip() for piece in pieces)
        try:
            amount = Money.parse(price, currency)
        except MoneyError as error:
            raise PricingSettingsError(f"SHIPPING_METHODS: {error}") from error
        if amount.amount < 0 or any(method.code == code for method in methods):
            raise PricingSettingsError(f"SHIPPING_METHODS: {code!r} is negative or repeated")
        methods.append(ShippingMethod(code, name[:100], amount, code in free_codes))
    if not methods:
        raise PricingSettingsError("SHIPPING_METHODS must name at least one method")
    return tuple(methods)


def _parse_rate(text: str, name: str) -> int:
    text = text.strip()
    if not text.isdigit() or int(text) > MAX_TAX_RATE:
        raise PricingSettingsError(f"{name}: {text!r} is not a rate in basis points")
    return int(text)


def _parse_tax_rates(raw: str) -> dict[str, int]:
    rates: dict[str, int] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        country, _, rate = item.partition(":")
        country = country.strip().upper()
        if not _COUNTRY.match(country):
            raise PricingSettingsError(f"TAX_RATES: {item!r} is not CC:basis_points")
        rates[country] = _parse_rate(rate, "TAX_RATES")
    return rates


def policy_from_settings(settings: Mapping[str, Any]) -> PricingPolicy:
    """Read the pricing settings. Raises PricingSettingsError for a malformed one."""
    currency = str(settings.get("CURRENCY", "USD"))
    free_codes = {
        code.strip()
        for code in str(settings.get("FREE_SHIPPING_METHODS", "standard") or "").split(",")
        if code.strip()
    }
    methods = _parse_methods(
        str(settings.get("SHIPPING_METHODS") or "standard:Standard:4.99,express:Express:14.99"),
        currency,
        free_codes,
    )
    raw_threshold = str(settings.get("FREE_SHIPPING_THRESHOLD") or "").strip()
    threshold = None
    if raw_threshold and raw_threshold.lower() not in {"off", "none"}:
        try:
            threshold = Money.parse(raw_threshold, currency)
        except MoneyError as error:
            raise PricingSettingsError(f"FREE_SHIPPING_THRESHOLD: {error}") from error
    return PricingPolicy(
        currency=currency,
        methods=methods,
        free_shipping_threshold=threshold,
        tax_rates=_parse_tax_rates(str(settings.get("TAX_RATES") or "")),
        default_tax_rate=_parse_rate(
            str(settings.get("DEFAULT_TAX_RATE") or "0"), "DEFAULT_TAX_RATE"
        ),
    )

"""How a price is shown to a shopper, pure: net, or with their country's tax included.

Catalogue prices are net (minor units). A shop either shows them as they are, or shows every
price with the tax of the shopper's country included, as EU shops must (the setting
``prices_include_tax``). A unit's gross price is its net price plus its tax, rounded half up to
the minor unit: ``tax_on`` is the one rounding rule, the checkout's too (``checkout.pricing``
imports it), so the price a shopper sees on a product page is the price the checkout charges.

A line's shown total is the shown unit price times the quantity; so that shown lines add up to
what is charged, a checkout in gross mode takes the tax per unit of each line (see
``checkout.pricing.quote`` and docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from funnel.core.money import Money
from funnel.settings.values import ShopSettings

BASIS_POINTS = 10_000

# Countries whose sales tax is a value added tax (the EU's 27, and Europe's others that charge
# one): the label says "VAT" there, "tax" everywhere else.
VAT_COUNTRIES = frozenset(
    {
        # European Union
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
        # the rest of Europe with a VAT
        "AL", "BA", "CH", "GB", "IS", "LI", "MC", "MD", "ME", "MK", "NO", "RS", "TR", "UA",
    }
)  # fmt: skip


def tax_minor(amount_minor: int, basis_points: int) -> int:
    """The tax on an amount of minor units: times the rate, rounded half up to the minor unit
    (amounts are not negative). The one rounding rule of every tax the shop computes."""
    return (amount_minor * basis_points + BASIS_POINTS // 2) // BASIS_POINTS


def tax_on(amount: Money, basis_points: int) -> Money:
    """``amount`` times the rate, rounded half up to the minor unit (amounts are not negative)."""
    return Money(tax_minor(amount.amount, basis_points), amount.currency)


def gross_of(net: Money, basis_points: int) -> Money:
    """A net unit price with its tax added (the tax rounded half up to the minor unit)."""
    return net + tax_on(net, basis_points)


def net_at_most(gross_minor: int, basis_points: int) -> int:
    """The largest net amount whose gross (net + tax, rounded) is at most ``gross_minor``: a
    shopper's "at most 10.00" on a listing of gross prices, as a bound on net prices."""
    if gross_minor < 0:
        return -1
    net = gross_minor * BASIS_POINTS // (BASIS_POINTS + basis_points)
    while net + 1 + tax_minor(net + 1, basis_points) <= gross_minor:
        net += 1
    while net > 0 and net + tax_minor(net, basis_points) > gross_minor:
        net -= 1
    return net


def net_at_least(gross_minor: int, basis_points: int) -> int:
    """The smallest net amount whose gross is at least ``gross_minor`` (gross only grows with
    net: the one after the largest whose gross stays below it)."""
    return 0 if gross_minor <= 0 else net_at_most(gross_minor - 1, basis_points) + 1


def tax_name(country_code: str | None) -> str:
    """``VAT`` in a country with a value added tax, else ``tax``."""
    return "VAT" if (country_code or "").upper() in VAT_COUNTRIES else "tax"


@dataclass(frozen=True)
class PriceDisplay:
    """How this shopper sees prices: the rate of their country, included or not."""

    includes_tax: bool
    tax_rate: int  # basis points of the shopper's country
    country_code: str  # empty when neither the shopper nor the shop has a country

    def unit(self, net: Money) -> Money:
        """The unit price to show for a net catalogue price."""
        return gross_of(net, self.tax_rate) if self.includes_tax else net

    def unit_minor(self, net_minor: int, currency: str) -> Money:
        """``unit`` for a price kept as minor units and a currency (as templates hold them)."""
        return self.unit(Money(int(net_minor), currency))

    def line(self, net_unit: Money, quantity: int) -> Money:
        """A line's shown total: the shown unit price times the quantity."""
        return self.unit(net_unit) * quantity

    def net_bounds(self, low: int | None, high: int | None) -> tuple[int | None, int | None]:
        """A price filter's bounds as the shopper typed them (shown prices), on net prices."""
        if not self.includes_tax:
            return low, high
        return (
            None if low is None else net_at_least(low, self.tax_rate),
            None if high is None else net_at_most(high, self.tax_rate),
        )

    @property
    def label(self) -> str:
        """``incl. VAT``, ``excl. VAT`` (``tax`` where the country has no VAT)."""
        word = "incl." if self.includes_tax else "excl."
        return f"{word} {tax_name(self.country_code)}"


def price_display(settings: ShopSettings, shopper_country: str | None) -> PriceDisplay:
    """How prices are shown to a shopper: with the tax of their country (their default
    address's) included when the shop says so; the shop's own country when theirs is unknown."""
    country = (shopper_country or settings.shop_country or "").upper()
    return PriceDisplay(settings.prices_include_tax, settings.tax_rate_of(country), country)

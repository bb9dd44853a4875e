"""The shop's settings as typed values, and their initial values from the configuration.

Pure: plain functions of their inputs. ``initial_values(config)`` reads the strings the
environment gave (``config.py``: ``FUNNEL_SHOP_NAME``, ``FUNNEL_SHIPPING_METHODS``, ...) into
stored form, a JSON-ready value per key; ``shop_settings(values, currency)`` builds the read
model from stored values. Money is in minor units of the shop's currency, tax rates in basis
points (2000 = 20 %).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from funnel.core.countries import is_country_code
from funnel.core.money import Money, MoneyError
from funnel.settings.errors import InitialSettingsError

DEFAULT_ORDER_NUMBER_PREFIX = "FN-"
# No placeholder: customers are only told what the shop really gives them.
DEFAULT_BANK_TRANSFER_DETAILS = ""
BANK_ACCOUNT_FIELDS = ("holder", "account_number", "bic", "bank_name")
# What the environment may give; a rate staff type is at most 100 % (the services' rule).
MAX_INITIAL_TAX_RATE = 100_000
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

SHOP_NAME = "shop_name"
CONTACT_EMAIL = "contact_email"
POSTAL_ADDRESS = "postal_address"
SHIPPING_METHODS = "shipping_methods"
FREE_SHIPPING_THRESHOLD = "free_shipping_threshold_minor"
TAX_RATES = "tax_rates"
DEFAULT_TAX_RATE = "default_tax_rate"
BANK_ACCOUNT = "bank_account"
BANK_TRANSFER_DETAILS = "bank_transfer_details"
ORDER_NUMBER_PREFIX = "order_number_prefix"
STAFF_TWO_FACTOR_REQUIRED = "staff_two_factor_required"
PRICES_INCLUDE_TAX = "prices_include_tax"
SHOP_COUNTRY = "shop_country"
TIME_ZONE = "time_zone"
RETURN_WINDOW_DAYS = "return_window_days"
CARD_CAPTURE = "card_capture"
KEYS = (
    SHOP_NAME,
    CONTACT_EMAIL,
    POSTAL_ADDRESS,
    SHIPPING_METHODS,
    FREE_SHIPPING_THRESHOLD,
    TAX_RATES,
    DEFAULT_TAX_RATE,
    BANK_ACCOUNT,
    BANK_TRANSFER_DETAILS,
    ORDER_NUMBER_PREFIX,
    STAFF_TWO_FACTOR_REQUIRED,
    PRICES_INCLUDE_TAX,
    SHOP_COUNTRY,
    TIME_ZONE,
    RETURN_WINDOW_DAYS,
    CARD_CAPTURE,
)
# When card payments take the customer's money: at checkout, or authorised at checkout (the
# bank holds the sum) and captured when staff record the order's first shipment.
CAPTURE_AT_CHECKOUT = "at_checkout"
CAPTURE_AT_FULFILMENT = "at_fulfilment"
CARD_CAPTURE_CHOICES = (CAPTURE_AT_CHECKOUT, CAPTURE_AT_FULFILMENT)
DEFAULT_TIME_ZONE = "UTC"
TIME_ZONE_LENGTH = 64
# Days after delivery in which a customer may ask to return items (0: no returns).
DEFAULT_RETURN_WINDOW_DAYS = 30
MAX_RETURN_WINDOW_DAYS = 3650


MAX_DELIVERY_DAYS = 365
_DELIVERY_DAYS = re.compile(r"^(\d{1,3})(?:-(\d{1,3}))?$")


@dataclass(frozen=True)
class ShippingMethodSetting:
    code: str
    name: str
    price_minor: int
    is_free_above_threshold: bool
    # Working days from dispatch to delivery (both None: no delivery time given).
    min_days: int | None = None
    max_days: int | None = None


def delivery_time(min_days: int | None, max_days: int | None) -> str:
    """``3-5 working days``, ``1 working day``; empty when no delivery time is given."""
    if min_days is None or max_days is None:
        return ""
    unit = "working day" if max_days == 1 else "working days"
    span = f"{min_days}" if min_days == max_days else f"{min_days}-{max_days}"
    return f"{span} {unit}"


def parse_delivery_days(text: str) -> tuple[int, int] | None:
    """``"3-5"`` or ``"2"`` as (min, max) working days; None when it is not such a range (or
    the minimum passes the maximum, or either passes a year)."""
    match = _DELIVERY_DAYS.match(text.strip().replace(" ", ""))
    if not match:
        return None
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if low > high or high > MAX_DELIVERY_DAYS:
        return None
    return low, high


@dataclass(frozen=True)
class BankAccount:
    """The account customers pay a bank transfer to. Bank transfer is offered only when it is
    configured: an account holder and an IBAN or account number."""

    holder: str = ""
    account_number: str = ""  # an IBAN, or a national account number
    bic: str = ""  # a BIC (SWIFT code) or a sort code / routing number
    bank_name: str = ""

    @property
    def is_configured(self) -> bool:
        return bool(self.holder.strip() and self.account_number.strip())


@dataclass(frozen=True)
class ShopSettings:
    """The settings every domain reads (the read model: frozen, typed)."""

    currency: str
    shop_name: str
    contact_email: str
    postal_address: str
    shipping_methods: tuple[ShippingMethodSetting, ...]
    free_shipping_threshold_minor: int | None
    tax_rates: tuple[tuple[str, int], ...]
    default_tax_rate: int
    bank_transfer_details: str  # further instructions, beside the bank account (may be empty)
    order_number_prefix: str
    bank_account: BankAccount = BankAccount()
    # Every staff account must sign in with a second factor (staff without one are sent to
    # set it up and reach no staff page or staff API until they have).
    staff_two_factor_required: bool = False
    # Storefront prices are shown with the shopper's tax included (gross) rather than net.
    # Catalogue prices stay net either way; see ``catalog.pricing``.
    prices_include_tax: bool = False
    # The shop's own country (ISO code; empty: none): whose tax rate a shopper without a
    # default address sees in the storefront's prices.
    shop_country: str = ""
    # The shop's time zone (an IANA name such as Europe/Berlin): the days of its reports.
    time_zone: str = DEFAULT_TIME_ZONE
    # Days after delivery in which customers may request a return (0: returns are not taken).
    return_window_days: int = DEFAULT_RETURN_WINDOW_DAYS
    # When card payments are captured (``CARD_CAPTURE_CHOICES``): with ``at_fulfilment``
    # checkout only authorises a card payment with a gateway that can capture later, and the
    # order's first shipment captures it.
    card_capture: str = CAPTURE_AT_CHECKOUT

    @property
    def captures_at_fulfilment(self) -> bool:
        return self.card_capture == CAPTURE_AT_FULFILMENT

    def tax_rate_of(self, country_code: str | None) -> int:
        """Basis points for the country (the default for any country not listed)."""
        return dict(self.tax_rates).get((country_code or "").upper(), self.default_tax_rate)


def _parse_methods(raw: str, currency: str, free_codes: set[str]) -> list[dict[str, Any]]:
    methods: list[dict[str, Any]] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        pieces = item.split(":")
        if (
            len(pieces) not in (3, 4)
            or not CODE_PATTERN.match(pieces[0].strip())
            or not pieces[1].strip()
        ):
            raise InitialSettingsError(
                f"SHIPPING_METHODS: {item!r} is not code:Name:price or code:Name:price:min-max"
            )
        code, name, price = (piece.strip() for piece in pieces[:3])
        days = parse_delivery_days(pieces[3]) if len(pieces) == 4 else None
        if len(pieces) == 4 and days is None:
            raise InitialSettingsError(
                f"SHIPPING_METHODS: {pieces[3].strip()!r} is not working days such as 3-5"
            )
        try:
            amount = Money.parse(price, currency)
        except MoneyError as error:
            raise InitialSettingsError(f"SHIPPING_METHODS: {error}") from error
        if amount.amount < 0 or any(method["code"] == code for method in methods):
            raise InitialSettingsError(f"SHIPPING_METHODS: {code!r} is negative or repeated")
        method: dict[str, Any] = {
            "code": code,
            "name": name[:100],
            "price_minor": amount.amount,
            "is_free_above_threshold": code in free_codes,
        }
        if days is not None:
            method["min_days"], method["max_days"] = days
        methods.append(method)
    if not methods:
        raise InitialSettingsError("SHIPPING_METHODS must name at least one method")
    return methods


def parse_bank_account(raw: str) -> dict[str, str]:
    """``"Holder;IBAN or account number;BIC or sort code;Bank name"`` (the last two may be left
    out) in stored form; an empty string is no account. Raises InitialSettingsError."""
    raw = raw.strip()
    if not raw:
        return dict.fromkeys(BANK_ACCOUNT_FIELDS, "")
    pieces = [piece.strip() for piece in raw.split(";")]
    if not 2 <= len(pieces) <= len(BANK_ACCOUNT_FIELDS) or not pieces[0] or not pieces[1]:
        raise InitialSettingsError(
            "BANK_ACCOUNT: give holder;IBAN or account number;BIC or sort code;bank name"
        )
    pieces += [""] * (len(BANK_ACCOUNT_FIELDS) - len(pieces))
    return {field: piece[:100] for field, piece in zip(BANK_ACCOUNT_FIELDS, pieces, strict=True)}


def _parse_rate(text: str, name: str) -> int:
    text = text.strip()
    if not text.isdigit() or int(text) > MAX_INITIAL_TAX_RATE:
        raise InitialSettingsError(f"{name}: {text!r} is not a rate in basis points")
    return int(text)


def _parse_tax_rates(raw: str) -> dict[str, int]:
    rates: dict[str, int] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        country, _, rate = item.partition(":")
        country = country.strip().upper()
        if not _COUNTRY.match(country):
            raise InitialSettingsError(f"TAX_RATES: {item!r} is not CC:basis_points")
        rates[country] = _parse_rate(rate, "TAX_RATES")
    return rates


def _parse_country(raw: str) -> str:
    country = raw.strip().upper()
    if country and not is_country_code(country):
        raise InitialSettingsError(f"SHOP_COUNTRY: {raw!r} is not an ISO country code such as GB")
    return country


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is a time zone of the IANA database (``Europe/Berlin``, ``UTC``)."""
    if not name or len(name) > TIME_ZONE_LENGTH or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _parse_time_zone(raw: str) -> str:
    name = raw.strip() or DEFAULT_TIME_ZONE
    if not is_time_zone(name):
        raise InitialSettingsError(f"TIME_ZONE: {raw!r} is not a time zone such as Europe/Berlin")
    return name


def _parse_return_window(raw: str) -> int:
    text = raw.strip() or str(DEFAULT_RETURN_WINDOW_DAYS)
    if not text.isascii() or not text.isdigit() or int(text) > MAX_RETURN_WINDOW_DAYS:
        raise InitialSettingsError(
            f"RETURN_WINDOW_DAYS: {raw!r} is not a number of days from 0 to "
            f"{MAX_RETURN_WINDOW_DAYS}"
        )
    return int(text)


def _parse_threshold(raw: str, currency: str) -> int | None:
    raw = raw.strip()
    if not raw or raw.lower() in {"off", "none"}:
        return None
    try:
        return Money.parse(raw, currency).amount
    except MoneyError as error:
        raise InitialSettingsError(f"FREE_SHIPPING_THRESHOLD: {error}") from error


# The configuration keys ``initial_values`` reads (a test keeps the two in step): a worker
# keeps the read model per their values (``settings.queries``).
INITIAL_CONFIG_KEYS = (
    "CURRENCY",
    "FREE_SHIPPING_METHODS",
    "SHIPPING_METHODS",
    "SHOP_NAME",
    "MAIL_SENDER",
    "FREE_SHIPPING_THRESHOLD",
    "TAX_RATES",
    "DEFAULT_TAX_RATE",
    "BANK_ACCOUNT",
    "BANK_TRANSFER_DETAILS",
    "PRICES_INCLUDE_TAX",
    "SHOP_COUNTRY",
    "TIME_ZONE",
    "RETURN_WINDOW_DAYS",
)


def initial_values(config: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of every setting as the configuration gives it (a new shop's values).

    Raises InitialSettingsError for a malformed one.
    """
    currency = str(config.get("CURRENCY", "USD"))
    free_codes = {
        code.strip()
        for code in str(config.get("FREE_SHIPPING_METHODS", "standard") or "").split(",")
        if code.strip()
    }
    raw_methods = config.get("SHIPPING_METHODS") or "standard:Standard:4.99,express:Express:14.99"
    return {
        SHOP_NAME: str(config.get("SHOP_NAME") or "Funnel"),
        CONTACT_EMAIL: parseaddr(str(config.get("MAIL_SENDER") or ""))[1],
        POSTAL_ADDRESS: "",
        SHIPPING_METHODS: _parse_methods(str(raw_methods), currency, free_codes),
        FREE_SHIPPING_THRESHOLD: _parse_threshold(
            str(config.get("FREE_SHIPPING_THRESHOLD") or ""), currency
        ),
        TAX_RATES: _parse_tax_rates(str(config.get("TAX_RATES") or "")),
        DEFAULT_TAX_RATE: _parse_rate(
            str(config.get("DEFAULT_TAX_RATE") or "0"), "DEFAULT_TAX_RATE"
        ),
        BANK_ACCOUNT: parse_bank_account(str(config.get("BANK_ACCOUNT") or "")),
        BANK_TRANSFER_DETAILS: str(
            config.get("BANK_TRANSFER_DETAILS") or DEFAULT_BANK_TRANSFER_DETAILS
        ),
        ORDER_NUMBER_PREFIX: DEFAULT_ORDER_NUMBER_PREFIX,
        STAFF_TWO_FACTOR_REQUIRED: False,
        PRICES_INCLUDE_TAX: bool(config.get("PRICES_INCLUDE_TAX", False)),
        SHOP_COUNTRY: _parse_country(str(config.get("SHOP_COUNTRY") or "")),
        TIME_ZONE: _parse_time_zone(str(config.get("TIME_ZONE") or "")),
        RETURN_WINDOW_DAYS: _parse_return_window(str(config.get("RETURN_WINDOW_DAYS", ""))),
        CARD_CAPTURE: CAPTURE_AT_CHECKOUT,
    }


def shop_settings(values: Mapping[str, Any], currency: str) -> ShopSettings:
    """The read model from stored values (every key present: initial values fill the gaps)."""
    return ShopSettings(
        currency=currency,
        shop_name=str(values[SHOP_NAME]),
        contact_email=str(values[CONTACT_EMAIL]),
        postal_address=str(values[POSTAL_ADDRESS]),
        shipping_methods=tuple(
            ShippingMethodSetting(
                str(method["code"]),
                str(method["name"]),
                int(method["price_minor"]),
                bool(method["is_free_above_threshold"]),
                _days(method.get("min_days")),
                _days(method.get("max_days")),
            )
            for method in values[SHIPPING_METHODS]
        ),
        free_shipping_threshold_minor=(
            None
            if values[FREE_SHIPPING_THRESHOLD] is None
            else int(values[FREE_SHIPPING_THRESHOLD])
        ),
        tax_rates=tuple(sorted((str(k), int(v)) for k, v in values[TAX_RATES].items())),
        default_tax_rate=int(values[DEFAULT_TAX_RATE]),
        bank_transfer_details=str(values[BANK_TRANSFER_DETAILS]),
        order_number_prefix=str(values[ORDER_NUMBER_PREFIX]),
        bank_account=BankAccount(
            **{field: str(values[BANK_ACCOUNT].get(field) or "") for field in BANK_ACCOUNT_FIELDS}
        ),
        staff_two_factor_required=bool(values[STAFF_TWO_FACTOR_REQUIRED]),
        prices_include_tax=bool(values[PRICES_INCLUDE_TAX]),
        shop_country=str(values[SHOP_COUNTRY]),
        time_zone=_zone(values[TIME_ZONE]),
        return_window_days=int(values[RETURN_WINDOW_DAYS]),
        card_capture=_capture(values[CARD_CAPTURE]),
    )


def _zone(value: Any) -> str:
    """A stored time zone; ValueError for one the database does not know (a row written by
    hand): the shop then reads its initial values, as for any setting it cannot read."""
    name = str(value)
    if not is_time_zone(name):
        raise ValueError(f"{name!r} is not a time zone")
    return name


def _capture(value: Any) -> str:
    """A stored capture choice; ValueError for another (a row written by hand)."""
    if value not in CARD_CAPTURE_CHOICES:
        raise ValueError(f"{value!r} is not a capture choice")
    return str(value)


def _days(value: Any) -> int | None:
    return None if value is None else int(value)

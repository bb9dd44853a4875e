"""Listing parameters from a query string: filters, sort and page, for pages and the API alike.

Price bounds are decimals in major units (``12.50``) in the shop's currency; every other
parameter that is not reserved filters by a variant option (``size=M&size=L``).
"""

from __future__ import annotations

from collections.abc import Collection

from flask import current_app
from werkzeug.datastructures import MultiDict

from funnel.catalog.errors import InvalidListingParameters
from funnel.catalog.listing import ListingFilters, ListingSort, option_name
from funnel.core.money import Money, MoneyError
from funnel.core.pagination import page_number

RESERVED_PARAMETERS = frozenset({"q", "sort", "page", "min_price", "max_price", "variant"})
IGNORED_PREFIXES = ("utm_",)
IGNORED_PARAMETERS = frozenset({"fbclid", "gclid", "ref"})
MAX_OPTION_NAMES = 8
MAX_OPTION_VALUES = 20
MAX_PRICE_AMOUNT = 10**12


def _price(args: MultiDict[str, str], name: str, label: str) -> int | None:
    raw = args.get(name, "").strip()
    if raw == "":
        return None
    message = f"{label} must be an amount such as 12.50, from 0."
    if len(raw) > 20:
        raise InvalidListingParameters(message, fields={name: [message]})
    try:
        amount = Money.parse(raw, current_app.config["CURRENCY"]).amount
    except MoneyError as error:
        raise InvalidListingParameters(message, fields={name: [message]}) from error
    if not 0 <= amount <= MAX_PRICE_AMOUNT:
        raise InvalidListingParameters(message, fields={name: [message]})
    return amount


def parse_sort(args: MultiDict[str, str], *, default_sort: ListingSort) -> ListingSort:
    """The sort asked for; an unknown one (or relevance outside search) is the default."""
    try:
        sort = ListingSort(args.get("sort", default_sort.value))
    except ValueError:
        sort = default_sort
    if sort is ListingSort.RELEVANCE and default_sort is not ListingSort.RELEVANCE:
        sort = default_sort
    return sort


def parse_filters(
    args: MultiDict[str, str], *, reserved: Collection[str] = RESERVED_PARAMETERS
) -> ListingFilters:
    """The price range and option filters; ``reserved`` parameters are not options.

    Raises InvalidListingParameters (422) for a bad price, an inverted range or too many
    filters.
    """
    min_price = _price(args, "min_price", "Minimum price")
    max_price = _price(args, "max_price", "Maximum price")
    if min_price is not None and max_price is not None and min_price > max_price:
        message = "The minimum price is above the maximum price."
        raise InvalidListingParameters(message, fields={"min_price": [message]})
    options: dict[str, tuple[str, ...]] = {}
    for key in args:
        if key in reserved or key in IGNORED_PARAMETERS or key.startswith(IGNORED_PREFIXES):
            continue
        # NUL is in no option (and PostgreSQL refuses it in text): such text matches nothing.
        name = option_name(key.replace("\x00", ""))[:50]
        values = tuple(
            dict.fromkeys(
                value.strip()[:100].replace("\x00", "\ufffd")
                for value in args.getlist(key)
                if value.strip()
            )
        )[:MAX_OPTION_VALUES]
        if name and values:
            options[name] = values
        if len(options) > MAX_OPTION_NAMES:
            raise InvalidListingParameters("Too many filters at once.")
    return ListingFilters(min_price=min_price, max_price=max_price, options=options)


def parse_listing(
    args: MultiDict[str, str], *, default_sort: ListingSort
) -> tuple[ListingFilters, ListingSort, int]:
    """Filters, sort and page number from a listing page's query string.

    An unknown sort falls back to the default. Raises InvalidPage (400) and
    InvalidListingParameters (422) for a bad page number or price range.
    """
    number = page_number(args.get("page"))
    sort = parse_sort(args, default_sort=default_sort)
    return parse_filters(args), sort, number

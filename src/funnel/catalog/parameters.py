"""Listing parameters from a query string: filters, sort and page, for pages and the API alike.

Price bounds are decimals in major units (``12.50``) in the shop's currency; every other
parameter that is not reserved filters by a variant option (``size=M&size=L``). The API refuses
a bad price with a 422; the storefront's pages leave it out and say so beside the listing (a
shopper who typed ``abc`` into a price box should still see products, not an error page).
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


def _price_range(
    args: MultiDict[str, str], *, is_lenient: bool
) -> tuple[int | None, int | None, list[str]]:
    """The price bounds, and the notes on the bounds left out (``is_lenient``) instead of
    refused."""
    notes: list[str] = []
    bounds: list[int | None] = []
    for name, label in (("min_price", "Minimum price"), ("max_price", "Maximum price")):
        try:
            bounds.append(_price(args, name, label))
        except InvalidListingParameters as error:
            if not is_lenient:
                raise
            bounds.append(None)
            notes.append(f"{error.detail} It was ignored.")
    min_price, max_price = bounds
    if min_price is not None and max_price is not None and min_price > max_price:
        message = "The minimum price is above the maximum price."
        if not is_lenient:
            raise InvalidListingParameters(message, fields={"min_price": [message]})
        notes.append(f"{message} The price range was ignored.")
        min_price = max_price = None
    return min_price, max_price, notes


def parse_filters(
    args: MultiDict[str, str],
    *,
    reserved: Collection[str] = RESERVED_PARAMETERS,
    is_lenient: bool = False,
) -> ListingFilters:
    """The price range and option filters; ``reserved`` parameters are not options.

    Raises InvalidListingParameters (422) for a bad price or an inverted range (unless
    ``is_lenient``: then they are left out, with a note in ``ListingFilters.notes``) and for
    too many filters.
    """
    min_price, max_price, notes = _price_range(args, is_lenient=is_lenient)
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
    return ListingFilters(
        min_price=min_price, max_price=max_price, options=options, notes=tuple(notes)
    )


def parse_listing(
    args: MultiDict[str, str], *, default_sort: ListingSort
) -> tuple[ListingFilters, ListingSort, int]:
    """Filters, sort and page number from a listing page's query string.

    An unknown sort falls back to the default; a bad price or price range is left out, with a
    note for the page. Raises InvalidPage (400) for a bad page number and
    InvalidListingParameters (422) for too many filters.
    """
    number = page_number(args.get("page"))
    sort = parse_sort(args, default_sort=default_sort)
    return parse_filters(args, is_lenient=True), sort, number

"""The order a facet lists an option's values in: sizes as products list them (XS, S, M, L),
on the usual scale where no product says; every other option alphabetically, numbers by value.
Plain functions of their inputs: the listing reads the products' orders and hands them here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# Options whose values follow the order the catalogue gives them (a product's variants list
# XS, S, M, L): every other option's values are listed alphabetically (numbers by value).
CATALOGUE_ORDERED_OPTIONS = frozenset({"Size"})
# Between two sizes no product lists together (XS, S on one product, L, XL on another), the
# usual scale decides.
SIZE_STEPS = (
    ("4XS",), ("3XS", "XXXS"), ("2XS", "XXS"), ("XS",), ("S",), ("M",), ("L",), ("XL",),
    ("2XL", "XXL"), ("3XL", "XXXL"), ("4XL",), ("5XL",),
)  # fmt: skip
NUMBER = re.compile(r"\d{1,12}(?:[.,]\d{1,6})?")
SIZE_SCALE = {size: index for index, sizes in enumerate(SIZE_STEPS) for size in sizes}


def value_key(value: str) -> tuple[int, float, str]:
    """Alphabetical order, numbers by value (``"9"`` before ``"10"``), before words."""
    if NUMBER.fullmatch(value.strip()):
        return (0, float(value.strip().replace(",", ".")), value.casefold())
    return (1, 0.0, value.casefold())


def size_key(value: str) -> tuple[int, tuple[int, float, str]]:
    """The usual scale (XS, S, M, L, XL ...), then ``value_key``."""
    scale = SIZE_SCALE.get(value.strip().upper())
    if scale is not None:
        return (0, (scale, 0.0, ""))
    return (1, value_key(value))


def catalogue_order(values: Iterable[str], precedence: Mapping[tuple[str, str], int]) -> list[str]:
    """``values`` (and those ``precedence`` names) in the order products list them:
    ``precedence[(a, b)]`` counts the products whose variants list ``a`` before ``b``.

    A topological merge of every product's order (S, M, L and M, L, XL give S, M, L, XL):
    between values no product orders, ``size_key`` decides; when products disagree, the
    order most of them use wins.
    """
    remaining = set(values) | {value for pair in precedence for value in pair}
    before: dict[str, dict[str, int]] = {value: {} for value in remaining}
    for (first, second), count in precedence.items():
        against = precedence.get((second, first), 0)
        if first in remaining and second in remaining and count > against:
            before[second][first] = count - against
    ordered: list[str] = []
    while remaining:
        # The values nothing (left) comes before; in a disagreement, the least contested one.
        candidate = min(
            remaining,
            key=lambda value: (
                sum(count for other, count in before[value].items() if other in remaining),
                size_key(value),
            ),
        )
        ordered.append(candidate)
        remaining.discard(candidate)
    return ordered

"""What a refund of some of an order's units gives back: their price and their share of the tax.

The order's tax (``tax_minor``) was charged once on its goods and its shipping together (the
checkout's pricing: prices are net, one flat rate, rounded half up). A refund gives back each
unit's net price plus a share of that tax: the tax is shared between the lines and the shipping
in proportion to their net amounts, and a line's share between its units, both by cumulative
rounding (half up). So refunding everything, in one refund or many, in any order, gives back
exactly the order's total, never a minor unit more or less. The shop has no discounts; a
discount would be shared out the same way.

Plain functions of integers (minor units): the orders services feed them from an order.

``with_tax`` is how the customer's order pages and emails show amounts when the shop shows
prices with tax included: a unit's price plus its tax (the checkout's rounding rule), the
shipping plus its tax; the order's total is what it is, and with the tax taken per unit (what
the checkout does in that mode) the shown lines and shipping add up to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from funnel.catalog.pricing import tax_minor


def share(total: int, part: int, whole: int) -> int:
    """``total * part / whole`` rounded half up; 0 when ``whole`` is not positive."""
    if whole <= 0:
        return 0
    return (2 * total * part + whole) // (2 * whole)


def tax_shares(
    line_totals: Sequence[tuple[int, int]], shipping_minor: int, tax_minor: int
) -> tuple[dict[int, int], int]:
    """The order's tax shared out: ``({line id: tax of the line}, tax of the shipping)``.

    ``line_totals`` are ``(line id, line total)`` in the order's line order. The shares add up
    to ``tax_minor`` exactly (the shipping takes what the lines leave).
    """
    base = sum(total for _line_id, total in line_totals) + shipping_minor
    shares: dict[int, int] = {}
    running = given = 0
    for line_id, total in line_totals:
        running += total
        upto = share(tax_minor, running, base)
        shares[line_id] = upto - given
        given = upto
    return shares, tax_minor - given


def units_amount(
    unit_price_minor: int, quantity: int, line_tax_minor: int, already: int, units: int
) -> int:
    """What refunding ``units`` more of a line of ``quantity`` gives back, after ``already``
    units of it were refunded: their net price and their share of the line's tax."""
    tax = share(line_tax_minor, already + units, quantity) - share(
        line_tax_minor, already, quantity
    )
    return unit_price_minor * units + tax


def with_tax(amount_minor: int, basis_points: int) -> int:
    """An amount (a unit price, the shipping) with its tax added, rounded half up."""
    return amount_minor + tax_minor(amount_minor, basis_points)

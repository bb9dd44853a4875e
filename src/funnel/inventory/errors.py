"""Inventory errors, each with a stable ``code``.

The stock errors carry ``lines``: one ``ShortLine`` per variant that is short, so that the cart
and the checkout can tell the customer exactly what to change. ``error.extra["lines"]`` holds the
same lines as plain dicts (for a problem+json body).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from funnel.core.errors import Conflict, NotFound, ValidationFailed


@dataclass(frozen=True)
class ShortLine:
    """A variant that cannot supply ``requested`` units: only ``available`` can be had."""

    variant_id: int
    sku: str
    requested: int
    available: int


class _StockShortage(Conflict):
    def __init__(self, lines: Sequence[ShortLine], detail: str | None = None) -> None:
        self.lines = list(lines)
        detail = detail or "; ".join(
            f"{line.sku}: {line.requested} requested, {line.available} available"
            for line in self.lines
        )
        super().__init__(detail, lines=[asdict(line) for line in self.lines])


class OutOfStock(_StockShortage):
    """A decrement found less stock than it needs (also when a reservation lapsed)."""

    code = "out_of_stock"
    title = "Not enough stock"


class InsufficientStock(_StockShortage):
    """A reservation cannot be made: some lines ask for more than is available to reserve."""

    code = "insufficient_stock"
    title = "Some items are not available in the quantity asked for"


class ReservationLimitReached(_StockShortage):
    """One owner would hold more than its share of a variant (``RESERVATION_MAX_SHARE``);
    each line's ``available`` is what the owner may still reserve of it."""

    code = "reservation_limit_reached"
    title = "More would be held than one customer may hold at a time"


class ReservationNotFound(NotFound):
    code = "reservation_not_found"
    title = "There is no stock reserved for this checkout"


class ReservationMismatch(Conflict):
    code = "reservation_mismatch"
    title = "The stock reserved does not match the order"


class ReturnExceedsSale(Conflict):
    code = "return_exceeds_sale"
    title = "More would be returned than the order took"


class InvalidStockQuantity(ValidationFailed):
    code = "invalid_stock_quantity"
    title = "The quantity is not valid"


class InvalidStockReason(ValidationFailed):
    code = "invalid_stock_reason"
    title = "The reason is not valid for this change"


class InvalidHolder(ValidationFailed):
    code = "invalid_reservation_holder"
    title = "The reservation holder is not valid"

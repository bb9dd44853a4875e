"""The staff order list's filters: what each means, and reading them from a query string.

A fulfilment state is derived from the order's status (there is no column for it):
``unshipped`` is an open order not yet sent (awaiting payment, or paid), ``shipped`` is on its
way (``fulfilled``), ``delivered`` arrived. Cancelled and refunded orders are in none of them.
Placing days are UTC days: ``placed_from`` includes its day, ``placed_to`` too (the query
stops before the next day's midnight).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from funnel.orders.errors import InvalidOrderInput
from funnel.orders.models import OrderStatus
from funnel.payments.gateways import enabled_gateway_names

SEARCH_LENGTH = 254
# Days every database stores and compares (MariaDB's DATETIME starts in year 1000).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9998, 12, 31)
FIELDS = ("q", "status", "placed_from", "placed_to", "payment_method", "fulfilment")


class Fulfilment(enum.StrEnum):
    UNSHIPPED = "unshipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def statuses(self) -> tuple[OrderStatus, ...]:
        """The order statuses that make this fulfilment state."""
        return FULFILMENT_STATUSES[self]


FULFILMENT_STATUSES: dict[Fulfilment, tuple[OrderStatus, ...]] = {
    Fulfilment.UNSHIPPED: (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID),
    Fulfilment.SHIPPED: (OrderStatus.FULFILLED,),
    Fulfilment.DELIVERED: (OrderStatus.DELIVERED,),
}


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_after_start(day: date) -> datetime:
    """Midnight UTC at the end of ``day``: the exclusive bound of a range that includes it."""
    return day_start(day + timedelta(days=1))


@dataclass(frozen=True)
class OrderFilters:
    """What the staff order list shows: every field optional (None or "" for all)."""

    status: OrderStatus | None = None
    search: str = ""
    placed_from: date | None = None
    placed_to: date | None = None
    payment_method: str | None = None
    fulfilment: Fulfilment | None = None

    def query_arguments(self) -> dict[str, str]:
        """The filters as query-string arguments (for the pager's links); empty ones left out."""
        arguments = {
            "q": self.search,
            "status": self.status.value if self.status else "",
            "placed_from": self.placed_from.isoformat() if self.placed_from else "",
            "placed_to": self.placed_to.isoformat() if self.placed_to else "",
            "payment_method": self.payment_method or "",
            "fulfilment": self.fulfilment.value if self.fulfilment else "",
        }
        return {name: value for name, value in arguments.items() if value}


def _choice(raw: str, choices: list[str], field: str, errors: dict[str, list[str]]) -> str | None:
    if raw == "":
        return None
    if raw in choices:
        return raw
    errors[field] = [f"Choose one of: {', '.join(choices)}." if choices else "None is enabled."]
    return None


def _day(raw: str, field: str, errors: dict[str, list[str]]) -> date | None:
    if raw == "":
        return None
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None:
        errors[field] = ["Give a date as YYYY-MM-DD, such as 2026-01-31."]
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        errors[field] = [f"Give a date from {FIRST_DAY} to {LAST_DAY}."]
        return None
    return day


def given_filters(arguments: Mapping[str, str]) -> dict[str, str]:
    """The filter fields of a query string as typed (stripped, bounded): to show them again."""
    return {name: str(arguments.get(name, "")).strip()[:SEARCH_LENGTH] for name in FIELDS}


def parse_order_filters(arguments: Mapping[str, str]) -> OrderFilters:
    """The filters in a query string.

    Raises InvalidOrderInput naming every field that is not valid: a status, fulfilment state
    or payment method (an enabled gateway) that is not one of the choices, a day that is not
    a YYYY-MM-DD date from 1970 to 9998. A range that ends before it starts is valid (and
    matches no order).
    """
    given = given_filters(arguments)
    errors: dict[str, list[str]] = {}
    status = _choice(given["status"], [status.value for status in OrderStatus], "status", errors)
    fulfilment = _choice(
        given["fulfilment"], [state.value for state in Fulfilment], "fulfilment", errors
    )
    payment_method = _choice(
        given["payment_method"], list(enabled_gateway_names()), "payment_method", errors
    )
    placed_from = _day(given["placed_from"], "placed_from", errors)
    placed_to = _day(given["placed_to"], "placed_to", errors)
    if errors:
        raise InvalidOrderInput(fields=errors)
    return OrderFilters(
        status=OrderStatus(status) if status else None,
        search=given["q"],
        placed_from=placed_from,
        placed_to=placed_to,
        payment_method=payment_method,
        fulfilment=Fulfilment(fulfilment) if fulfilment else None,
    )

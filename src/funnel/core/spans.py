"""Which span of time an instant falls in, computed by the database: the reports' buckets.

A report cuts its period into shop days, weeks or months, whose UTC starts are worked out in
Python from the shop's time zone (a day across a daylight-saving change is 23 or 25 hours).
Handing those starts to the query lets the database group rows per bucket and return one row
per bucket instead of one per order or event, the same way on every database and exactly
across the changes, which a database's own time zone functions would not all do alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, literal, literal_column


def span_index(column: Any, starts: Sequence[datetime]) -> ColumnElement[int]:
    """The index ``i`` with ``starts[i] <= column < starts[i + 1]`` (the last span open-ended,
    and 0 for anything before ``starts[0]``): a binary search written as nested CASEs, so each
    row is compared about log2(n) times. ``starts`` are timezone-aware and in order."""
    if not starts:
        raise ValueError("span_index needs at least one start")
    if any(instant.tzinfo is None for instant in starts):
        raise ValueError("span_index needs timezone-aware datetimes")
    return _search(column, starts, 0, len(starts))


def span_start(column: Any, starts: Sequence[datetime]) -> ColumnElement[datetime]:
    """The start of the span ``column`` falls in (as ``span_index``), of the column's type."""
    if not starts:
        raise ValueError("span_start needs at least one start")
    if any(instant.tzinfo is None for instant in starts):
        raise ValueError("span_start needs timezone-aware datetimes")
    return _search(
        column, starts, 0, len(starts), lambda index: literal(starts[index], column.type)
    )


def _search(
    column: Any,
    starts: Sequence[datetime],
    low: int,
    high: int,
    leaf: Callable[[int], ColumnElement[Any]] = lambda index: literal_column(str(index), Integer),
) -> ColumnElement[Any]:
    if high - low == 1:
        return leaf(low)
    middle = (low + high) // 2
    return case(
        (column < starts[middle], _search(column, starts, low, middle, leaf)),
        else_=_search(column, starts, middle, high, leaf),
    )

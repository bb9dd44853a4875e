"""Offset pagination of a ``select()``: one COUNT and one page query, page numbers for links.

Stable paging is the caller's job: the statement's ORDER BY must end with a unique key (the id),
so that rows with equal sort values keep the same order from one page to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from funnel.core.errors import DomainError

T = TypeVar("T")

MAX_PAGE_NUMBER = 100_000


class InvalidPage(DomainError):
    code = "invalid_page"
    status = 400
    title = "Page must be a whole number from 1"


def page_number(raw: str | None) -> int:
    """The page number asked for in a query string; 1 when absent.

    Raises InvalidPage for anything but a whole number from 1 (to MAX_PAGE_NUMBER).
    """
    if raw is None or raw.strip() == "":
        return 1
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise InvalidPage(f"{raw[:20]!r} is not a page number")
    number = int(text)
    if not 1 <= number <= MAX_PAGE_NUMBER:
        raise InvalidPage(f"{number} is not a page number")
    return number


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def previous_number(self) -> int | None:
        return self.number - 1 if self.has_previous else None

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.has_next else None

    @property
    def is_out_of_range(self) -> bool:
        return self.number > self.pages

    def numbers(self, around: int = 2) -> Iterator[int | None]:
        """Page numbers to link to: first, last and ``around`` each side; None marks a gap."""
        last = self.pages
        shown = sorted(
            {1, last}
            | set(range(max(1, self.number - around), min(last, self.number + around) + 1))
        )
        previous = 0
        for number in shown:
            if number - previous > 1:
                yield None
            yield number
            previous = number


def paginate(
    session: Session,
    statement: Select[Any],
    number: int,
    size: int,
    *,
    options: Sequence[Any] = (),
    total: int | None = None,
    fetch: Callable[[Session, Select[Any]], list[Any]] | None = None,
) -> Page[Any]:
    """Run ``statement`` for page ``number`` of ``size`` rows, plus a COUNT of all its rows
    unless the caller knows ``total`` (a count it kept).

    ``options`` (loader options such as ``selectinload``) apply to the page query only.
    ``fetch`` turns the page query into its items (default: the distinct ORM objects it
    selects), for a caller that reads plain rows into a read model of its own.
    """
    if total is None:
        total = count_rows(session, statement)
    if total == 0 or (number - 1) * size >= total:
        return Page(items=[], number=number, size=size, total=total)
    paged = statement.options(*options).limit(size).offset((number - 1) * size)
    if fetch is not None:
        return Page(items=fetch(session, paged), number=number, size=size, total=total)
    items = list(session.execute(paged).scalars().unique())
    return Page(items=items, number=number, size=size, total=total)


def count_rows(session: Session, statement: Select[Any]) -> int:
    """How many rows ``statement`` gives (one COUNT statement, its ORDER BY left out)."""
    count_statement = select(func.count()).select_from(statement.order_by(None).subquery())
    return int(session.execute(count_statement).scalar_one())

"""Lists paged by cursor: the position a request reads at, and the cursor of the next page."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from funnel.core.api.paging import PagePosition, decode_cursor, encode_cursor
from funnel.core.errors import ValidationFailed


@dataclass
class _Page:
    items: list[int]
    has_next: bool


def test_the_first_page_is_read_at_the_limit_asked_for() -> None:
    position = PagePosition.of({"limit": 7}, default_size=20, max_size=100)

    assert position == PagePosition(number=1, size=7)


def test_without_a_limit_the_first_page_has_the_default_size() -> None:
    assert PagePosition.of({}, default_size=20, max_size=100) == PagePosition(1, 20)
    assert PagePosition.of({"cursor": ""}, default_size=20, max_size=100) == PagePosition(1, 20)


def test_a_cursor_gives_the_page_and_its_size_whatever_the_limit() -> None:
    cursor = encode_cursor({"page": 3, "limit": 5})

    position = PagePosition.of({"cursor": cursor, "limit": 50}, default_size=20, max_size=100)

    assert position == PagePosition(number=3, size=5)


def test_no_size_is_more_than_the_maximum() -> None:
    cursor = encode_cursor({"page": 2, "limit": 1000})

    assert PagePosition.of({"cursor": cursor}, default_size=20, max_size=100).size == 100
    assert PagePosition.of({}, default_size=500, max_size=100).size == 100


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        encode_cursor({"page": 0, "limit": 2}),
        encode_cursor({"page": 2}),
        encode_cursor({"page": 2, "limit": 2, "extra": 1}),
        "x" * 201,
    ],
)
def test_a_cursor_the_api_did_not_make_is_a_422_on_the_cursor(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        PagePosition.of({"cursor": cursor}, default_size=20, max_size=100)

    assert list(refused.value.fields) == ["cursor"]


def test_the_next_cursor_holds_the_next_page_at_the_same_size() -> None:
    position = PagePosition(number=2, size=10)

    cursor = position.next_cursor(_Page(items=[1, 2], has_next=True))

    assert cursor is not None
    assert decode_cursor(cursor, ("page", "limit")) == {"page": 3, "limit": 10}


@pytest.mark.parametrize("page", [_Page(items=[1], has_next=False), _Page(items=[], has_next=True)])
def test_the_last_page_and_an_empty_one_have_no_next_cursor(page: _Page) -> None:
    assert PagePosition(number=2, size=10).next_cursor(page) is None

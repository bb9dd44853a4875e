"""Which page a feedback came from: only a path on this shop is kept, without its query."""

from __future__ import annotations

import pytest

from funnel.feedback.paths import same_site_path


@pytest.mark.story("US-65")
@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/products/mug", "/products/mug"),
        ("/search?q=mug&page=2", "/search"),
        ("/cart#lines", "/cart"),
        ("/", "/"),
        ("https://evil.example/products", None),
        ("//evil.example", None),
        ("//evil.example/path", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("products/mug", None),
        ("/a b", None),
        ("/line\nbreak", None),
        ("/" + "a" * 200, None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_only_a_same_site_path_is_kept(given: object, kept: str | None) -> None:
    assert same_site_path(given) == kept

"""The category tree: every category as a plain row, walked in Python.

The tree is small (tens to a few hundred rows) and every storefront page reads it (the menu,
breadcrumbs, a listing's subtree): it is read whole in one statement and walked here for
breadcrumbs, subcategories and descendants, instead of one query per level. Its nodes are frozen
rows, not ORM objects: loading them as objects cost a listing page more than its own rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CategoryNode:
    """A category as the tree holds it (what pages, the API and staff forms read of it)."""

    id: int
    parent_id: int | None
    name: str
    slug: str
    description: str
    position: int


@dataclass
class CategoryTree:
    categories: list[CategoryNode]
    by_id: dict[int, CategoryNode] = field(init=False)
    by_slug: dict[str, CategoryNode] = field(init=False)
    children: dict[int | None, list[CategoryNode]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {category.id: category for category in self.categories}
        self.by_slug = {category.slug: category for category in self.categories}
        self.children = {}
        for category in self.categories:
            self.children.setdefault(category.parent_id, []).append(category)

    @property
    def roots(self) -> list[CategoryNode]:
        return self.children.get(None, [])

    def subcategories(self, category: CategoryNode) -> list[CategoryNode]:
        return self.children.get(category.id, [])

    def ancestors(self, category: CategoryNode) -> list[CategoryNode]:
        """From the root down to the parent of ``category``."""
        chain: list[CategoryNode] = []
        seen = {category.id}
        parent_id = category.parent_id
        while parent_id is not None and parent_id not in seen and parent_id in self.by_id:
            seen.add(parent_id)
            parent = self.by_id[parent_id]
            chain.append(parent)
            parent_id = parent.parent_id
        return list(reversed(chain))

    def indented(self) -> list[tuple[CategoryNode, int]]:
        """Every category in tree order with its depth (0 for the top level)."""
        rows: list[tuple[CategoryNode, int]] = []
        seen: set[int] = set()

        def walk(parent_id: int | None, depth: int) -> None:
            for category in self.children.get(parent_id, []):
                if category.id not in seen:
                    seen.add(category.id)
                    rows.append((category, depth))
                    walk(category.id, depth + 1)

        walk(None, 0)
        return rows

    def descendant_ids(self, category: CategoryNode) -> list[int]:
        """``category`` and every category below it."""
        ids: list[int] = []
        stack = [category]
        while stack:
            current = stack.pop()
            if current.id in ids:
                continue
            ids.append(current.id)
            stack.extend(self.children.get(current.id, []))
        return ids

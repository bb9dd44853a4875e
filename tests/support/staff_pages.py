"""Helpers of the staff page tests: a browser of each role, and the catalogue state to compare."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
import sqlalchemy as sa

from funnel.accounts.models import Role
from funnel.accounts.permissions import ROLE_PERMISSIONS, Permission
from funnel.catalog.models import Category
from funnel.extensions import db
from tests.factories.accounts import UserFactory

# Who calls, in the page authorisation matrix.
PAGE_ROLES = ("anonymous", "customer", "staff_without_catalogue", "staff", "admin")


def browser_for(role: str, client: Any, signed_in: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A test client of a new account with ``role``; ``staff_without_catalogue`` is a staff
    member whose role lacks ``catalog.manage`` (no such role ships: the map is patched)."""
    if role == "anonymous":
        return client
    if role == "staff_without_catalogue":
        monkeypatch.setitem(
            ROLE_PERMISSIONS,
            Role.STAFF,
            ROLE_PERMISSIONS[Role.STAFF] - {Permission.CATALOG_MANAGE},
        )
        role = "staff"
    user = UserFactory(email=f"{role}-browser@example.com", role=Role(role))
    return signed_in(user)


def category_state() -> list[tuple[object, ...]]:
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                Category.id,
                Category.name,
                Category.slug,
                Category.parent_id,
                Category.description,
                Category.position,
            ).order_by(Category.id)
        ).all()
    ]


def field_error(page: str, field_id: str) -> str:
    """The message shown beside the field ``field_id`` ("" when none)."""
    match = re.search(
        rf'<small id="{re.escape(field_id)}-error" class="field-error">([^<]*)<', page
    )
    return html.unescape(match.group(1)) if match else ""

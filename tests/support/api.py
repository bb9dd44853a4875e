"""Fixtures of the API tests: bearer tokens made without a password check (fast), helpers."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from funnel.accounts.models import ApiToken, User
from funnel.accounts.services.api_tokens import SECRET_PREFIX
from funnel.accounts.tokens import hash_token
from funnel.core import clock
from funnel.extensions import db

PROBLEM_JSON = "application/problem+json"


def live_token(user: User, *, days: int = 30, name: str = "test") -> str:
    """The secret of a new live API token of ``user``, written straight to the database."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    now = clock.utcnow()
    db.session.add(
        ApiToken(
            user_id=user.id,
            name=name,
            token_hash=hash_token(secret),
            prefix=secret[:12],
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    db.session.commit()
    return secret


@pytest.fixture
def bearer(app: Flask) -> Callable[..., dict[str, str]]:
    """``bearer(user, days=30)``: the Authorization header of a new live token of ``user``."""

    def make(user: User, days: int = 30) -> dict[str, str]:
        return {"Authorization": f"Bearer {live_token(user, days=days)}"}

    return make


def problem(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status`` and ``code``; its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    return body

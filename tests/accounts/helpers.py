"""Helpers shared by the accounts tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest

from funnel.core import clock
from tests.support.mailbox import Mailbox

START = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
SESSION_COOKIE = "funnel_session"


class Clock:
    """A clock the test moves by hand (every ``clock.utcnow()`` caller sees it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: datetime = START) -> None:
        self.now = now
        monkeypatch.setattr(clock, "utcnow", lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def link_in(mailbox: Mailbox, message: EmailMessage) -> str:
    """The one absolute link in a message's text body, as a path the test client can open."""
    [url] = re.findall(r"https?://\S+", mailbox.body(message))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "http://127.0.0.1:5000"
    return parts.path

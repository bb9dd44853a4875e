"""Reading ``FUNNEL_`` variables: every malformed value noted, with the variable's name, so that
an operator sees all that is wrong in one start; and every integer setting's range."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

PREFIX = "FUNNEL_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
_DAY_MINUTES = 24 * 60
_MEGABYTE = 1024 * 1024

# Every integer setting's range: (lowest, highest, how a message names it).
INTEGER_RANGES: dict[str, tuple[int, int, str]] = {
    "HSTS_SECONDS": (0, 2 * 365 * 86400, "from 0 to 63072000 seconds (two years)"),
    "SESSION_IDLE_MINUTES": (1, 7 * _DAY_MINUTES, "from 1 to 10080 minutes (a week)"),
    "SESSION_ABSOLUTE_MINUTES": (1, 90 * _DAY_MINUTES, "from 1 to 129600 minutes (90 days)"),
    "STAFF_SESSION_IDLE_MINUTES": (1, _DAY_MINUTES, "from 1 to 1440 minutes (a day)"),
    "STAFF_SESSION_ABSOLUTE_MINUTES": (1, 7 * _DAY_MINUTES, "from 1 to 10080 minutes (a week)"),
    "PASSWORD_RESET_MINUTES": (5, _DAY_MINUTES, "from 5 to 1440 minutes (a day)"),
    "MAIL_PORT": (1, 65535, "a port from 1 to 65535"),
    "PAGE_SIZE": (1, 200, "from 1 to 200"),
    "MAX_CONTENT_LENGTH": (_MEGABYTE, 1024 * _MEGABYTE, "from 1048576 to 1073741824 bytes"),
    "API_MAX_CONTENT_LENGTH": (1024, 100 * _MEGABYTE, "from 1024 to 104857600 bytes"),
    "API_TOKEN_DAYS": (1, 366, "from 1 to 366 days"),
    "IDEMPOTENCY_KEY_HOURS": (1, 30 * 24, "from 1 to 720 hours (30 days)"),
    "REQUEST_TIMEOUT_SECONDS": (0, 3600, "from 0 (no deadline) to 3600 seconds"),
    "IDEMPOTENCY_LOCK_SECONDS": (1, 3600, "from 1 to 3600 seconds"),
    "TRUSTED_PROXIES": (0, 5, "from 0 to 5 proxies"),
    "TEST_GATEWAY_SETTLE_SECONDS": (0, 3600, "from 0 to 3600 seconds"),
    "TEST_GATEWAY_LATENCY_MS": (0, 60_000, "from 0 to 60000 milliseconds"),
    "MANUAL_PAYMENT_DAYS": (1, 365, "from 1 to 365 days"),
    "RESERVATION_MINUTES": (1, _DAY_MINUTES, "from 1 to 1440 minutes (a day)"),
    "RESERVATION_MAX_SHARE": (1, 100, "a percentage from 1 to 100"),
    "LOW_STOCK_THRESHOLD": (0, 1_000_000, "0 or more (up to 1000000)"),
    "ANALYTICS_RETENTION_DAYS": (1, 3660, "from 1 to 3660 days (ten years)"),
    "ANALYTICS_BATCH_MILLISECONDS": (0, 10_000, "from 0 (write each at once) to 10000 ms"),
    "PAGE_CACHE_SECONDS": (0, 60, "from 0 (every page rendered afresh) to 60 seconds"),
    "CART_RETENTION_DAYS": (1, 3660, "from 1 to 3660 days (ten years)"),
    "DEFAULT_TAX_RATE": (0, 10_000, "from 0 to 10000 basis points (100 %)"),
}


class ConfigurationError(RuntimeError):
    """The environment asks for something Funnel cannot run with: one message per problem."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        if len(problems) == 1:
            message = problems[0]
        else:
            listed = "\n".join(f"- {problem}" for problem in problems)
            message = f"Funnel cannot start, {len(problems)} settings are wrong:\n{listed}"
        super().__init__(message)


class Reader:
    """Reads ``FUNNEL_`` variables, noting every malformed one instead of stopping at the first,
    so that an operator sees all that is wrong in one start."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(PREFIX + name)
        return default if value in (None, "") else value

    def integer(self, name: str, default: int) -> int:
        """An integer within the variable's range (``INTEGER_RANGES``); the default otherwise."""
        lowest, highest, meaning = INTEGER_RANGES[name]
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{PREFIX}{name} must be an integer, not {raw!r}")
            return default
        if not lowest <= value <= highest:
            self.problems.append(f"{PREFIX}{name} must be {meaning}, not {value}")
            return default
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        # A typo must not silently turn a security setting off.
        self.problems.append(f"{PREFIX}{name} must be true or false, not {raw!r}")
        return default

    def url(self, name: str, default: str | None, schemes: tuple[str, ...]) -> str | None:
        """A URL whose scheme is one of ``schemes`` (``redis`` also allows ``redis+...``)."""
        value = self.text(name, default)
        if value is None:
            return None
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        has_place = parts.netloc or parts.path.strip("/") or scheme == "memory"
        if not {scheme, scheme.split("+")[0]} & set(schemes) or not has_place:
            shown = without_password(value)
            self.problems.append(f"{PREFIX}{name} is not a URL such as {schemes[0]}://: {shown!r}")
            return default
        return value

    def matching(self, name: str, default: str, pattern: re.Pattern[str], meaning: str) -> str:
        """A value that matches ``pattern`` in full (``meaning`` says what that is)."""
        value = self.text(name, default) or default
        if not pattern.fullmatch(value):
            self.problems.append(f"{PREFIX}{name} must be {meaning}, not {value!r}")
            return default
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = self.text(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value not in choices:
            self.problems.append(f"{PREFIX}{name} must be one of {', '.join(choices)}, not {raw!r}")
            return default
        return value

    def origins(self, name: str) -> tuple[str, ...]:
        """A comma-separated list of web origins (``https://shop.example.com``) or ``*``."""
        origins = tuple(
            origin.strip().rstrip("/")
            for origin in (self.text(name) or "").split(",")
            if origin.strip()
        )
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                self.problems.append(
                    f"{PREFIX}{name}: {origin!r} is not an origin such as https://shop.example.com"
                )
                return ()
        return origins

    def networks(self, name: str) -> tuple[str, ...]:
        """A comma-separated list of IP addresses or CIDR networks (``10.0.0.0/8,::1``)."""
        entries = tuple(
            entry.strip() for entry in (self.text(name) or "").split(",") if entry.strip()
        )
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                self.problems.append(
                    f"{PREFIX}{name}: {entry!r} is not an IP address or network such as 10.0.0.0/8"
                )
                return ()
        return entries


def without_password(url: str) -> str:
    """A URL fit for a message: its password, if any, replaced."""
    password = urlsplit(url).password
    return url.replace(f":{password}@", ":***@", 1) if password else url

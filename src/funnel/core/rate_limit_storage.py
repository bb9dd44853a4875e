"""Rate-limit counters in a SQLite file, shared by every worker process of one machine.

The limits library keeps counts either in one process's memory (each gunicorn worker then
counts alone: four workers let four times the documented attempts through) or in a server
such as Redis. With no Redis configured, Funnel keeps them in a small SQLite file in the
instance folder, so that ``gunicorn -w 4`` on one machine enforces the documented limits with
no set-up. Several machines need Redis (``FUNNEL_REDIS_URL``): a file is one machine's.

Registered with the limits library under its own scheme, ``funnel+sqlite:///<path>``
(SQLAlchemy's convention: four slashes before an absolute path). It serves the fixed-window
strategy, Flask-Limiter's default and the only one Funnel uses.

Each call opens its own connection: nothing is shared across threads or a fork, and no handle
outlives the call. The file runs in WAL mode with a busy timeout; an increment is one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement, atomic in SQLite, that also
starts a new window when the previous one has expired.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlparse

from limits.storage import Storage

from funnel.config import RATE_LIMIT_SQLITE_SCHEME as SCHEME

BUSY_TIMEOUT_SECONDS = 5.0
PURGE_EVERY_SECONDS = 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_limit_counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID
"""

_INCREMENT = """
INSERT INTO rate_limit_counters (key, count, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires_at <= :now THEN :amount ELSE count + :amount END,
    expires_at = CASE WHEN expires_at <= :now THEN :now + :expiry ELSE expires_at END
RETURNING count
"""


class SQLiteStorage(Storage):
    """A limits ``Storage`` over one SQLite file (fixed-window counters with expiry)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: object):
        path = urlparse(uri or "").path[1:]
        if not path:
            raise ValueError(f"{SCHEME} needs a file: {SCHEME}:////path/to/rate-limits.db")
        self.path = Path(path)
        self._purged_at = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(_SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connect(self) -> closing[sqlite3.Connection]:
        # The timeout is SQLite's busy timeout: wait for another worker's write, never fail.
        return closing(
            sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        )

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._connect() as connection:
            row = connection.execute(
                _INCREMENT, {"key": key, "amount": amount, "now": now, "expiry": expiry}
            ).fetchone()
            if now - self._purged_at > PURGE_EVERY_SECONDS:
                # Expired counters no longer count; drop them now and then so the file stays small.
                self._purged_at = now
                connection.execute("DELETE FROM rate_limit_counters WHERE expires_at <= ?", (now,))
        return int(row[0])

    def get(self, key: str) -> int:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT count FROM rate_limit_counters WHERE key = ? AND expires_at > ?",
                (key, time.time()),
            ).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self._connect() as connection:
            row = connection.execute(
                "SELECT expires_at FROM rate_limit_counters WHERE key = ? AND expires_at > ?",
                (key, now),
            ).fetchone()
        return float(row[0]) if row else now

    def check(self) -> bool:
        try:
            with self._connect() as connection:
                connection.execute("SELECT 1 FROM rate_limit_counters LIMIT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        with self._connect() as connection:
            return connection.execute("DELETE FROM rate_limit_counters").rowcount

    def clear(self, key: str) -> None:
        with self._connect() as connection:
            connection.execute("DELETE FROM rate_limit_counters WHERE key = ?", (key,))

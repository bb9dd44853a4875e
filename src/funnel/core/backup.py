"""Back up and restore a SQLite database, with SQLite's own online backup API.

Why the backup API and not a file copy: the shop runs in WAL mode, so committed rows may still sit
in ``funnel.db-wal``; a copy of the main file alone can miss them or catch a page mid-write. The
backup API reads one consistent snapshot through SQLite itself, while the shop goes on writing
(WAL readers do not block the writer).

Why a temporary file and a rename: a backup cut short (disk full, killed) must never leave a file
that looks like a good backup, nor replace an older good one.

This module knows no domain: the caller says which migration revisions it knows.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

BEFORE_RESTORE_SUFFIX = ".before-restore"
DUMP_ROUTE = {
    "postgresql": (
        "PostgreSQL: pg_dump --format=custom --file=funnel.dump DATABASE, and pg_restore "
        "--clean --if-exists --dbname=DATABASE funnel.dump"
    ),
    "mysql": (
        "MariaDB/MySQL: mariadb-dump --single-transaction --routines DATABASE > funnel.sql, "
        "and mariadb DATABASE < funnel.sql"
    ),
}


class BackupRefused(Exception):
    """The backup or restore was not done; the message says why and what to do instead."""


@dataclass(frozen=True)
class BackupFile:
    """What a checked backup holds: its migration revisions, and whether they are the newest."""

    path: Path
    revisions: frozenset[str]
    is_current: bool


def sqlite_path(url: str | URL) -> Path:
    """The file of a SQLite database URL; refuses any other database with the route to use."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend != "sqlite":
        dialect = "mysql" if backend in {"mysql", "mariadb"} else backend
        route = DUMP_ROUTE.get(dialect, "the database's own dump and restore tools")
        raise BackupRefused(
            f"backup and restore work on SQLite only; this shop's database is {backend}. "
            f"Use the database's own tools instead ({route}); the operator manual, "
            '"Back up", gives the steps.'
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupRefused("this shop's SQLite database is in memory: there is nothing to back up")
    return Path(parsed.database)


def back_up(database: Path, destination: Path, *, force: bool = False) -> Path:
    """Copy ``database`` to ``destination`` as one consistent snapshot, while the shop runs.

    Raises BackupRefused when the database does not exist or ``destination`` does and ``force``
    is not given. Side effects: writes ``destination`` (a single file in rollback-journal mode,
    so it is complete by itself) through a temporary file in the same folder, renamed into place.
    """
    if not database.is_file():
        raise BackupRefused(f"there is no database at {database}")
    if destination.exists() and not force:
        raise BackupRefused(f"{destination} exists; give --force to replace it")
    if destination.resolve() == database.resolve():
        raise BackupRefused("the backup cannot replace the database itself")
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    temporary.unlink(missing_ok=True)
    try:
        _copy(database, temporary, single_file=True)
        _replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
    return destination


def inspect_backup(
    path: Path, *, known_revisions: Collection[str], head_revisions: Collection[str]
) -> BackupFile:
    """Check that ``path`` is a Funnel database at a migration revision this version knows.

    Raises BackupRefused for a missing file, a file that is not a SQLite database, a SQLite
    database without Funnel's migration table, and one made by a newer version of Funnel.
    """
    if not path.is_file():
        raise BackupRefused(f"there is no file at {path}")
    try:
        connection = sqlite3.connect(path)
        try:
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        detail = "it has no migration table" if "no such table" in str(error) else str(error)
        raise BackupRefused(f"{path} is not a Funnel SQLite database ({detail})") from error
    revisions = frozenset(row[0] for row in rows)
    if not revisions:
        raise BackupRefused(f"{path} is not a Funnel database (it holds no migration revision)")
    unknown = sorted(revisions - set(known_revisions))
    if unknown:
        raise BackupRefused(
            f"{path} was made by a newer version of Funnel (migration {', '.join(unknown)} is "
            "unknown to this one): upgrade Funnel first, then restore"
        )
    return BackupFile(path, revisions, is_current=revisions == frozenset(head_revisions))


def restore(backup: BackupFile, database: Path) -> Path | None:
    """Replace the contents of ``database`` with the checked ``backup``; the shop must be stopped.

    Side effects: the current database, when there is one, is first saved (consistently, WAL
    included) as ``<name>.before-restore``; raises BackupRefused when that file exists already,
    so an earlier saved database is never overwritten. The backup is written into the database
    through SQLite's backup API in one transaction, which also clears its WAL: a restore cut
    short leaves the database as it was. Returns the saved file, or None when there was none.
    """
    if database.exists() and backup.path.resolve() == database.resolve():
        raise BackupRefused("that file is the shop's database itself")
    saved: Path | None = None
    if database.exists():
        saved = database.with_name(database.name + BEFORE_RESTORE_SUFFIX)
        if saved.exists():
            raise BackupRefused(
                f"{saved} exists, from an earlier restore: move it away (or delete it) first"
            )
        back_up(database, saved)
    database.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup.path, database, single_file=False)
    return saved


def _copy(source: Path, target: Path, *, single_file: bool) -> None:
    """Copy one SQLite database into another with the backup API, then make it durable.

    ``single_file``: leave the target in rollback-journal mode (a backup file, complete by
    itself); otherwise (the shop's own database) fold the WAL into the main file.
    """
    reader = sqlite3.connect(source)
    writer = sqlite3.connect(target)
    try:
        reader.execute("PRAGMA busy_timeout=15000")
        writer.execute("PRAGMA busy_timeout=15000")
        reader.backup(writer)  # every page in one step: one snapshot of the source
        if single_file:
            writer.execute("PRAGMA journal_mode=DELETE")
        else:
            writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (verdict,) = writer.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            raise BackupRefused(f"the copy failed SQLite's check: {verdict}")
    finally:
        writer.close()
        reader.close()
    _fsync(target)


def _replace(temporary: Path, destination: Path) -> None:
    os.replace(temporary, destination)
    _fsync(destination.parent)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

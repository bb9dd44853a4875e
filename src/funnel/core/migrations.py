"""Flask-Migrate, loaded only by what migrates: the ``flask db`` commands, tests and benches.

Flask-Migrate imports Alembic (and Mako) with itself: about 11 MB in every web worker, which
never migrates. ``init_app`` gives the app what ``Migrate.init_app`` would (the
``extensions["migrate"]`` entry that Flask-Migrate's functions, ``migrations/env.py`` and the
tests read, and the ``db`` command group) without importing it: ``Migrations.migrate`` makes
the ``Migrate`` object when something first asks for it, and the ``db`` group loads
Flask-Migrate's commands when the command line runs one of them. The readiness check reads the
newest revisions from the scripts themselves (``head_revisions``), so probing it loads nothing.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

if TYPE_CHECKING:
    from flask_migrate import Migrate

EXTENSION = "migrate"  # the name Flask-Migrate's functions look it up by
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*(.+)$", re.MULTILINE)
_NAME = re.compile(r"['\"]([^'\"]+)['\"]")


class Migrations:
    """What ``app.extensions["migrate"]`` holds: the database, the scripts' folder and the
    options Alembic compares and migrates with; Flask-Migrate itself when first asked."""

    def __init__(self, database: SQLAlchemy, directory: str, **configure_args: Any) -> None:
        self.db = database
        self.directory = directory
        self.configure_args = configure_args
        self._migrate: Migrate | None = None

    @property
    def metadata(self) -> Any:
        return self.db.metadata

    @property
    def migrate(self) -> Migrate:
        if self._migrate is None:
            from flask_migrate import Migrate

            self._migrate = Migrate(db=self.db, directory=self.directory, **self.configure_args)
        return self._migrate


class _DeferredGroup(click.Group):
    """A command group that is Flask-Migrate's ``db`` group once the command line runs it."""

    def _group(self) -> click.Group:
        from flask_migrate.cli import db

        return db

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._group().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._group().get_command(ctx, cmd_name)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        return self._group().make_context(info_name, args, parent=parent, **extra)


def init_app(app: Flask, database: SQLAlchemy, directory: str, **configure_args: Any) -> None:
    """Register the migrations of ``database`` in ``directory``, and the ``flask db`` commands."""
    app.extensions[EXTENSION] = Migrations(database, directory, **configure_args)
    app.cli.add_command(_DeferredGroup("db", help="Perform database migrations."))


@cache
def head_revisions(directory: str) -> frozenset[str]:
    """The newest revisions of the scripts in ``directory``: those no other script revises
    (what Alembic's ``get_heads`` gives, read with two patterns). Read once per process."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in Path(directory, "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        revision = _REVISION.search(text)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        down = _DOWN_REVISION.search(text)
        if down is not None:
            revised.update(_NAME.findall(down.group(1)))
    return frozenset(revisions - revised)

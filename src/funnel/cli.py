"""Command-line commands (``flask --app funnel ...``), gathered from the domains."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

import click
from celery import Celery
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

if TYPE_CHECKING:
    from tqdm import tqdm

log = logging.getLogger(__name__)

jobs_group = AppGroup("jobs", help="The periodic jobs: list them, or run one once now.")
catalog_group = AppGroup("catalog", help="The catalogue as CSV: export it, import it (US-17).")
assets_group = AppGroup("assets", help="The static files, fingerprinted and compressed (US-66).")


def register_commands(app: Flask) -> None:
    from funnel.accounts.cli import create_admin_command, reset_two_factor_command
    from funnel.checkout.cli import payments_group
    from funnel.demo import demo_command

    app.cli.add_command(create_admin_command)
    app.cli.add_command(reset_two_factor_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(jobs_group)
    app.cli.add_command(catalog_group)
    app.cli.add_command(assets_group)
    app.cli.add_command(payments_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


def _celery() -> Celery:
    return current_app.extensions["celery"]


def _schedule() -> dict[str, dict[str, Any]]:
    """The periodic jobs by name, as Celery beat runs them."""
    return dict(_celery().conf.beat_schedule)


def _every(schedule: Any) -> str:
    seconds = schedule.total_seconds() if isinstance(schedule, timedelta) else schedule
    if not isinstance(seconds, int | float):
        return str(schedule)  # a crontab
    seconds = int(seconds)
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _summary(task_name: str) -> str:
    doc = (_celery().tasks[task_name].__doc__ or "").strip()
    return doc.splitlines()[0].replace("``", "") if doc else ""


@jobs_group.command("list")
def list_jobs_command() -> None:
    """List the periodic jobs: name, interval and what each does."""
    schedule = _schedule()
    width = max((len(name) for name in schedule), default=0)
    for name, entry in schedule.items():
        every = f"every {_every(entry['schedule'])}"
        click.echo(f"{name:<{width}}  {every:<14}  {_summary(entry['task'])}")


@jobs_group.command("run")
@click.argument("name")
def run_job_command(name: str) -> None:
    """Run the periodic job NAME once, now, in this process (see `jobs list`).

    It does what the scheduled run does, with or without a broker; the exit status is 0 when
    the job completed and 1 when it failed.
    """
    schedule = _schedule()
    entry = schedule.get(name)
    if entry is None:
        raise click.UsageError(
            f"No job named {name!r}. The jobs are: {', '.join(schedule)} "
            "(flask --app funnel jobs list)."
        )
    try:
        result = _celery().tasks[entry["task"]].apply(throw=True).get()
    except Exception as error:
        log.exception("job %s failed", name)
        raise click.ClickException(f"The job {name} failed: {error}") from error
    click.echo(f"{name}: done ({result})")


@catalog_group.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8", lazy=True))
def export_catalog_command(file: TextIO) -> None:
    """Write every product and variant, with its stock on hand, to FILE as CSV ("-": stdout)."""
    from funnel.catalog.services.csv_export import export_catalogue_csv

    for chunk in export_catalogue_csv():
        file.write(chunk)
    if file is not sys.stdout:
        click.echo(f"Exported the catalogue to {file.name}.", err=True)


class _ProgressBars:
    """tqdm bars on stderr, one per stage the import reports."""

    def __init__(self) -> None:
        self.stage = ""
        self.bar: tqdm[Any] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm  # the command line's own: no web worker loads it

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit="step", file=sys.stderr, leave=False)
        assert self.bar is not None
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@catalog_group.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--dry-run", is_flag=True, help="Check the file and say what would change; write nothing."
)
def import_catalog_command(file: BinaryIO, dry_run: bool) -> None:
    """Import products and variants, with their stock, from the CSV FILE.

    Every row is checked first: on an error nothing is written, each error is listed by row
    and column, and the exit status is 1. Stock levels are set through the stock ledger.
    """
    from funnel.catalog.errors import InvalidCatalogFile
    from funnel.inventory import services as inventory

    use_case = inventory.preview_catalogue_import if dry_run else inventory.import_catalogue
    bars = _ProgressBars()
    try:
        summary = use_case(file.read(), progress=bars)
    except InvalidCatalogFile as error:
        bars.close()
        for problem in error.errors:
            column = f", column {problem.column}" if problem.column else ""
            click.echo(f"Row {problem.row}{column}: {problem.message}", err=True)
        raise click.ClickException(f"{error.detail} Nothing was imported.") from error
    bars.close()
    verb = "would be" if dry_run else "were"
    click.echo(f"{summary.rows} rows read{' (dry run: nothing written)' if dry_run else ''}.")
    click.echo(f"Products: {summary.products_created} created, {summary.products_updated} updated.")
    click.echo(f"Variants: {summary.variants_created} created, {summary.variants_updated} updated.")
    click.echo(f"Categories created: {len(summary.categories_created)}.")
    click.echo(
        f"Stock levels changed: {len(summary.stock_changes)} ({verb} counted in the ledger)."
    )


@assets_group.command("build")
@click.argument("output", required=False, type=click.Path(file_okay=False, path_type=Path))
def build_assets_command(output: Path | None) -> None:
    """Write the static files into OUTPUT for nginx: each under its fingerprinted and its
    plain name, with gzip twins and manifest.json (default: the instance folder's static/)."""
    from funnel.core import static_files

    assert current_app.static_folder is not None
    folder = output or Path(current_app.instance_path) / "static"
    manifest = static_files.build_manifest(Path(current_app.static_folder))
    try:
        count = static_files.write_build(manifest, folder)
    except FileExistsError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{len(manifest.assets)} static files, {count} files written to {folder}")


def _migration_revisions() -> tuple[set[str], set[str]]:
    """Every migration revision this version of Funnel knows, and its heads."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(current_app.extensions["migrate"].directory)
    return {script.revision for script in scripts.walk_revisions()}, set(scripts.get_heads())


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE when it exists.")
@with_appcontext
def backup_command(file: Path, force: bool) -> None:
    """Back up the SQLite database to FILE while the shop runs (US-54).

    The copy is one consistent snapshot (SQLite's online backup API), written to a temporary
    file and renamed into place. PostgreSQL and MariaDB are backed up with their own tools.
    """
    from funnel.core import backup
    from funnel.extensions import db

    try:
        database = backup.sqlite_path(db.engine.url)
        backup.back_up(database, file, force=force)
    except backup.BackupRefused as error:
        raise click.ClickException(f"No backup made: {error}.") from error
    click.echo(f"Backed up {database} to {file}.")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm that the shop and its workers are stopped.")
@with_appcontext
def restore_command(file: Path, yes: bool) -> None:
    """Replace the SQLite database with the backup FILE; stop the shop first (US-54).

    The backup is checked first (a Funnel database at a migration this version knows); the
    current database is kept as <name>.before-restore.
    """
    from funnel.core import backup
    from funnel.extensions import db

    known, heads = _migration_revisions()
    try:
        database = backup.sqlite_path(db.engine.url)
        checked = backup.inspect_backup(file, known_revisions=known, head_revisions=heads)
        if not yes:
            raise click.ClickException(
                f"{file} is a Funnel backup that can be restored. Stop the shop (web server, "
                "workers and scheduler) first, then run this command again with --yes."
            )
        db.engine.dispose()
        saved = backup.restore(checked, database)
    except backup.BackupRefused as error:
        raise click.ClickException(f"Nothing restored: {error}.") from error
    if saved is not None:
        click.echo(f"The database as it was is kept in {saved}.")
    click.echo(f"Restored {file} into {database}.")
    if not checked.is_current:
        click.echo(
            "The backup is from an earlier version: run `flask --app funnel db upgrade heads` "
            "before starting the shop."
        )

"""Command-line commands (``flask --app funnel ...``), gathered from the domains."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import click
from celery import Celery
from flask import Flask, current_app
from flask.cli import AppGroup

log = logging.getLogger(__name__)

jobs_group = AppGroup("jobs", help="The periodic jobs: list them, or run one once now.")


def register_commands(app: Flask) -> None:
    from funnel.accounts.cli import create_admin_command
    from funnel.demo import demo_command

    app.cli.add_command(create_admin_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(jobs_group)


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

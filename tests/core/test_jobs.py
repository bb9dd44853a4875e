"""The in-process scheduler that runs the beat schedule for `make run` (no broker)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.schedules import crontab
from flask import Flask

from funnel.core.jobs import InProcessScheduler, schedule_intervals


def test_only_interval_schedules_run_in_process() -> None:
    schedule = {
        "seconds": {"task": "a", "schedule": 5.0},
        "delta": {"task": "b", "schedule": timedelta(minutes=2)},
        "cron": {"task": "c", "schedule": crontab(minute=0)},
    }

    assert schedule_intervals(schedule) == [("a", 5.0), ("b", 120.0)]


@pytest.mark.backends("sqlite")  # no database work: once is enough
@pytest.mark.own_app  # the test adds its own jobs to the app
def test_each_job_runs_at_its_interval_and_a_failure_does_not_stop_the_others(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    # given two periodic tasks, one of which fails
    celery_app = app.extensions["celery"]
    runs: list[str] = []

    @celery_app.task(name="tests.jobs.counted")
    def counted() -> None:
        runs.append("counted")

    @celery_app.task(name="tests.jobs.failing")
    def failing() -> None:
        runs.append("failing")
        raise RuntimeError("boom")

    celery_app.conf.beat_schedule = {
        "failing": {"task": "tests.jobs.failing", "schedule": 10.0},
        "counted": {"task": "tests.jobs.counted", "schedule": 5.0},
    }
    scheduler = InProcessScheduler(app, celery_app)
    due: dict[str, float] = {}

    # when time passes: 0 s (both due), 3 s (none), 6 s (the 5 s one), 11 s (both)
    for now in (0.0, 3.0, 6.0, 11.0):
        scheduler.run_due(due, now)

    # then each ran at its turns, and the failure was logged each time
    assert runs == ["failing", "counted", "counted", "failing", "counted"]
    failures = [r.message for r in caplog.records if r.levelname == "ERROR"]
    assert failures == ["in-process job tests.jobs.failing failed"] * 2


@pytest.mark.backends("sqlite")
@pytest.mark.config(JOBS_IN_PROCESS=True)
def test_tests_never_start_the_scheduler_thread(app: Flask) -> None:
    assert "funnel.scheduler" not in app.extensions

"""Celery entry point: ``celery -A funnel.worker worker`` (and ``beat`` for periodic jobs)."""

from funnel import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]

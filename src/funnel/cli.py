"""Command-line commands (``flask --app funnel ...``), gathered from the domains."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from funnel.accounts.cli import create_admin_command
    from funnel.demo import demo_command

    app.cli.add_command(create_admin_command)
    app.cli.add_command(demo_command)

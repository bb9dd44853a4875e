"""Errors of the settings domain."""

from __future__ import annotations


class InitialSettingsError(ValueError):
    """An initial value from the environment cannot be read (the shop refuses to start)."""

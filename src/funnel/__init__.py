"""Funnel: a self-hosted online shop that measures its own sales funnel."""

from funnel.app import create_app

__all__ = ["create_app"]

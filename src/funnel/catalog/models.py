"""Catalogue tables (placeholder until the catalogue domain lands)."""

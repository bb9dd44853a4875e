"""Checkout: orchestrates cart -> inventory -> orders -> payments, and owns gateway webhooks."""

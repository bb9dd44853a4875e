"""``flask --app funnel demo``: the demo shop — a catalogue, two accounts and, when asked, a
long history of visits and orders for the reports (``demo.history``)."""

from funnel.demo.catalogue import (
    DEMO_ACCOUNTS,
    create_demo_accounts,
    demo_command,
    load_demo_catalogue,
)

__all__ = ["DEMO_ACCOUNTS", "create_demo_accounts", "demo_command", "load_demo_catalogue"]

"""Account tables (placeholder until the accounts domain lands)."""

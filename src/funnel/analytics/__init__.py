"""Analytics: the shop's own sales-funnel events, first-party, with no third-party script.

This domain knows no other: services record events with plain ids (``services.record_event``),
the edge (``web.init_app``) gives each browser an anonymous visitor id and records one visit
per visitor and day, and the reports above read ``queries.funnel_counts``.
"""

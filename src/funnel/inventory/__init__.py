"""Inventory: stock levels, reservations and the stock ledger.

The catalogue owns ``variants.stock_quantity``; after a variant is created, only this domain
changes it, always with a conditional ``UPDATE`` and always writing a ``StockMovement`` row.
Public API: ``funnel.inventory.services`` (writes) and ``funnel.inventory.queries`` (reads).
"""

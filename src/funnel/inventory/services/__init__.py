"""Inventory use cases: the only code that changes a variant's stock after it is created.

Stock changes (``ledger``): ``adjust_stock`` (staff), ``return_stock`` (cancellations, refunds
and returns). Reservations (``reservations``): ``reserve``, ``release``, ``commit_reservation``
(the checkout turns its reservation into a sale), ``delete_expired_reservations`` (the job).
Thresholds (``thresholds``): ``set_low_stock_threshold`` (staff).

Every function runs in ``with transaction():``, joining the caller's transaction when there is
one, and touches variant rows in ascending id order.
"""

from funnel.inventory.services.ledger import adjust_stock, return_stock
from funnel.inventory.services.reservations import (
    commit_reservation,
    delete_expired_reservations,
    release,
    reserve,
)
from funnel.inventory.services.thresholds import set_low_stock_threshold

__all__ = [
    "adjust_stock",
    "commit_reservation",
    "delete_expired_reservations",
    "release",
    "reserve",
    "return_stock",
    "set_low_stock_threshold",
]

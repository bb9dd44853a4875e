"""Inventory use cases: the only code that changes a variant's stock after it is created.

Stock changes (``ledger``): ``adjust_stock`` (staff), ``return_stock`` (cancellations, refunds
and returns). Reservations (``reservations``): ``reserve``, ``release``, ``commit_reservation``
(the checkout turns its reservation into a sale), ``delete_expired_reservations`` (the job).
Thresholds (``thresholds``): ``set_low_stock_threshold`` (staff). Counts (``counts``):
``set_stock_levels`` (many variants at once). The catalogue CSV import (``catalogue_import``):
``preview_catalogue_import``, ``import_catalogue``.

Every function runs in ``with transaction():``, joining the caller's transaction when there is
one, and touches variant rows in ascending id order.
"""

from funnel.inventory.services.catalogue_import import (
    ImportSummary,
    import_catalogue,
    preview_catalogue_import,
)
from funnel.inventory.services.counts import set_stock_levels
from funnel.inventory.services.ledger import adjust_stock, return_stock
from funnel.inventory.services.reservations import (
    commit_reservation,
    delete_expired_reservations,
    release,
    reserve,
)
from funnel.inventory.services.thresholds import set_low_stock_threshold

__all__ = [
    "ImportSummary",
    "adjust_stock",
    "commit_reservation",
    "delete_expired_reservations",
    "import_catalogue",
    "preview_catalogue_import",
    "release",
    "reserve",
    "return_stock",
    "set_low_stock_threshold",
    "set_stock_levels",
]

"""Import a catalogue CSV (US-17): the catalogue's changes and the stock counts, as one.

The catalogue services read the file, compare it with the shop and write products and
variants; the stock levels the file gives are then set through the ledger
(``set_stock_levels``, reason ``counted``), so every change of stock has a movement. This use
case sits in inventory because it needs both domains (inventory depends on the catalogue, never
the other way round).
"""

from __future__ import annotations

from dataclasses import dataclass

from funnel.audit import services as audit
from funnel.catalog.services.csv_apply import apply_catalogue_plan
from funnel.catalog.services.csv_import import Progress
from funnel.catalog.services.csv_plan import CataloguePlan, StockChange, plan_catalogue_import
from funnel.inventory.models import MovementReason
from funnel.inventory.services.counts import set_stock_levels
from funnel.inventory.services.ledger import check_staff_permission, stock_transaction

IMPORT_NOTE = "Catalogue CSV import"


@dataclass(frozen=True)
class ImportSummary:
    """What an import changes (a preview) or changed."""

    rows: int
    products_created: int
    products_updated: int
    variants_created: int
    variants_updated: int
    categories_created: list[str]
    stock_changes: list[StockChange]

    @property
    def has_changes(self) -> bool:
        return bool(
            self.products_created
            or self.products_updated
            or self.variants_created
            or self.variants_updated
            or self.categories_created
            or self.stock_changes
        )


def _summary(plan: CataloguePlan) -> ImportSummary:
    return ImportSummary(
        rows=plan.rows,
        products_created=len(plan.created_products),
        products_updated=len(plan.updated_products),
        variants_created=len(plan.created_variants),
        variants_updated=len(plan.updated_variants),
        categories_created=[" > ".join(path) for path in plan.new_categories],
        stock_changes=plan.stock_changes,
    )


def _plan(data: bytes, actor_user_id: int | None, progress: Progress | None) -> CataloguePlan:
    plan = plan_catalogue_import(data, actor_user_id=actor_user_id, progress=progress)
    if plan.stock_changes:
        check_staff_permission(actor_user_id)
    return plan


def preview_catalogue_import(
    data: bytes, *, actor_user_id: int | None = None, progress: Progress | None = None
) -> ImportSummary:
    """What importing ``data`` would change; writes nothing (the dry run).

    Raises PermissionDenied (``catalog.manage``; ``inventory.adjust`` when a stock level
    would change), InvalidCatalogFile (every error, by row and column).
    """
    return _summary(_plan(data, actor_user_id, progress))


def import_catalogue(
    data: bytes, *, actor_user_id: int | None = None, progress: Progress | None = None
) -> ImportSummary:
    """Import a catalogue CSV: all of it in one transaction, or nothing.

    The file is checked again inside the transaction (the shop may have changed since a
    preview). Products are matched by handle, variants by SKU; missing categories are created
    along each path; variants and products the file does not name are left as they are.
    Raises what ``preview_catalogue_import`` raises. Side effects: categories, products,
    variants and option values written; stock set with ``counted`` ledger rows.
    """
    with stock_transaction():
        with audit.single_entry():
            plan = _plan(data, actor_user_id, progress)
            levels = apply_catalogue_plan(plan, actor_user_id=actor_user_id, progress=progress)
            if levels:
                set_stock_levels(
                    levels,
                    reason=MovementReason.COUNTED,
                    note=IMPORT_NOTE,
                    actor_id=actor_user_id,
                )
        summary = _summary(plan)
        if summary.has_changes:
            # One entry for the whole file, with its counts: the file itself says the rest.
            audit.record(
                "catalogue.imported",
                actor_user_id=actor_user_id,
                object_type="catalogue",
                object_id="csv",
                object_label=IMPORT_NOTE,
                after={
                    "rows": summary.rows,
                    "products_created": summary.products_created,
                    "products_updated": summary.products_updated,
                    "variants_created": summary.variants_created,
                    "variants_updated": summary.variants_updated,
                    "categories_created": summary.categories_created,
                    "stock_levels_changed": len(summary.stock_changes),
                },
            )
        return summary

"""Read an imported catalogue CSV into checked rows, collecting every error (US-17).

Each cell goes through the catalogue's own rules (``rules.py``: handles, text limits, prices,
SKUs, options, statuses, stock), so that the file meets exactly what the forms and the API
meet. Nothing here reads or writes the database: ``csv_plan`` compares the rows with it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from funnel.catalog.errors import InvalidCatalogFile, RowError
from funnel.catalog.models import ProductStatus
from funnel.catalog.services import csv_format as columns
from funnel.catalog.services.rules import (
    CATEGORY_NAME_LENGTH,
    PRODUCT_TITLE_LENGTH,
    SEO_DESCRIPTION_LENGTH,
    SEO_TITLE_LENGTH,
    VARIANT_TITLE_LENGTH,
    _optional_text,
    _required_text,
    normalise_handle,
    normalise_options,
    normalise_sku,
    parse_price,
    parse_status,
    parse_stock,
)
from funnel.core.errors import ValidationFailed
from funnel.core.money import Money
from funnel.core.spreadsheet import unescape_cell

MAX_ERRORS = 1000
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class VariantRow:
    row: int
    sku: str
    title: str
    options: list[tuple[str, str]]
    price: Money
    stock: int


@dataclass
class ProductRows:
    """A product as the file gives it: its first row's product columns, and its variants."""

    row: int
    handle: str
    title: str
    description: str
    seo_title: str
    seo_description: str
    category_path: list[str]
    status: ProductStatus
    variants: list[VariantRow] = field(default_factory=list)


class _Errors:
    """The errors found so far; ``check`` runs a rule and records its refusal."""

    def __init__(self) -> None:
        self.found: list[RowError] = []

    def add(self, row: int, column: str, message: str) -> None:
        self.found.append(RowError(row, column, message))

    def check(self, row: int, column: str, rule: Callable[..., Any], *args: Any) -> Any:
        try:
            return rule(*args)
        except ValidationFailed as error:
            messages = [message for texts in error.fields.values() for message in texts]
            self.add(row, column, messages[0] if messages else error.detail or error.title)
            return None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InvalidCatalogFile(
            [
                RowError(
                    line,
                    "",
                    "The file is not UTF-8 text: save it as “CSV UTF-8” (this line has a byte "
                    "UTF-8 does not allow).",
                )
            ]
        ) from error


def _records(text: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise InvalidCatalogFile(
            [RowError(1, "", f"The file is not valid CSV: {error}.")]
        ) from error


def _header(cells: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    errors = [
        RowError(1, name, f"This column is missing; the columns are {', '.join(columns.COLUMNS)}.")
        for name in columns.COLUMNS
        if name not in names
    ]
    seen: set[str] = set()
    for name in names:
        if name not in columns.COLUMNS:
            errors.append(RowError(1, name or "(blank)", "Unknown column."))
        elif name in seen:
            errors.append(RowError(1, name, "This column is given twice."))
        seen.add(name)
    if errors:
        raise InvalidCatalogFile(errors)
    return names


def _split_options(text: str) -> list[tuple[str, str]]:
    try:
        pairs = columns.split_options(text)
    except ValueError as error:
        raise ValidationFailed(fields={"options": [str(error)]}) from error
    return normalise_options(pairs)


def _category_path(text: str) -> list[str]:
    names = columns.split_category_path(text)
    if not text.strip():
        raise ValidationFailed(fields={"category": ["This field is required."]})
    if not all(names):
        raise ValidationFailed(fields={"category": ["Write the path as Clothing > Shirts."]})
    return [_required_text("category", name, CATEGORY_NAME_LENGTH) for name in names]


def _product_values(cells: dict[str, str], row: int, errors: _Errors) -> dict[str, Any]:
    return {
        "title": errors.check(
            row, columns.TITLE, _required_text, "title", cells[columns.TITLE], PRODUCT_TITLE_LENGTH
        ),
        "description": errors.check(
            row,
            columns.DESCRIPTION,
            _optional_text,
            "description",
            cells[columns.DESCRIPTION],
            None,
        ),
        "seo_title": errors.check(
            row,
            columns.SEO_TITLE,
            _optional_text,
            "seo_title",
            cells[columns.SEO_TITLE],
            SEO_TITLE_LENGTH,
        ),
        "seo_description": errors.check(
            row,
            columns.SEO_DESCRIPTION,
            _optional_text,
            "seo_description",
            cells[columns.SEO_DESCRIPTION],
            SEO_DESCRIPTION_LENGTH,
        ),
        "category_path": errors.check(
            row, columns.CATEGORY, _category_path, cells[columns.CATEGORY]
        ),
        "status": errors.check(
            row, columns.STATUS, parse_status, cells[columns.STATUS].strip().lower()
        ),
    }


def _variant(cells: dict[str, str], row: int, errors: _Errors) -> VariantRow | None:
    checked = {
        "sku": errors.check(row, columns.SKU, normalise_sku, cells[columns.SKU]),
        "title": errors.check(
            row,
            columns.VARIANT_TITLE,
            _optional_text,
            "title",
            cells[columns.VARIANT_TITLE],
            VARIANT_TITLE_LENGTH,
        ),
        "options": errors.check(row, columns.OPTIONS, _split_options, cells[columns.OPTIONS]),
        "price": errors.check(row, columns.PRICE, parse_price, cells[columns.PRICE]),
        "stock": errors.check(row, columns.STOCK, parse_stock, cells[columns.STOCK]),
    }
    return None if any(value is None for value in checked.values()) else VariantRow(row, **checked)


def _duplicate_sku(cells: dict[str, str], row: int, first_rows: dict[str, int]) -> str | None:
    """The message for a SKU already on an earlier row (compared as the catalogue stores it)."""
    try:
        sku = normalise_sku(cells[columns.SKU])
    except ValidationFailed:
        return None  # said by the SKU's own check
    first = first_rows.setdefault(sku, row)
    return None if first == row else f"{sku} is also on row {first}."


def read_catalogue_file(data: bytes, progress: Progress | None = None) -> list[ProductRows]:
    """The products of a catalogue CSV (grouped by handle, in the order first seen).

    Raises InvalidCatalogFile listing every error found (row, column, message): not UTF-8,
    not CSV, empty, a column missing or unknown, a cell that breaks a catalogue rule, a SKU
    given twice, a product's columns that differ between its rows.
    """
    records = _records(_decode(data))
    while records and not any(cell.strip() for cell in records[-1]):
        records.pop()
    if not records:
        raise InvalidCatalogFile([RowError(1, "", "The file is empty: it needs a header row.")])
    names = _header(records[0])
    if len(records) == 1:
        raise InvalidCatalogFile([RowError(2, "", "The file has a header but no rows.")])
    errors = _Errors()
    products: dict[str, ProductRows] = {}
    first_row_of_sku: dict[str, int] = {}
    refused_handles: set[str] = set()
    total = len(records) - 1
    for row, record in enumerate(records[1:], start=2):
        if progress and (row - 1) % 500 == 0:
            progress("Checking rows", row - 1, total)
        if len(errors.found) >= MAX_ERRORS:
            break
        if not any(cell.strip() for cell in record):
            continue  # a blank line between rows
        if len(record) != len(names):
            errors.add(row, "", f"This row has {len(record)} cells; the header has {len(names)}.")
            continue
        cells = {name: unescape_cell(cell) for name, cell in zip(names, record, strict=True)}
        handle = errors.check(row, columns.HANDLE, normalise_handle, cells[columns.HANDLE])
        variant = _variant(cells, row, errors)
        duplicate = _duplicate_sku(cells, row, first_row_of_sku)
        if duplicate:
            errors.add(row, columns.SKU, duplicate)
        if handle is None or handle in refused_handles:
            continue  # a product whose first row was refused: its other rows follow that row
        product = products.get(handle)
        if product is None:
            values = _product_values(cells, row, errors)
            if any(value is None for value in values.values()):
                refused_handles.add(handle)
                continue
            product = products[handle] = ProductRows(row=row, handle=handle, **values)
        else:
            _check_repeated_columns(product, cells, row, errors)
        if variant is not None:
            product.variants.append(variant)
    if progress:
        progress("Checking rows", total, total)
    if errors.found:
        order = {name: index for index, name in enumerate(columns.COLUMNS)}
        raise InvalidCatalogFile(
            sorted(errors.found, key=lambda error: (error.row, order.get(error.column, -1)))
        )
    return list(products.values())


def _check_repeated_columns(
    product: ProductRows, cells: dict[str, str], row: int, errors: _Errors
) -> None:
    """A product's later rows repeat its first row's product columns, or leave them blank."""
    first = {
        columns.TITLE: product.title,
        columns.DESCRIPTION: product.description,
        columns.SEO_TITLE: product.seo_title,
        columns.SEO_DESCRIPTION: product.seo_description,
        columns.CATEGORY: columns.format_category_path(product.category_path),
        columns.STATUS: product.status.value,
    }
    for name in columns.PRODUCT_COLUMNS:
        given = (cells[name] or "").strip()
        if name == columns.STATUS:
            given = given.lower()
        elif name == columns.CATEGORY:
            given = columns.format_category_path(columns.split_category_path(given))
        if given and given != first[name]:
            errors.add(
                row,
                name,
                f"Differs from row {product.row}, this product's first row: repeat it or leave "
                "it blank.",
            )

"""The catalogue's CSV file: its columns, how cells are written and read back.

One row per variant; the product's columns repeat on each of its rows. The same module writes
the export and reads the import, so that an exported file imports unchanged.

Every cell is text, escaped against spreadsheet formulas by ``core.spreadsheet`` (a leading
``'``, which the import takes off again).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from funnel.core.spreadsheet import stream_csv

HANDLE = "handle"
TITLE = "title"
DESCRIPTION = "description"
SEO_TITLE = "seo_title"
SEO_DESCRIPTION = "seo_description"
CATEGORY = "category"
STATUS = "status"
SKU = "sku"
VARIANT_TITLE = "variant_title"
OPTIONS = "options"
PRICE = "price"
STOCK = "stock"

COLUMNS = (
    HANDLE,
    TITLE,
    DESCRIPTION,
    SEO_TITLE,
    SEO_DESCRIPTION,
    CATEGORY,
    STATUS,
    SKU,
    VARIANT_TITLE,
    OPTIONS,
    PRICE,
    STOCK,
)
# The product's own columns: given on its first row, repeated (or left blank) on the others.
PRODUCT_COLUMNS = (TITLE, DESCRIPTION, SEO_TITLE, SEO_DESCRIPTION, CATEGORY, STATUS)

CATEGORY_SEPARATOR = " > "
OPTION_SEPARATOR = ";"
OPTION_NAME_SEPARATOR = "="


def format_options(options: Iterable[tuple[str, str]]) -> str:
    """``[("Size", "M"), ("Colour", "Blue")]`` -> ``"Size=M;Colour=Blue"``."""
    return OPTION_SEPARATOR.join(f"{name}{OPTION_NAME_SEPARATOR}{value}" for name, value in options)


def split_options(text: str) -> list[tuple[str, str]]:
    """``"size=M;colour=Blue"`` -> name/value pairs, as typed (the catalogue's
    ``normalise_options`` then checks them). Raises ValueError for a part without ``=``."""
    pairs: list[tuple[str, str]] = []
    for part in text.split(OPTION_SEPARATOR):
        if not part.strip():
            continue
        name, separator, value = part.partition(OPTION_NAME_SEPARATOR)
        if not separator:
            raise ValueError(f"Write each option as name=value ({part.strip()!r} has no =).")
        pairs.append((name, value))
    return pairs


def format_category_path(names: Sequence[str]) -> str:
    """``["Clothing", "Shirts"]`` -> ``"Clothing > Shirts"``."""
    return CATEGORY_SEPARATOR.join(names)


def split_category_path(text: str) -> list[str]:
    """``"Clothing > Shirts"`` -> ``["Clothing", "Shirts"]`` (names trimmed; blanks kept, for
    the caller to refuse)."""
    return [name.strip() for name in text.split(CATEGORY_SEPARATOR.strip())]


def write_csv(rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """The file, chunk by chunk: the byte order mark and header, then ``rows`` (escaped)."""
    return stream_csv(COLUMNS, rows)

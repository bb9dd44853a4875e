"""The catalogue's CSV file: its columns, how cells are written and read back.

One row per variant; the product's columns repeat on each of its rows. The same module writes
the export and reads the import, so that an exported file imports unchanged.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (CSV
injection): such a cell is written with a leading ``'``, which the import takes off again. A
cell that starts with ``'`` itself gets one too, so that reading back is never ambiguous.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

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
FORMULA_STARTS = ("=", "+", "-", "@")
ESCAPE = "'"
# Excel and LibreOffice both read a UTF-8 file with this mark as UTF-8 (not the local code page).
BYTE_ORDER_MARK = "\ufeff"


def escape_cell(text: str) -> str:
    """``text`` as written to a cell: a formula-looking (or quote-led) cell gets a ``'``."""
    if text.startswith((*FORMULA_STARTS, ESCAPE)):
        return ESCAPE + text
    return text


def unescape_cell(text: str) -> str:
    """The value of a cell as read: the ``'`` that ``escape_cell`` added comes off."""
    if text.startswith(ESCAPE) and text[1:].startswith((*FORMULA_STARTS, ESCAPE)):
        return text[1:]
    return text


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
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BYTE_ORDER_MARK)
    writer.writerow(COLUMNS)
    for number, row in enumerate(rows, start=1):
        writer.writerow([escape_cell(cell) for cell in row])
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()

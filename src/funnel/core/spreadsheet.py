"""CSV files that spreadsheets open safely: text cells escaped, written chunk by chunk.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (CSV
injection): such a text cell is written with a leading ``'``, which ``unescape_cell`` takes off
again. A cell that starts with ``'`` itself gets one too, so that reading back is never
ambiguous. Numbers are written as they are: a negative amount stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@")
ESCAPE = "'"
# Excel and LibreOffice both read a UTF-8 file with this mark as UTF-8 (not the local code page).
BYTE_ORDER_MARK = "\ufeff"
# Rows written between two chunks handed to the response.
CHUNK_ROWS = 500

Cell = str | int | Decimal | None


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


def _written(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return escape_cell(cell)
    return str(cell)


def stream_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """The file, chunk by chunk: the byte order mark and ``header``, then ``rows``; a large
    file is never held whole in memory. Text cells are escaped, numbers written as they are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BYTE_ORDER_MARK)
    writer.writerow([escape_cell(name) for name in header])
    for number, row in enumerate(rows, start=1):
        writer.writerow([_written(cell) for cell in row])
        if number % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()

"""Spreadsheet cells that stay inert, whatever members typed (OWASP "CSV Injection").

Excel and LibreOffice take a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula: ``=HYPERLINK(...)`` in a free-text answer would become a
live link, ``=cmd|' /C calc'!A0`` a command. Every CSV and XLSX file Lyttepost writes
passes its cells through this module, so outside text (answers, names, titles) is only
ever text; genuine numbers stay numbers, so staff can still sort and compute.

* CSV has no cell types: a text that starts with a trigger gets a single quote in front
  (OWASP's advice); the ``csv`` module quotes separators and quotes inside fields.
* XLSX: every text cell is forced to the string type (openpyxl would otherwise store a
  text starting with ``=`` as a formula, and ``#N/A`` as an error), and a text that starts
  with a trigger carries Excel's own quote prefix, the mark Excel sets when someone types
  a leading ``'``: the text reads exactly as the member wrote it and stays text, even
  when the cell is edited.

defusedcsv does the CSV half, but leaves tab and carriage return alone and rewrites
``|``; one rule for both formats is simpler to trust.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def starts_like_a_formula(text: str) -> bool:
    """Whether a spreadsheet would read this text as (the start of) a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def neutralise(text: str) -> str:
    """The text with a single quote in front when it starts like a formula (for CSV)."""
    return QUOTE + text if starts_like_a_formula(text) else text


def csv_field(value: Any) -> Any:
    """A CSV field: text neutralised, numbers and empty values as they are."""
    return neutralise(value) if isinstance(value, str) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """Every field of a CSV row through ``csv_field``."""
    return [csv_field(value) for value in values]


def put(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write one XLSX cell: text always as inert text, anything else as it is."""
    # Here, not at the top: CSV exports use this module without loading openpyxl.
    from openpyxl.cell.cell import Cell

    cell = sheet.cell(row=row, column=column)
    if not isinstance(cell, Cell):  # a MergedCell holds no value of its own
        raise ValueError(f"{cell.coordinate} is inside a merged range; write its first cell")
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula ("=...") or an error value ("#N/A")
        if starts_like_a_formula(value):
            cell.quotePrefix = True
    return cell


def put_row(sheet: Worksheet, row: int, values: Iterable[Any]) -> None:
    """Write a row of cells from column A, each through ``put``."""
    for column, value in enumerate(values, start=1):
        put(sheet, row, column, value)

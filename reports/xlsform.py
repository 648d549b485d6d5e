"""A survey as an XLSForm workbook (sheets ``survey``, ``choices``, ``settings``) that KS's
advisers edit in Excel and upload again; the rows come from ``dialogs/xlsform.py``.

Every text goes through ``reports/cells.py``: a label that starts with ``=`` or ``-``
stays text, and reads back exactly as written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from io import BytesIO
from typing import Any

from dialogs.definition import SurveySource
from dialogs.xlsform import xlsform_sheets
from reports.cells import put_row

MAX_WIDTH = 60


def workbook_bytes(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    """Sheets of rows (headings first) as an .xlsx file's bytes."""
    # openpyxl (with NumPy) loads on the first download, not when the bot starts.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold, top = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]  # a new workbook's one sheet
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for number, row in enumerate(rows, start=1):
            put_row(sheet, number, row)
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
        for index in range(1, max((len(r) for r in rows), default=0) + 1):
            longest = max(
                (max(len(line) for line in str(r[index - 1]).splitlines() or [""])
                 for r in rows if index <= len(r) and r[index - 1] is not None),
                default=8,
            )  # fmt: skip
            sheet.column_dimensions[get_column_letter(index)].width = min(longest + 2, MAX_WIDTH)
        for row_cells in sheet.iter_rows(min_row=2):
            for cell in row_cells:
                if isinstance(cell.value, str) and (
                    "\n" in cell.value or len(cell.value) > MAX_WIDTH
                ):
                    cell.alignment = top
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def survey_workbook(source: SurveySource) -> bytes:
    """Any survey as an XLSForm workbook; reading it back gives the same survey."""
    return workbook_bytes(xlsform_sheets(source))

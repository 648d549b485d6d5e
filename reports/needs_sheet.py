"""The needs browser's filtered list as an Excel workbook: one row per need.

Pure: needs in, bytes out. Every text cell goes through ``reports/cells.py``, so nothing a
member wrote (or a label staff typed) is ever a formula; urgency stays a number so the
sheet sorts and filters in Excel. An organisation withheld from the reader (no consent,
read without names) reads "uten navn", as in the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from typing import Protocol

from reports.cells import put
from reports.summary import ANONYMOUS

SHEET = "Behov"
COLUMNS = (
    ("Runde", 28),
    ("Område", 24),
    ("Behov", 70),
    ("Hvor mye det haster (1–5)", 12),
    ("Kan løses alene", 10),
    ("Trenger hjelp fra", 30),
    ("Organisasjon", 28),
    ("Fylke", 18),
    ("Kan vises med navn", 10),
    ("Merkelapper", 30),
    ("Siterbar", 9),
    ("Nytt område siden forrige svar", 12),
)


class SheetNeed(Protocol):
    """What the sheet shows of a need (``services.views_needs.NeedRow`` has it all)."""

    @property
    def round_title(self) -> str: ...
    @property
    def area_label(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def urgency(self) -> int | None: ...
    @property
    def can_solve_alone(self) -> bool | None: ...
    @property
    def help_from(self) -> tuple[str, ...]: ...
    @property
    def org_name(self) -> str | None: ...
    @property
    def county_name(self) -> str | None: ...
    @property
    def may_name(self) -> bool: ...
    @property
    def tags(self) -> tuple[str, ...]: ...
    @property
    def quotable(self) -> bool: ...
    @property
    def new_area(self) -> bool | None: ...


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("Ja" if value else "Nei")


def needs_workbook(
    needs: Sequence[SheetNeed], *, title: str = "Behov", description: Sequence[str] = ()
) -> bytes:
    """The workbook: a title, ``description`` lines (e.g. the filters used), then a table
    with a frozen header and Excel's filter buttons on it."""
    # openpyxl (with NumPy) loads on the first download, not when the workspace starts.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wrap = Alignment(wrap_text=True, vertical="top")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = SHEET
    put(sheet, 1, 1, title).font = Font(bold=True, size=14)
    lines = [*description, f"{len(needs)} behov"]
    for offset, line in enumerate(lines, start=2):
        put(sheet, offset, 1, line)
    header = len(lines) + 3
    for column, (name, width) in enumerate(COLUMNS, start=1):
        cell = put(sheet, header, column, name)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        sheet.column_dimensions[get_column_letter(column)].width = width
    for row, need in enumerate(needs, start=header + 1):
        values = (
            need.round_title,
            need.area_label,
            need.text,
            need.urgency,
            _yes_no(need.can_solve_alone),
            ", ".join(need.help_from) or None,
            need.org_name or ANONYMOUS,
            need.county_name or (None if need.org_name else ANONYMOUS),
            _yes_no(need.may_name),
            ", ".join(need.tags) or None,
            "Ja" if need.quotable else None,
            _yes_no(need.new_area),  # empty: the organisation had not answered before
        )
        for column, value in enumerate(values, start=1):
            if value is not None:  # an empty cell is left out: a smaller, faster file
                put(sheet, row, column, value)
        sheet.cell(row=row, column=3).alignment = wrap
    last = header + max(len(needs), 1)
    sheet.freeze_panes = sheet.cell(row=header + 1, column=1).coordinate
    sheet.auto_filter.ref = f"A{header}:{get_column_letter(len(COLUMNS))}{last}"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

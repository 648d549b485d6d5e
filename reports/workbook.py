"""The summary as an Excel workbook for KS staff: every figure, every need, in tables.

Sheets: "Oversikt" (participation), "Områder og samarbeid" (one table per area question),
one sheet per question (national figures and the per-county breakdown), "Behov" (every
need) and "Andre innspill" (other free text). Every figure follows the small-group rule
(``reports/disclosure.py``): a hidden one reads "–", and "Oversikt" states the rule. Organisations appear only next to texts they consented to show.
Numbers are written as numbers (shares as percentages) so staff can sort and compute;
every text goes through ``reports/cells.py``, so no member's text is ever a formula.
Sheet names, headings and headers are in the language being spoken (``reports.sheet.*``);
the names above are bokmål's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dialogs.dates import format_datetime
from dialogs.i18n import t
from reports.cells import put
from reports.disclosure import HIDDEN, rule_text
from reports.summary import AreaGroup, CountyBreakdown, QuestionSummary, RoundSummary
from reports.text import anonymous, other_texts_rule

OSLO = ZoneInfo("Europe/Oslo")
MAX_SHEET_NAME = 31
PERCENT = "0%"
DECIMAL = "0.00"
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def fixed_sheets() -> tuple[str, ...]:
    """The sheets every workbook has, named in the language being spoken."""
    return (
        t("reports.sheet.overview"),
        t("reports.sheet.areas"),
        t("reports.sheet.needs"),
        t("reports.sheet.others"),
    )


def sheet_name(label: str, taken: set[str]) -> str:
    """A valid, unique sheet name (≤ 31 characters, no []:*?/\\) from a label."""
    base = _FORBIDDEN.sub(" ", label).strip().strip("'") or t("reports.sheet.question")
    base = re.sub(r"\s+", " ", base)[:MAX_SHEET_NAME].rstrip()
    name, number = base, 2
    while name.casefold() in taken:
        suffix = f" ({number})"
        name = base[: MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
        number += 1
    taken.add(name.casefold())
    return name


def suppressed(min_group: int) -> str:
    """How a suppressed cell reads: ``–`` (the threshold is stated once, on "Oversikt")."""
    return HIDDEN


def _or_hidden(value: Any) -> Any:
    return HIDDEN if value is None else value


def _heading(sheet: Worksheet, title: str, lines: Sequence[str]) -> int:
    """Title and explanatory lines at the top; returns the next free row."""
    put(sheet, 1, 1, title).font = TITLE_FONT
    for offset, line in enumerate(lines, start=2):
        put(sheet, offset, 1, line)
    return len(lines) + 3


def _header(sheet: Worksheet, row: int, names: Sequence[str], *, freeze: bool = True) -> None:
    for column, name in enumerate(names, start=1):
        cell = put(sheet, row, column, name)
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
    if freeze:
        sheet.freeze_panes = sheet.cell(row=row + 1, column=2).coordinate


def _put(
    sheet: Worksheet, row: int, values: Sequence[Any], formats: dict[int, str] | None = None
) -> None:
    for column, value in enumerate(values, start=1):
        cell = put(sheet, row, column, value)
        if formats and column in formats and isinstance(value, int | float):
            cell.number_format = formats[column]


def _widths(
    sheet: Worksheet, widths: dict[int, float] | None = None, *, first_row: int = 1
) -> None:
    """Column widths from the content (capped), unless given; long text wraps."""
    widths = widths or {}
    longest: dict[int, int] = {}
    for row in sheet.iter_rows(min_row=first_row):
        for cell in row:
            if cell.value is not None:
                longest[cell.column] = max(longest.get(cell.column, 0), len(str(cell.value)))
    for column, length in longest.items():
        width = widths.get(column, min(max(length + 2, 8), 45))
        sheet.column_dimensions[get_column_letter(column)].width = width


def _overview(sheet: Worksheet, summary: RoundSummary, zone: ZoneInfo) -> None:
    p = summary.participation
    row = _heading(
        sheet,
        t("reports.summary.title", title=summary.title),
        [
            t(
                "reports.sheet.survey", survey=summary.survey_title, key=summary.survey_key,
                version=summary.survey_version,
            ),
            t("reports.sheet.deadline", date=format_datetime(summary.closes_at, zone)),
            t("reports.sheet.small_groups", rule=rule_text(summary.min_group), min=summary.min_group),
        ],
    )  # fmt: skip
    _header(sheet, row, [t("reports.sheet.county"), t("reports.sheet.county_number"),
                         t("reports.sheet.members"), t("reports.sheet.submitted"),
                         t("reports.sheet.response_rate")])  # fmt: skip
    for county in p.counties:
        row += 1
        _put(
            sheet,
            row,
            [county.name, county.code, county.audience, county.submitted, county.rate],
            {5: PERCENT},
        )
    row += 1
    _put(sheet, row, [t("reports.sheet.country"), None, p.audience, p.submitted, p.rate],
         {5: PERCENT})  # fmt: skip
    for cell in sheet[row]:
        cell.font = BOLD
    _widths(sheet, {1: 24, 2: 14, 3: 12, 4: 12, 5: 13}, first_row=5)


def _areas(sheet: Worksheet, groups: Sequence[AreaGroup]) -> None:
    row = _heading(
        sheet,
        t("reports.sheet.areas"),
        [t("reports.sheet.areas_note"), t("reports.sheet.areas_help_note")],
    )
    first = True
    for group in groups:
        names = [group.label, t("reports.sheet.chosen_by"), t("reports.sheet.share"),
                 t("reports.sheet.urgency_mean"), t("reports.sheet.urgency_n"),
                 t("reports.sheet.urgency_std"), t("reports.sheet.needs_cooperation"),
                 t("reports.sheet.cooperation_share"),
                 *(t("reports.sheet.help_from", label=label)
                   for label in group.help_from_labels)]  # fmt: skip
        _header(sheet, row, names, freeze=first)
        first = False
        for area in group.areas:
            row += 1
            helpers = {o.label: o.count for o in area.help_from}
            stats = area.urgency
            _put(
                sheet,
                row,
                [
                    area.label,
                    _or_hidden(area.chosen),
                    _or_hidden(area.share),
                    _or_hidden(stats.mean) if stats else None,
                    _or_hidden(stats.n) if stats else None,
                    _or_hidden(stats.std_dev) if stats and stats.n and stats.n > 1 else None,
                    _or_hidden(area.needs_cooperation),
                    _or_hidden(area.cooperation_share) if area.alone_answered != 0 else None,
                    *(_or_hidden(helpers.get(label, 0)) for label in group.help_from_labels),
                ],  # fmt: skip
                {3: PERCENT, 4: DECIMAL, 6: DECIMAL, 8: PERCENT},
            )
        row += 3
    _widths(sheet, {1: 45}, first_row=4)


def _question(
    sheet: Worksheet, question: QuestionSummary, breakdown: CountyBreakdown | None, min_group: int
) -> None:
    lines = [question.text.replace("{org_name}", t("reports.sheet.org_name")),
             t("reports.sheet.asked", asked=question.asked, answered=question.answered)]  # fmt: skip
    if breakdown is not None:
        lines.append(t("reports.sheet.per_county", hidden=HIDDEN, min=min_group))
    row = _heading(sheet, question.label, lines)
    if question.rows:
        _rows_table(sheet, row, question)
        return
    stats = question.stats
    if question.options:
        columns = [o.label for o in question.options]
        counts: list[Any] = [_or_hidden(o.count) for o in question.options]
        shares: list[Any] = [_or_hidden(o.share) for o in question.options]
    elif stats is not None and stats.distribution:
        columns = [p.label for p in stats.distribution]
        counts = [_or_hidden(p.count) for p in stats.distribution]
        shares = [_or_hidden(p.share) for p in stats.distribution]
    else:
        columns, counts, shares = [], [], []
    _header(sheet, row, [t("reports.sheet.county"), t("reports.sheet.answers"), *columns])
    row += 1
    _put(sheet, row, [t("reports.sheet.country"), question.answered, *counts])
    for cell in sheet[row]:
        cell.font = BOLD
    if shares:
        row += 1
        share_formats = {column: PERCENT for column in range(3, 3 + len(shares))}
        _put(sheet, row, [t("reports.sheet.country_share"), None, *shares], share_formats)
    if breakdown is not None:
        hidden = suppressed(min_group)
        for county in breakdown.rows:
            row += 1
            if county.suppressed:
                _put(sheet, row, [county.county_name, hidden, *("–" for _ in county.cells)])
                continue
            cells = [hidden if value is None else value for value in county.cells]
            _put(sheet, row, [county.county_name, county.answered, *cells])
    if stats is not None:
        row += 2
        put(sheet, row, 1, t("reports.sheet.statistics")).font = BOLD
        for name, value in (("n", stats.n), ("mean", stats.mean), ("std_dev", stats.std_dev),
                            ("median", stats.median), ("minimum", stats.minimum),
                            ("maximum", stats.maximum)):  # fmt: skip
            row += 1
            # empty: no answers (or one, for the standard deviation); "–": hidden by the rule
            undefined = not stats.n or (name == "std_dev" and stats.n < 2)
            shown = value if value is not None or undefined else HIDDEN
            _put(sheet, row, [_statistic(name), shown], {2: DECIMAL} if name != "n" else None)
    _widths(sheet, {1: 24, 2: 10}, first_row=5)


def _statistic(name: str) -> str:
    """A statistic's name in the first column (``n`` is ``n`` in every language)."""
    names = {
        "n": "n",
        "mean": t("reports.sheet.mean"),
        "std_dev": t("reports.sheet.std_dev"),
        "median": t("reports.sheet.median"),
        "minimum": t("reports.sheet.minimum"),
        "maximum": t("reports.sheet.maximum"),
    }
    return names[name]


def _rows_table(sheet: Worksheet, row: int, question: QuestionSummary) -> None:
    """A ranking (per option: placed, first, average place) or a matrix (per row: n, the
    scale's figures and its distribution)."""
    if question.type == "ranking":
        put(sheet, row, 1, t("reports.sheet.ranking_note"))
        row += 1
        _header(sheet, row, [t("reports.sheet.option"), t("reports.sheet.ranked_by"),
                             t("reports.sheet.ranked_first"), t("reports.sheet.mean_place")])  # fmt: skip
        for item in question.rows:
            row += 1
            _put(sheet, row, [item.label, _or_hidden(item.answered), _or_hidden(item.first),
                              _or_hidden(item.mean_rank) if item.answered != 0 else None],
                 {4: DECIMAL})  # fmt: skip
        _widths(sheet, {1: 30}, first_row=row)
        return
    points = next((r.stats.distribution for r in question.rows if r.stats), ())
    _header(sheet, row, [t("reports.sheet.row"), t("reports.sheet.answers"),
                         t("reports.sheet.mean"), t("reports.sheet.std_dev"),
                         t("reports.sheet.median"), *(p.label for p in points)])  # fmt: skip
    for item in question.rows:
        row += 1
        stats = item.stats
        if stats is None:
            continue
        figures = [stats.mean, stats.std_dev, stats.median] if stats.n else [None, None, None]
        _put(sheet, row, [item.label, stats.n, *(HIDDEN if stats.n and f is None else f
                                                 for f in figures),
                          *(_or_hidden(p.count) for p in stats.distribution)],
             {3: DECIMAL, 4: DECIMAL, 5: DECIMAL})  # fmt: skip
    _widths(sheet, {1: 30}, first_row=row)


def _needs(sheet: Worksheet, groups: Sequence[AreaGroup]) -> None:
    row = _heading(
        sheet,
        t("reports.sheet.needs"),
        [t("reports.sheet.needs_note", anonymous=anonymous())],
    )
    _header(sheet, row, [t("reports.sheet.area"), t("reports.sheet.urgency"),
                         t("reports.sheet.can_solve_alone"), t("reports.sheet.needs_help_from"),
                         t("reports.sheet.need"), t("reports.sheet.organisation"),
                         t("reports.sheet.county")])  # fmt: skip
    for group in groups:
        for area in group.areas:
            for need in area.needs:
                row += 1
                alone = (
                    None
                    if need.can_solve_alone is None
                    else (t("common.yes") if need.can_solve_alone else t("common.no"))
                )
                _put(sheet, row, [need.area_label, need.urgency, alone, ", ".join(need.help_from),
                                  need.text, need.org_name or anonymous(),
                                  need.county_name or ""])  # fmt: skip
                sheet.cell(row=row, column=5).alignment = WRAP
    for column, width in {1: 30, 2: 9, 3: 14, 4: 30, 5: 80, 6: 24, 7: 18}.items():
        sheet.column_dimensions[get_column_letter(column)].width = width


def _other_texts(sheet: Worksheet, summary: RoundSummary) -> None:
    row = _heading(
        sheet,
        t("reports.sheet.others"),
        [t("reports.pdf.others_note", rule=other_texts_rule(summary))],
    )
    _header(sheet, row, [t("reports.sheet.question"), t("reports.sheet.comment"),
                         t("reports.sheet.organisation"), t("reports.sheet.county")])  # fmt: skip
    for question in summary.free_texts:
        for entry in question.entries:
            row += 1
            _put(
                sheet,
                row,
                [
                    question.label,
                    entry.text,
                    entry.org_name or anonymous(),
                    entry.county_name or "",
                ],
            )
            sheet.cell(row=row, column=2).alignment = WRAP
    for column, width in {1: 30, 2: 80, 3: 24, 4: 18}.items():
        sheet.column_dimensions[get_column_letter(column)].width = width


def write_workbook(summary: RoundSummary, path: Path, *, zone: ZoneInfo = OSLO) -> Path:
    """Write the workbook to ``path`` (folders are created) and return the path."""
    workbook = Workbook()
    taken = {name.casefold() for name in fixed_sheets()}
    overview = workbook.active
    assert overview is not None
    overview.title = t("reports.sheet.overview")
    _overview(overview, summary, zone)
    if summary.area_groups:
        _areas(workbook.create_sheet(t("reports.sheet.areas")), summary.area_groups)
    for question in summary.questions:
        sheet = workbook.create_sheet(sheet_name(question.label, taken))
        _question(sheet, question, summary.breakdown(question.id), summary.min_group)
    if summary.area_groups:
        _needs(workbook.create_sheet(t("reports.sheet.needs")), summary.area_groups)
    _other_texts(workbook.create_sheet(t("reports.sheet.others")), summary)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path

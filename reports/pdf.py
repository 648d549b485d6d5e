"""The summary as an A4 PDF for those who print: the text, how it was made, the charts,
and every need and comment in the members' own words, as the workbook has them.

Written with ReportLab's canvas: a round of 371 members runs to some 40 pages of needs,
which ReportLab writes in a fraction of a second (matplotlib's PDF backend took seconds).
The text is laid out here, wrapped by its real width in DejaVu Sans (the font matplotlib
ships, so the PDF and the charts look alike and æøå, «», – and · are all there); the
charts are the PNGs already written for the chat. Every page has a footer with the
round, the date the report was made and "side N av M". Organisations are named beside
their texts only as the summary allows (``reports/summary.py``). Headings and fixed
texts are in the language being spoken (``dialogs.i18n.speaking``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib
from PIL import Image
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from dialogs.dates import format_date
from dialogs.i18n import t
from reports.charts import Chart
from reports.format import nb_decimal
from reports.summary import AreaGroup, AreaSummary, Need, RoundSummary
from reports.text import anonymous, attached_note, method_note, other_texts_rule

OSLO = ZoneInfo("Europe/Oslo")
PAGE_WIDTH, PAGE_HEIGHT = A4  # points
INCH = 72.0
MARGIN = 0.7 * INCH
FOOTER = 0.45 * INCH  # kept free above the bottom margin for the footer line
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
TITLE_SIZE = 16
HEADING_SIZE = 13
TEXT_SIZE = 11
ENTRY_SIZE = 10
NOTE_SIZE = 9
FOOTER_SIZE = 8
LINE_SPACING = 1.45
ITEM_INDENT = 0.17 * INCH  # where a list item's text and its details start
TEXT_COLOUR = HexColor("#1a1a1a")
MUTED_COLOUR = HexColor("#555555")
CHART_WIDTH = 6.3 * INCH
CHART_GAP = 0.35 * INCH
REGULAR, BOLD = "LyttepostSans", "LyttepostSans-Bold"
MISSING = "□"  # for a character the font has no glyph for (rare scripts, some emoji)


@cache
def _fonts() -> frozenset[int]:
    """Register DejaVu Sans (shipped with matplotlib); the code points it can draw."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    regular = TTFont(REGULAR, str(folder / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    return frozenset(regular.face.charToGlyph)


def _plain(text: str) -> str:
    """A member's text as one drawable line: tabs and control characters as spaces,
    characters the font lacks as a box."""
    drawable = _fonts()
    return "".join(
        " " if ord(c) < 32 or c == "\x7f" else c if ord(c) in drawable else MISSING for c in text
    )


def _width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))  # reportlab is unannotated


def _wrap(text: str, font: str, size: float, first: float, rest: float) -> list[str]:
    """Greedy word wrap by real width; a word longer than a line is cut."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        limit = first if not lines else rest
        candidate = f"{line} {word}" if line else word
        if _width(candidate, font, size) <= limit:
            line = candidate
            continue
        if line:
            lines.append(line)
            limit = rest
        while _width(word, font, size) > limit:  # a URL or a very long word
            cut = len(word)
            while cut > 1 and _width(word[:cut], font, size) > limit:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    return [*lines, line] if line or not lines else lines


@dataclass(frozen=True)
class _Text:
    x: float
    y: float  # baseline
    text: str
    font: str
    size: float
    colour: Color


@dataclass(frozen=True)
class _Picture:
    path: Path
    x: float
    y: float  # bottom edge
    width: float
    height: float


@dataclass
class _Page:
    items: list[_Text | _Picture] = field(default_factory=list)


class _Flow:
    """Lines and pictures laid out top to bottom, a new page when the next would not fit."""

    def __init__(self) -> None:
        self.pages: list[_Page] = []
        self.y = 0.0

    def new_page(self) -> None:
        self.pages.append(_Page())
        self.y = PAGE_HEIGHT - MARGIN

    def room(self, height: float) -> None:
        if not self.pages or self.y - height < MARGIN + FOOTER:
            self.new_page()

    def gap(self, points: float) -> None:
        if self.pages and self.y < PAGE_HEIGHT - MARGIN:  # no gap at the top of a page
            self.y -= points

    def paragraph(self, text: str, size: float = TEXT_SIZE, *, bold: bool = False,
                  indent: float = 0.0, colour: Color = TEXT_COLOUR) -> None:  # fmt: skip
        """Wrapped lines; a line starting with "•" hangs its continuation lines."""
        font = BOLD if bold else REGULAR
        height = size * LINE_SPACING
        for raw in text.split("\n"):
            line = _plain(raw)
            hanging = _width("• ", font, size) if line.startswith("•") else 0.0
            width = TEXT_WIDTH - indent
            for number, part in enumerate(_wrap(line, font, size, width, width - hanging)):
                self.room(height)
                x = MARGIN + indent + (hanging if number else 0.0)
                self.pages[-1].items.append(_Text(x, self.y - size, part, font, size, colour))
                self.y -= height

    def heading(self, text: str, size: float = HEADING_SIZE) -> None:
        """A heading kept with at least three lines of what follows it."""
        self.gap(0.25 * INCH)
        self.room(size * LINE_SPACING + 3 * TEXT_SIZE * LINE_SPACING)
        self.paragraph(text, size, bold=True)
        self.gap(0.05 * INCH)

    def picture(self, path: Path) -> None:
        """A chart at ``CHART_WIDTH``, centred (smaller if it is taller than a page)."""
        with Image.open(path) as image:
            columns, rows = image.size
        usable = PAGE_HEIGHT - 2 * MARGIN - FOOTER
        width = CHART_WIDTH
        height = width * rows / columns
        if height > usable:
            height, width = usable, usable * columns / rows
        self.room(height)
        x = (PAGE_WIDTH - width) / 2
        self.pages[-1].items.append(_Picture(path, x, self.y - height, width, height))
        self.y -= height + CHART_GAP


def _who(org_name: str | None, county_name: str | None) -> str:
    if org_name is None:
        return anonymous()
    return f"{org_name} ({county_name})" if county_name else org_name


def _need_facts(need: Need, area: AreaSummary) -> str:
    """``Haster 4 av 5 · trenger hjelp fra KS, Staten · Bergen kommune (Vestland)``."""
    facts = []
    if need.urgency is not None:
        scale = area.urgency.distribution if area.urgency else ()
        places = 0 if float(need.urgency).is_integer() else 1
        facts.append(
            t(
                "reports.pdf.urgency",
                value=nb_decimal(need.urgency, places),
                scale=t("reports.summary.scale_top", top=scale[-1].value) if scale else "",
            )
        )
    if need.can_solve_alone is True:
        facts.append(t("reports.pdf.can_solve_alone"))
    elif need.can_solve_alone is False:
        helpers = ", ".join(need.help_from)
        facts.append(
            t("reports.pdf.needs_help_from", helpers=helpers)
            if helpers
            else t("reports.pdf.cannot_solve_alone")
        )
    facts.append(_who(need.org_name, need.county_name))
    return " · ".join(facts)


def _entry(flow: _Flow, text: str, details: str) -> None:
    """One need or comment: the member's words, and under them who and how."""
    flow.room(3 * ENTRY_SIZE * LINE_SPACING)
    flow.paragraph(f"• {text}", ENTRY_SIZE)
    flow.paragraph(details, NOTE_SIZE, indent=ITEM_INDENT, colour=MUTED_COLOUR)
    flow.gap(0.06 * INCH)


def _needs(flow: _Flow, groups: Sequence[AreaGroup], summary: RoundSummary) -> None:
    if not any(area.needs for group in groups for area in group.areas):
        return
    flow.new_page()
    flow.paragraph(t("reports.pdf.needs_title"), TITLE_SIZE, bold=True)
    flow.gap(0.1 * INCH)
    rule = (
        t("reports.pdf.needs_named", anonymous=anonymous())
        if summary.name_consent is not None
        else t("reports.pdf.needs_no_consent", anonymous=anonymous())
    )
    flow.paragraph(rule, NOTE_SIZE, colour=MUTED_COLOUR)
    for group in groups:
        for area in group.areas:
            if area.needs:
                flow.heading(f"{area.label} ({len(area.needs)})")
            for need in area.needs:
                _entry(flow, need.text, _need_facts(need, area))


def _other_texts(flow: _Flow, summary: RoundSummary) -> None:
    questions = [q for q in summary.free_texts if q.entries]
    if not questions:
        return
    flow.new_page()
    flow.paragraph(t("reports.pdf.others_title"), TITLE_SIZE, bold=True)
    flow.gap(0.1 * INCH)
    flow.paragraph(
        t("reports.pdf.others_note", rule=other_texts_rule(summary)), NOTE_SIZE, colour=MUTED_COLOUR
    )
    for question in questions:
        flow.heading(f"{question.label} ({len(question.entries)})")
        for entry in question.entries:
            _entry(flow, entry.text, _who(entry.org_name, entry.county_name))


def _layout(summary: RoundSummary, text: str, charts: Sequence[Chart], zone: ZoneInfo) -> _Flow:
    flow = _Flow()
    flow.paragraph(t("reports.pdf.title"), TITLE_SIZE, bold=True)
    flow.gap(0.2 * INCH)
    flow.paragraph(text.removesuffix(attached_note()).rstrip())  # this PDF is the attachment
    flow.heading(t("reports.pdf.about"))
    for line in method_note(summary, zone):
        flow.paragraph(line, ENTRY_SIZE)
        flow.gap(0.05 * INCH)
    if charts:
        flow.new_page()
        for chart in charts:
            flow.picture(chart.path)
    _needs(flow, summary.area_groups, summary)
    _other_texts(flow, summary)
    return flow


def _footer(canvas: Canvas, summary: RoundSummary, made: str, number: int, total: int) -> None:
    y = MARGIN - 0.25 * INCH
    canvas.setFillColor(MUTED_COLOUR)
    canvas.setFont(REGULAR, FOOTER_SIZE)
    canvas.drawString(MARGIN, y, _plain(t("reports.pdf.footer", title=summary.title, date=made)))
    canvas.drawRightString(
        PAGE_WIDTH - MARGIN, y, t("reports.pdf.page", number=number, total=total)
    )


def write_pdf(
    summary: RoundSummary,
    path: Path,
    *,
    text: str,
    charts: Sequence[Chart],
    zone: ZoneInfo = OSLO,
    made_at: datetime | None = None,
) -> Path:
    """Write the PDF to ``path`` and return the path.

    Pages: the summary text and how it was made, the charts, every need, other comments.
    """
    _fonts()
    made = format_date(made_at or datetime.now(UTC), zone)
    pages = _layout(summary, text, charts, zone).pages
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas = Canvas(str(path), pagesize=A4, invariant=True)
    canvas.setTitle(summary.title)
    canvas.setAuthor("KS Lyttepost")
    for number, page in enumerate(pages, start=1):
        for item in page.items:
            if isinstance(item, _Picture):
                canvas.drawImage(str(item.path), item.x, item.y, item.width, item.height)
                continue
            canvas.setFillColor(item.colour)
            canvas.setFont(item.font, item.size)
            canvas.drawString(item.x, item.y, item.text)
        _footer(canvas, summary, made, number, len(pages))
        canvas.showPage()
    canvas.save()
    return path

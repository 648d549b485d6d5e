"""The summary as an A4 PDF for those who print: the text, how it was made, the charts,
and every need and comment in the members' own words, as the workbook has them.

Made with matplotlib's PDF backend (no extra dependency). The charts are the PNGs already
written for the chat, so the PDF shows what members see on their phones. Every page has
a footer with the round, the date the report was made and "side N av M". Organisations
are named beside their texts only as the summary allows (``reports/summary.py``); the
text is drawn as plain text (no mathtext: a member's "$" stays a "$").
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from PIL import Image

from dialogs.dates import format_date
from reports.charts import Chart
from reports.format import nb_decimal
from reports.summary import ANONYMOUS, AreaGroup, AreaSummary, Need, RoundSummary
from reports.text import ATTACHED, method_note, other_texts_rule

OSLO = ZoneInfo("Europe/Oslo")
A4 = (8.27, 11.69)
MARGIN = 0.7
FOOTER = 0.45  # inches below the text area for the footer line
TITLE_SIZE = 16
HEADING_SIZE = 13
TEXT_SIZE = 11
ENTRY_SIZE = 10
NOTE_SIZE = 9
FOOTER_SIZE = 8
LINE_SPACING = 1.45
WRAP = {TITLE_SIZE: 60, HEADING_SIZE: 72, TEXT_SIZE: 88, ENTRY_SIZE: 96, NOTE_SIZE: 106}
TEXT_COLOUR = "#1a1a1a"
MUTED_COLOUR = "#555555"
CHART_WIDTH = 6.3
CHART_GAP = 0.35
REPORT_TITLE = "KS Lyttepost – hva medlemmene svarte"


def _page() -> Figure:
    figure = Figure(figsize=A4, facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def _plain(text: str) -> str:
    """Tabs and carriage returns as spaces: a member's text is laid out by us."""
    return text.replace("\t", " ").replace("\r", " ")


class _Flow:
    """Lines laid out top to bottom, a new page whenever the next one would not fit."""

    def __init__(self, *, first_page: bool = True) -> None:
        self.pages: list[Figure] = []
        self.y = 0.0
        if first_page:
            self.new_page()

    def new_page(self) -> None:
        self.pages.append(_page())
        self.y = A4[1] - MARGIN

    def room(self, height: float) -> None:
        if self.y - height < MARGIN + FOOTER:
            self.new_page()

    def gap(self, inches: float) -> None:
        if self.y < A4[1] - MARGIN:  # no gap at the top of a page
            self.y -= inches

    def line(self, text: str, size: int, *, bold: bool = False, indent: float = 0.0,
             colour: str = TEXT_COLOUR) -> None:  # fmt: skip
        height = size * LINE_SPACING / 72
        self.room(height)
        width, page_height = A4
        self.pages[-1].text((MARGIN + indent) / width, self.y / page_height, text,
                            fontsize=size, weight="bold" if bold else "normal", color=colour,
                            va="top", parse_math=False)  # fmt: skip
        self.y -= height

    def paragraph(self, text: str, size: int = TEXT_SIZE, *, bold: bool = False,
                  indent: float = 0.0, hanging: str = "", colour: str = TEXT_COLOUR) -> None:  # fmt: skip
        """Wrapped lines; a line starting with "•" or a space is indented as a list item."""
        for raw in _plain(text).split("\n"):
            item = raw.startswith(("•", " "))
            follow = hanging or ("  " if item else "")
            lines = textwrap.wrap(raw, WRAP[size], subsequent_indent=follow) or [""]
            for line in lines:
                self.line(line, size, bold=bold, indent=indent, colour=colour)

    def heading(self, text: str, size: int = HEADING_SIZE) -> None:
        """A heading kept with at least three lines of what follows it."""
        self.gap(0.25)
        self.room(size * LINE_SPACING / 72 + 3 * TEXT_SIZE * LINE_SPACING / 72)
        self.paragraph(text, size, bold=True)
        self.gap(0.05)


def _chart_pages(charts: Sequence[Chart]) -> list[Figure]:
    """Charts stacked top to bottom, as many per page as fit at ``CHART_WIDTH``."""
    width, height = A4
    usable = height - 2 * MARGIN - FOOTER
    pages: list[Figure] = []
    figure: Figure | None = None
    y = 0.0
    for chart in charts:
        with Image.open(chart.path) as image:
            pixels = np.asarray(image.convert("RGB"))
        rows, columns = pixels.shape[:2]
        chart_width = CHART_WIDTH
        chart_height = chart_width * rows / columns
        if chart_height > usable:
            chart_height, chart_width = usable, usable * columns / rows
        if figure is None or y - chart_height < MARGIN + FOOTER:
            figure = _page()
            pages.append(figure)
            y = height - MARGIN
        left = (width - chart_width) / 2
        axes = figure.add_axes(
            (left / width, (y - chart_height) / height, chart_width / width, chart_height / height)
        )
        axes.imshow(pixels, interpolation="none")
        axes.set_axis_off()
        y -= chart_height + CHART_GAP
    return pages


def _who(org_name: str | None, county_name: str | None) -> str:
    if org_name is None:
        return ANONYMOUS
    return f"{org_name} ({county_name})" if county_name else org_name


def _need_facts(need: Need, area: AreaSummary) -> str:
    """``Haster 4 av 5 · trenger hjelp fra KS, Staten · Bergen kommune (Vestland)``."""
    facts = []
    if need.urgency is not None:
        top = (
            area.urgency.distribution[-1].value
            if area.urgency and area.urgency.distribution
            else None
        )
        places = 0 if float(need.urgency).is_integer() else 1
        facts.append(f"Haster {nb_decimal(need.urgency, places)}" + (f" av {top}" if top else ""))
    if need.can_solve_alone is True:
        facts.append("kan løse det alene")
    elif need.can_solve_alone is False:
        helpers = ", ".join(need.help_from)
        facts.append("trenger hjelp fra " + helpers if helpers else "kan ikke løse det alene")
    facts.append(_who(need.org_name, need.county_name))
    return " · ".join(facts)


def _needs(flow: _Flow, groups: Sequence[AreaGroup], summary: RoundSummary) -> None:
    needs = [need for group in groups for area in group.areas for need in area.needs]
    if not needs:
        return
    flow.new_page()
    flow.paragraph("Alle behov, med medlemmenes egne ord", TITLE_SIZE, bold=True)
    flow.gap(0.1)
    rule = (
        "Organisasjonen står bare ved behov den har sagt ja til å vise med navn; ellers står det "
        f"«{ANONYMOUS}». Det mest presserende først innen hvert område."
        if summary.name_consent is not None
        else f"Alle behov står «{ANONYMOUS}»: undersøkelsen spurte ikke om samtykke til navn."
    )
    flow.paragraph(rule, NOTE_SIZE, colour=MUTED_COLOUR)
    for group in groups:
        for area in group.areas:
            if not area.needs:
                continue
            flow.heading(f"{area.label} ({len(area.needs)})")
            for need in area.needs:
                flow.room(3 * ENTRY_SIZE * LINE_SPACING / 72)
                flow.paragraph(f"• {need.text}", ENTRY_SIZE, hanging="  ")
                flow.paragraph(_need_facts(need, area), NOTE_SIZE, indent=0.17, colour=MUTED_COLOUR)
                flow.gap(0.06)


def _other_texts(flow: _Flow, summary: RoundSummary) -> None:
    questions = [q for q in summary.free_texts if q.entries]
    if not questions:
        return
    flow.new_page()
    flow.paragraph("Andre innspill", TITLE_SIZE, bold=True)
    flow.gap(0.1)
    flow.paragraph(f"Fritekstsvar. {other_texts_rule(summary)}", NOTE_SIZE, colour=MUTED_COLOUR)
    for question in questions:
        flow.heading(f"{question.label} ({len(question.entries)})")
        for entry in question.entries:
            flow.room(3 * ENTRY_SIZE * LINE_SPACING / 72)
            flow.paragraph(f"• {entry.text}", ENTRY_SIZE, hanging="  ")
            who = _who(entry.org_name, entry.county_name)
            flow.paragraph(who, NOTE_SIZE, indent=0.17, colour=MUTED_COLOUR)
            flow.gap(0.06)


def _footers(pages: Sequence[Figure], summary: RoundSummary, made: str) -> None:
    width, height = A4
    total = len(pages)
    for number, page in enumerate(pages, start=1):
        y = (MARGIN - 0.25) / height
        page.text(MARGIN / width, y, _plain(f"KS Lyttepost · {summary.title} · laget {made}"),
                  fontsize=FOOTER_SIZE, color=MUTED_COLOUR, parse_math=False)  # fmt: skip
        page.text(1 - MARGIN / width, y, f"side {number} av {total}", fontsize=FOOTER_SIZE,
                  color=MUTED_COLOUR, ha="right", parse_math=False)  # fmt: skip


@contextmanager
def _missing_glyphs_allowed() -> Iterator[None]:
    """A member's emoji has no glyph in the PDF font: it shows as a box, not an error."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        yield


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
    made = format_date(made_at or datetime.now(UTC), zone)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _missing_glyphs_allowed():
        flow = _Flow()
        flow.paragraph(REPORT_TITLE, TITLE_SIZE, bold=True)
        flow.gap(0.2)
        flow.paragraph(text.removesuffix(ATTACHED).rstrip())  # this is the attachment
        flow.heading("Om undersøkelsen")
        for line in method_note(summary, zone):
            flow.paragraph(line, ENTRY_SIZE)
            flow.gap(0.05)
        pages = flow.pages + _chart_pages(charts)
        details = _Flow(first_page=False)  # each part below starts a page of its own
        _needs(details, summary.area_groups, summary)
        _other_texts(details, summary)
        pages += details.pages
        _footers(pages, summary, made)
        metadata = {"Title": summary.title, "Author": "KS Lyttepost", "CreationDate": None}
        with PdfPages(path, metadata=metadata) as pdf:
            for page in pages:
                pdf.savefig(page)
    return path

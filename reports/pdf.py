"""The summary as an A4 PDF: the text summary first, then the charts, for those who print.

Made with matplotlib's PDF backend (no extra dependency). The charts are the PNGs already
written for the chat, placed at full resolution (about 150 dpi on the page), so the PDF
shows exactly what members see on their phones.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from PIL import Image

from reports.charts import Chart
from reports.summary import RoundSummary

A4 = (8.27, 11.69)
MARGIN = 0.7
TEXT_SIZE = 11
TITLE_SIZE = 16
LINE_HEIGHT = TEXT_SIZE * 1.45 / 72  # inches
WRAP_AT = 88
CHART_WIDTH = 6.3
CHART_GAP = 0.35


def _page() -> Figure:
    figure = Figure(figsize=A4, facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def _text_pages(title: str, text: str) -> list[Figure]:
    lines: list[str] = []
    for paragraph in text.splitlines():
        indent = "  " if paragraph.startswith(("•", " ")) else ""
        wrapped = textwrap.wrap(paragraph, WRAP_AT, subsequent_indent=indent) or [""]
        lines.extend(wrapped)
    width, height = A4
    pages: list[Figure] = []
    figure = _page()
    y = height - MARGIN
    figure.text(MARGIN / width, y / height, title, fontsize=TITLE_SIZE, weight="bold", va="top")
    y -= 0.5
    for line in lines:
        if y - LINE_HEIGHT < MARGIN:
            pages.append(figure)
            figure = _page()
            y = height - MARGIN
        figure.text(MARGIN / width, y / height, line, fontsize=TEXT_SIZE, va="top")
        y -= LINE_HEIGHT
    pages.append(figure)
    return pages


def _chart_pages(charts: Sequence[Chart]) -> list[Figure]:
    """Charts stacked top to bottom, as many per page as fit at ``CHART_WIDTH``."""
    width, height = A4
    usable = height - 2 * MARGIN
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
        if figure is None or y - chart_height < MARGIN:
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


def write_pdf(summary: RoundSummary, path: Path, *, text: str, charts: Sequence[Chart]) -> Path:
    """Write the PDF (text pages, then charts) to ``path`` and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"Title": summary.title, "Author": "KS Lyttepost", "CreationDate": None}
    with PdfPages(path, metadata=metadata) as pdf:
        for figure in _text_pages("KS Lyttepost – hva medlemmene svarte", text) + _chart_pages(
            charts
        ):
            pdf.savefig(figure)
    return path

"""Change charts: each area's national figure across the rounds of a survey key.

For every area question in the trends, one line chart of the share choosing each area and
one of the mean urgency, round after round (the rounds on the x axis, by opening time,
named by their titles). Drawn like ``reports/charts.py``: 1024 px wide PNGs on the Agg
canvas, large type, each line labelled at its end with the area and its latest figure
(labels pushed apart so they never overlap), colours that colour-blind readers can tell
apart (Okabe and Ito). A figure the small-group rule hides, or a round where the area was
not offered, leaves a gap in the line; the alt text says so for each point.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dialogs.i18n import t
from reports.charts import (
    MUTED_COLOUR,
    SUBTITLE_WRAP,
    TEXT_COLOUR,
    TITLE_WRAP,
    WIDTH_IN,
    Chart,
    draw_heading,
    new_figure,
    save_png,
)
from reports.format import nb_decimal, nb_percent
from reports.trends import QuestionTrend, Trends

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
HEIGHT_IN = 9.0
PLOT_LEFT_IN = 0.9
PLOT_RIGHT_IN = 3.6  # room for the labels at the end of each line
LABEL_SIZE = 16
TICK_SIZE = 16
LINE_LABEL_WRAP = 22


@dataclass(frozen=True)
class Line:
    """One area across the rounds: its value in each (None: a gap) and how it reads."""

    label: str
    values: tuple[float | None, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True)
class TrendChartSpec:
    """What one change chart shows, before it is drawn."""

    key: str
    title: str
    subtitle: str
    rounds: tuple[str, ...]
    lines: tuple[Line, ...]
    percent: bool  # shares (0-1, drawn as 0-100 %) or means on the urgency scale
    low: float = 0.0
    high: float = 1.0

    def alt_text(self) -> str:
        """The chart in words: every area with its figure in every round."""
        parts = [
            f"{line.label}: "
            + ", ".join(
                t("reports.trend_chart.point", value=text, round=name)
                for text, name in zip(line.texts, self.rounds, strict=True)
            )
            for line in self.lines
        ]
        return f"{self.title}. {self.subtitle} " + "; ".join(parts) + "."


def _text(value: float | None, asked: bool, percent: bool) -> str:
    if not asked:
        return t("reports.trend_chart.not_asked")
    if value is None:
        return t("reports.trend_chart.hidden")
    return nb_percent(value) if percent else nb_decimal(value)


def _area_specs(question: QuestionTrend, min_count: int) -> list[TrendChartSpec]:
    rounds = tuple(r.title for r in question.rounds)
    order: list[tuple[str, str]] = []  # the latest round's areas first, then older ones
    seen: set[str] = set()
    for shown in reversed(question.rounds):
        for offered in shown.options:
            if str(offered.value) not in seen:
                seen.add(str(offered.value))
                order.append((str(offered.value), offered.label))
    shares: list[Line] = []
    urgencies: list[Line] = []
    for value, label in order:
        share_values: list[float | None] = []
        urgency_values: list[float | None] = []
        asked: list[bool] = []
        has_urgency = False
        for shown in question.rounds:
            option = next((o for o in shown.options if str(o.value) == value), None)
            asked.append(option is not None)
            share_values.append(option.share.overall if option else None)
            urgency = option.urgency if option else None
            has_urgency = has_urgency or urgency is not None
            urgency_values.append(urgency.overall if urgency else None)
        shares.append(
            Line(label, tuple(share_values),
                 tuple(_text(v, a, True) for v, a in zip(share_values, asked, strict=True)))
        )  # fmt: skip
        if has_urgency:
            urgencies.append(
                Line(label, tuple(urgency_values),
                     tuple(_text(v, a, False) for v, a in zip(urgency_values, asked, strict=True)))
            )  # fmt: skip
    hidden = t("reports.trend_chart.gap", min=min_count)
    specs = [
        TrendChartSpec(
            key=f"utvikling-{question.id}",
            title=t("reports.trend_chart.share_title", label=question.label),
            subtitle=t("reports.trend_chart.share_subtitle", gap=hidden),
            rounds=rounds,
            lines=tuple(shares),
            percent=True,
        )
    ]
    if urgencies:
        specs.append(
            TrendChartSpec(
                key=f"utvikling-{question.id}-haster",
                title=t("reports.trend_chart.urgency_title"),
                subtitle=t("reports.trend_chart.urgency_subtitle", gap=hidden),
                rounds=rounds,
                lines=tuple(urgencies),
                percent=False,
                low=1.0,
                high=5.0,
            )
        )
    return specs


def trend_chart_specs(trends: Trends | None) -> list[TrendChartSpec]:
    """The change charts of the trends, in question order (none without earlier rounds)."""
    if trends is None:
        return []
    specs: list[TrendChartSpec] = []
    for question in trends.questions:
        if question.kind == "areas":
            specs += _area_specs(question, trends.min_organisations)
    return specs


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True) or [""]


def _spread(positions: list[float], gap: float, low: float, high: float) -> list[float]:
    """Label heights moved apart to at least ``gap``, keeping their order, within
    ``low``-``high`` as far as they fit."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [positions[i] for i in order]
    for k in range(len(placed)):
        floor = low if k == 0 else placed[k - 1] + gap
        placed[k] = max(placed[k], floor)
    if placed and placed[-1] > high:
        placed[-1] = high
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap)
    result = [0.0] * len(positions)
    for k, i in enumerate(order):
        result[i] = placed[k]
    return result


def draw_trend(spec: TrendChartSpec, note: str) -> Figure:
    """The chart as a figure on the Agg canvas."""
    title = _wrap(spec.title, TITLE_WRAP)
    subtitle = _wrap(spec.subtitle, SUBTITLE_WRAP)
    header = 0.35 + 0.48 * len(title) + 0.33 * len(subtitle) + 0.35
    footer = 1.5  # the round names under the axis and the source line
    height = max(HEIGHT_IN, header + footer + 5.0)
    figure = new_figure(height)
    draw_heading(figure, height, title, subtitle, note)

    plot_width = WIDTH_IN - PLOT_LEFT_IN - PLOT_RIGHT_IN
    plot_height = height - header - footer
    axes = figure.add_axes(
        (PLOT_LEFT_IN / WIDTH_IN, footer / height, plot_width / WIDTH_IN, plot_height / height)
    )
    scale = 100.0 if spec.percent else 1.0
    if spec.percent:
        shown = [v * scale for line in spec.lines for v in line.values if v is not None]
        low, high = 0.0, min(100.0, max(10.0, max(shown, default=0.0) * 1.15))
    else:
        low, high = spec.low, spec.high
    axes.set_ylim(low, high)
    count = len(spec.rounds)
    axes.set_xlim(-0.25, count - 0.75)
    axes.set_xticks(range(count))
    axes.set_xticklabels(["\n".join(_wrap(name, 16)) for name in spec.rounds], fontsize=TICK_SIZE)
    axes.tick_params(axis="y", labelsize=TICK_SIZE, colors=MUTED_COLOUR)
    axes.tick_params(axis="x", colors=TEXT_COLOUR, length=0)
    if spec.percent:
        axes.yaxis.set_major_formatter(
            lambda value, _: t("reports.format.percent", value=f"{value:.0f}")
        )
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="y", color="#dddddd")

    ends: list[tuple[float, str, str]] = []
    for index, series in enumerate(spec.lines):
        colour = COLOURS[index % len(COLOURS)]
        values = [float("nan") if v is None else v * scale for v in series.values]
        axes.plot(range(count), values, color=colour, linewidth=3.5, marker="o", markersize=9)
        last = next((k for k in range(count - 1, -1, -1) if series.values[k] is not None), None)
        if last is not None:
            lines = [*_wrap(series.label, LINE_LABEL_WRAP), series.texts[last]]
            ends.append((values[last], "\n".join(lines), colour))
    # one label's height in data units: its lines at the label size, with some air
    most_lines = max((label.count("\n") + 1 for _, label, _ in ends), default=1)
    gap = (high - low) * (most_lines * LABEL_SIZE * 1.25 / 72) / plot_height
    heights = _spread([e[0] for e in ends], gap, low, high)
    for (_, label, colour), at in zip(ends, heights, strict=True):
        axes.annotate(label, xy=(1.0, at), xycoords=("axes fraction", "data"),
                      xytext=(10, 0), textcoords="offset points", va="center",
                      fontsize=LABEL_SIZE, color=colour, weight="bold",
                      annotation_clip=False)  # fmt: skip
    return figure


def trend_note(trends: Trends) -> str:
    """The source line under every change chart."""
    latest = trends.rounds[-1].title
    return t("reports.trend_chart.source", first=trends.rounds[0].title, latest=latest)


def _file_name(index: int, key: str) -> str:
    return f"{index:02d}-{re.sub(r'[^a-z0-9_-]+', '-', key.lower())}.png"


def render_trend_charts(trends: Trends | None, directory: Path, first_index: int) -> list[Chart]:
    """Write every change chart as ``NN-utvikling-….png``, numbered on from ``first_index``."""
    if trends is None:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    note = trend_note(trends)
    charts = []
    for index, spec in enumerate(trend_chart_specs(trends), start=first_index):
        path = directory / _file_name(index, spec.key)
        save_png(draw_trend(spec, note), path)
        charts.append(Chart(path=path, title=spec.title, key=spec.key))
    return charts

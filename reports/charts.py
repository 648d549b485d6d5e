"""Charts of the summary as PNG files that read well on a phone.

At most 1024 × 1024 pixels, the largest picture Teams shows inline in a bot message
(Telegram shows it as is): 1024 px wide, and a tall chart (many bars) drawn at a lower
resolution so its height fits too; the layout is the same, so the type keeps its size
relative to the picture. Large type, horizontal bars with the figure written at the end
of each bar and the category written above it (long Norwegian labels need the full width). Drawn with
matplotlib's object API on the Agg canvas: no ``pyplot``, so no global figure state and
nothing to close, and safe to call from a worker thread. Pillow (a matplotlib
dependency) writes the PNG with a small palette to keep files small. Both are imported
when a chart is first drawn, not with this module: the workspace and ``lyttepost run``
import it at start, and matplotlib with NumPy costs some 45 MB that a bot which never
draws a chart should not hold.

A figure the small-group rule hides (``None`` in the summary) gets no bar: it reads "–",
the subtitle says why, and the alt text says "skjult". Hidden bars are never ordered by
their size. Titles, subtitles and alt texts are in the language being spoken
(``dialogs.i18n.speaking``; the ``reports.chart.*`` texts), the labels as the summary has them.
"""

from __future__ import annotations

import io
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dialogs.i18n import t
from reports.disclosure import HIDDEN, shown
from reports.format import nb_count, nb_decimal, nb_percent
from reports.summary import AreaGroup, QuestionSummary, RoundSummary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_IN = 10.24
DPI = 100  # 1024 px wide
MAX_PIXELS = 1024  # Teams: pictures in bot messages up to 1024 × 1024
BAR_COLOUR = "#1f5c99"
TEXT_COLOUR = "#1a1a1a"
MUTED_COLOUR = "#555555"
TITLE_SIZE = 28
SUBTITLE_SIZE = 18
LABEL_SIZE = 21
VALUE_SIZE = 21
NOTE_SIZE = 15
LABEL_WRAP = 49
TITLE_WRAP = 38
SUBTITLE_WRAP = 66
PNG_COLOURS = 64


@dataclass(frozen=True)
class Chart:
    """A chart written to disk: where, what it shows (its title), and a stable key."""

    path: Path
    title: str
    key: str


@dataclass(frozen=True)
class Bar:
    """One bar: the category, its length and the figure written next to it; ``value``
    None: hidden by the small-group rule (no bar, "–")."""

    label: str
    value: float | None
    text: str


@dataclass(frozen=True)
class ChartSpec:
    """What one chart shows, before it is drawn."""

    key: str
    title: str
    subtitle: str
    bars: tuple[Bar, ...]

    def alt_text(self) -> str:
        """The chart in words for those who cannot see it: every bar with its figure."""
        hidden = t("reports.chart.hidden_alt")
        figures = "; ".join(
            f"{bar.label}: {bar.text if bar.value is not None else hidden}" for bar in self.bars
        )
        return (
            f"{self.title}. {self.subtitle} {figures}."
            if figures
            else f"{self.title}. {self.subtitle}"
        )


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True) or [""]


def chart_dpi(height_in: float) -> float:
    """``DPI``, or less for a chart too tall to fit ``MAX_PIXELS`` at it."""
    return min(DPI, MAX_PIXELS / max(WIDTH_IN, height_in))


def new_figure(height: float) -> Figure:
    """An empty white figure ``height`` inches tall on its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, height), dpi=chart_dpi(height), facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def draw_heading(
    figure: Figure, height: float, title: list[str], subtitle: list[str], note: str
) -> None:
    """A chart's wrapped title and subtitle at the top and its source note at the bottom,
    the same on every chart of a report (bars here, trend lines in reports/trend_charts.py)."""
    y = height - 0.35
    for line in title:
        figure.text(0.4 / WIDTH_IN, y / height, line, fontsize=TITLE_SIZE, weight="bold",
                    color=TEXT_COLOUR, va="top")  # fmt: skip
        y -= 0.48
    for line in subtitle:
        figure.text(0.4 / WIDTH_IN, y / height, line, fontsize=SUBTITLE_SIZE,
                    color=MUTED_COLOUR, va="top")  # fmt: skip
        y -= 0.33
    figure.text(0.4 / WIDTH_IN, 0.25 / height, note, fontsize=NOTE_SIZE, color=MUTED_COLOUR)


def draw(spec: ChartSpec, note: str) -> Figure:
    """The chart as a figure on the Agg canvas; all positions are laid out in inches."""
    title = _wrap(spec.title, TITLE_WRAP)
    subtitle = _wrap(spec.subtitle, SUBTITLE_WRAP)
    labels = [_wrap(bar.label, LABEL_WRAP) for bar in spec.bars]
    header = 0.35 + 0.48 * len(title) + 0.33 * len(subtitle) + 0.3
    rows = [0.36 * len(lines) + 0.62 for lines in labels]
    footer = 0.6
    height = header + sum(rows) + footer
    figure = new_figure(height)

    draw_heading(figure, height, title, subtitle, note)

    plot_height = sum(rows)
    axes = figure.add_axes(
        (0.4 / WIDTH_IN, footer / height, (WIDTH_IN - 0.8) / WIDTH_IN, plot_height / height)
    )
    axes.set_axis_off()
    largest = max((bar.value for bar in spec.bars if bar.value is not None), default=0.0) or 1.0
    axes.set_xlim(0, largest / 0.66)
    axes.set_ylim(0, plot_height)
    top = plot_height
    for bar, lines, row in zip(spec.bars, labels, rows, strict=True):
        label_height = 0.36 * len(lines)
        axes.text(0, top - 0.08, "\n".join(lines), fontsize=LABEL_SIZE, color=TEXT_COLOUR,
                  va="top", ha="left", linespacing=1.05)  # fmt: skip
        centre = top - label_height - 0.27
        length = bar.value or 0.0
        if bar.value is not None:
            axes.barh(centre, length, height=0.42, color=BAR_COLOUR)
        axes.text(length + largest * 0.015, centre, bar.text, fontsize=VALUE_SIZE,
                  color=TEXT_COLOUR, va="center", ha="left", weight="bold")  # fmt: skip
        top -= row
    return figure


def _with_note(spec: ChartSpec) -> ChartSpec:
    """The subtitle says what "–" means when a bar is hidden."""
    if any(bar.value is None for bar in spec.bars):
        note = t("reports.chart.hidden_note", hidden=HIDDEN)
        return ChartSpec(spec.key, spec.title, spec.subtitle + note, spec.bars)
    return spec


def _area_specs(group: AreaGroup, respondents: int) -> list[ChartSpec]:
    bars = []
    for area in group.areas:
        text = shown(area.share, nb_percent)
        if area.urgency is not None and area.share is not None:
            text += t("reports.chart.urgency", mean=shown(area.mean_urgency, nb_decimal))
        bars.append(Bar(area.label, area.share, text))
    subtitle = t("reports.chart.area_subtitle", n=nb_count(respondents))
    scale = next((a.urgency.distribution for a in group.areas if a.urgency), ())
    if scale:
        ends = ", ".join(p.label.replace(" – ", " = ", 1) for p in (scale[0], scale[-1]))
        subtitle += t("reports.chart.area_urgency_subtitle", ends=ends)
    chosen = ChartSpec(
        key=group.question_id,
        title=group.label,
        subtitle=subtitle + ".",
        bars=tuple(bars),
    )
    cooperation = ChartSpec(
        key=f"{group.question_id}-samarbeid",
        title=t("reports.chart.cooperation_title"),
        subtitle=t("reports.chart.cooperation_subtitle"),
        bars=tuple(
            Bar(
                rank.label,
                rank.needs_cooperation,
                shown(rank.needs_cooperation, nb_count)
                + (f" ({nb_percent(rank.share)})" if rank.share is not None else ""),
            )
            for rank in group.cooperation
        ),
    )
    return [_with_note(chosen), _with_note(cooperation)]


def _choice_spec(question: QuestionSummary) -> ChartSpec:
    options = sorted(question.options, key=lambda o: (o.count is None, -(o.count or 0)))
    several = t("reports.chart.several") if question.type == "multi" else ""
    return _with_note(
        ChartSpec(
            key=question.id,
            title=question.label,
            subtitle=t(
                "reports.chart.choice_subtitle", n=nb_count(question.asked), several=several
            ),
            bars=tuple(Bar(o.label, o.share, shown(o.share, nb_percent)) for o in options),
        )
    )


def _scale_spec(question: QuestionSummary) -> ChartSpec | None:
    stats = question.stats
    if stats is None or not stats.distribution or stats.mean is None:
        return None
    return _with_note(
        ChartSpec(
            key=question.id,
            title=question.label,
            subtitle=t(
                "reports.chart.scale_subtitle",
                n=nb_count(stats.n or 0),
                mean=nb_decimal(stats.mean),
            ),
            bars=tuple(
                Bar(
                    p.label,
                    p.share,
                    HIDDEN
                    if p.count is None or p.share is None
                    else f"{nb_percent(p.share)} ({nb_count(p.count)})",
                )
                for p in stats.distribution
            ),  # fmt: skip
        )
    )


def _ranking_spec(question: QuestionSummary) -> ChartSpec | None:
    """Places first per option (most first at the top), with the average place."""
    rows = sorted(
        (r for r in question.rows if r.answered is None or r.answered),
        key=lambda r: (r.first is None, -(r.first or 0), r.mean_rank or 0),
    )
    if not any(r.answered for r in rows):
        return None
    return _with_note(ChartSpec(
        key=question.id,
        title=question.label,
        subtitle=t("reports.chart.ranking_subtitle", n=nb_count(question.answered)),
        bars=tuple(
            Bar(r.label, None if r.first is None else float(r.first),
                HIDDEN if r.answered is None else t(
                    "reports.chart.ranking_bar", first=shown(r.first, nb_count),
                    place=shown(r.mean_rank, nb_decimal), n=nb_count(r.answered)))
            for r in rows
        ),
    ))  # fmt: skip


def _matrix_spec(question: QuestionSummary) -> ChartSpec | None:
    """The average per row, in row order."""
    rows = [r for r in question.rows if r.stats is not None and r.stats.n]
    if not any(r.stats is not None and r.stats.mean is not None for r in rows):
        return None
    scale = rows[0].stats.distribution if rows[0].stats else ()
    span = t("reports.chart.matrix_span", low=scale[0].label, high=scale[-1].label) if scale else ""
    return _with_note(ChartSpec(
        key=question.id,
        title=question.label,
        subtitle=t("reports.chart.matrix_subtitle", span=span),
        bars=tuple(
            Bar(r.label, r.stats.mean,
                f"{shown(r.stats.mean, nb_decimal)} (n = {nb_count(r.stats.n or 0)})")
            for r in rows
            if r.stats is not None
        ),
    ))  # fmt: skip


def _participation_spec(summary: RoundSummary) -> ChartSpec:
    p = summary.participation
    return ChartSpec(
        key="deltakelse",
        title=t("reports.chart.participation_title"),
        subtitle=t("reports.chart.participation_subtitle", rate=nb_percent(p.rate)),
        bars=tuple(
            Bar(
                c.name,
                c.rate,
                t(
                    "reports.chart.participation_bar",
                    rate=nb_percent(c.rate),
                    submitted=c.submitted,
                    audience=c.audience,
                ),
            )
            for c in p.counties
        ),  # fmt: skip
    )


def chart_specs(summary: RoundSummary) -> list[ChartSpec]:
    """The charts a summary gets, in reading order: areas, choices, scales, participation."""
    specs: list[ChartSpec] = []
    if summary.participation.submitted > 0:
        groups = {g.question_id: g for g in summary.area_groups}
        for question in summary.questions:
            if question.id in groups:
                specs += _area_specs(groups[question.id], summary.participation.submitted)
            elif question.type in ("single", "multi"):
                specs.append(_choice_spec(question))
            elif question.type in ("scale", "ranking", "matrix"):
                spec = (
                    _scale_spec(question) if question.type == "scale"
                    else _ranking_spec(question) if question.type == "ranking"
                    else _matrix_spec(question)
                )  # fmt: skip
                specs += [spec] if spec else []
    # A chart whose every figure is hidden would show nothing but "–": left out.
    specs = [spec for spec in specs if any(bar.value is not None for bar in spec.bars)]
    specs.append(_participation_spec(summary))
    return specs


def save_png(figure: Figure, path: Path) -> None:
    """Write a figure as a 64-colour palette PNG (``png_bytes``)."""
    path.write_bytes(png_bytes(figure))


def png_bytes(figure: Figure) -> bytes:
    """A figure as a 64-colour palette PNG: flat bars and text look the same and the
    file is about a third of full colour, which matters on a phone connection."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    # matplotlib ships no annotations for its Agg canvas (backend_agg.py has no stub)
    canvas.draw()  # type: ignore[no-untyped-call]
    width, height = canvas.get_width_height()
    pixels = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    image = Image.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1)
    image.thumbnail((MAX_PIXELS, MAX_PIXELS), Image.Resampling.LANCZOS)  # rounding, if any
    palette = image.convert("RGB").quantize(colors=PNG_COLOURS, method=Image.Quantize.MEDIANCUT)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def chart_note(summary: RoundSummary) -> str:
    """The source line under every chart of a summary."""
    return t("reports.chart.source", title=summary.title)


def chart_png(spec: ChartSpec, note: str) -> bytes:
    """One chart drawn as PNG bytes (the workspace serves them without writing files)."""
    return png_bytes(draw(spec, note))


def _file_name(index: int, key: str) -> str:
    return f"{index:02d}-{re.sub(r'[^a-z0-9_-]+', '-', key.lower())}.png"


def render_charts(summary: RoundSummary, directory: Path) -> list[Chart]:
    """Write every chart as ``NN-key.png`` into ``directory``; the same summary, the same names."""
    directory.mkdir(parents=True, exist_ok=True)
    note = chart_note(summary)
    charts = []
    for index, spec in enumerate(chart_specs(summary), start=1):
        path = directory / _file_name(index, spec.key)
        save_png(draw(spec, note), path)
        charts.append(Chart(path=path, title=spec.title, key=spec.key))
    return charts

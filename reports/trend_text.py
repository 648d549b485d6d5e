"""The trends in words: the biggest rise and fall since the previous round, a sentence each.

Only national figures the small-group rule shows are named (``reports/trends.py``), and
a change is written as the difference of the two figures as printed (48 % mot 35 %:
+13 prosentpoeng), so a reader who subtracts gets the same number. A change that rounds
to nothing is not called a rise or a fall.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dialogs.i18n import t
from reports.format import nb_decimal, nb_percent
from reports.trends import Figures, Movement, OptionValue, QuestionTrend, Trends

MINUS = "\u2212"  # a real minus sign, as Norwegian typography writes it


def _half_up(value: float, places: int) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _signed(value: Decimal, text: str) -> str:
    return f"+{text}" if value > 0 else f"{MINUS}{text.lstrip('-')}"


def _points(previous: float, latest: float) -> Decimal:
    """Percentage points between two shares as printed (whole per cent)."""
    return _half_up(latest * 100, 0) - _half_up(previous * 100, 0)


def _urgency_points(previous: float, latest: float) -> Decimal:
    """Points between two means as printed (one decimal)."""
    return _half_up(latest, 1) - _half_up(previous, 1)


def movement_sentence(movement: Movement) -> str | None:
    """One rise or fall in a sentence; None when it rounds to no change."""
    where = movement.previous_title
    if movement.measure == "share":
        points = _points(movement.previous, movement.latest)
        if points == 0:
            return None
        figures = {
            "label": movement.label, "latest": nb_percent(movement.latest),
            "previous": nb_percent(movement.previous), "round": where,
            "change": _signed(points, str(abs(points))),
        }  # fmt: skip
        if points > 0:
            return t("reports.trend.share_rise", **figures)
        return t("reports.trend.share_fall", **figures)
    change = _urgency_points(movement.previous, movement.latest)
    if change == 0:
        return None
    figures = {
        "label": movement.label, "latest": nb_decimal(movement.latest),
        "previous": nb_decimal(movement.previous), "round": where,
        "change": _signed(change, nb_decimal(float(abs(change)))),
    }  # fmt: skip
    if change > 0:
        return t("reports.trend.urgency_rise", **figures)
    return t("reports.trend.urgency_fall", **figures)


def trend_sentences(trends: Trends | None) -> list[str]:
    """The biggest rise and fall in the areas' shares, then in their urgency."""
    if trends is None:
        return []
    ordered = sorted(
        trends.rises + trends.falls,
        key=lambda m: (m.measure != "share", m.change < 0),
    )
    return [s for m in ordered if (s := movement_sentence(m)) is not None]


def response_rate_sentence(trends: Trends) -> str | None:
    """``Svarandel: 85 % mot 89 % i «Runde 2026-2».`` when both are shown."""
    if len(trends.rounds) < 2:
        return None
    latest, previous = trends.rounds[-1], trends.rounds[-2]
    now, then = latest.response_rate.overall, previous.response_rate.overall
    if now is None or then is None:
        return None
    return t(
        "reports.trend.response_rate",
        now=nb_percent(now), then=nb_percent(then), round=previous.title,
    )  # fmt: skip


def trend_paragraphs(trends: Trends | None) -> list[str]:
    """The trends as one paragraph for the summary text (empty without earlier rounds)."""
    sentences = trend_sentences(trends)
    if trends is None or not sentences:
        return []
    previous = trends.rounds[-2].title
    lines = [t("reports.trend.since", round=previous), *sentences]
    rate = response_rate_sentence(trends)
    return ["\n".join(lines + ([rate] if rate else []))]


# --- tables for the workspace -------------------------------------------------------------

HIDDEN = "–"


@dataclass(frozen=True)
class TrendRow:
    """One figure across the rounds, as printed, and its change since the previous round."""

    label: str
    cells: tuple[str, ...]
    change: str


@dataclass(frozen=True)
class TrendTable:
    """A table with the rounds as columns; ``unit`` says what the change is measured in."""

    caption: str
    rounds: tuple[str, ...]
    rows: tuple[TrendRow, ...]
    unit: str


def _cell(value: float | None, percent: bool) -> str:
    if value is None:
        return HIDDEN
    return nb_percent(value) if percent else nb_decimal(value)


def _change_text(previous: float | None, latest: float | None, percent: bool) -> str:
    """The change as printed figures differ: whole percentage points, or one decimal."""
    if previous is None or latest is None:
        return HIDDEN
    if percent:
        points = _points(previous, latest)
        return "0" if points == 0 else _signed(points, str(abs(points)))
    change = _urgency_points(previous, latest)
    text = nb_decimal(float(abs(change)))
    return text if change == 0 else _signed(change, text)


def _row(label: str, values: list[float | None], percent: bool, compare: bool) -> TrendRow:
    change = _change_text(values[-2], values[-1], percent) if compare else HIDDEN
    return TrendRow(label, tuple(_cell(v, percent) for v in values), change)


def _series(
    trends: Trends,
    question: QuestionTrend,
    value: OptionValue,
    measure: str,
    county: str | None = None,
) -> list[float | None]:
    """One option's figure in every round of the trends, overall or in one ``county``
    (None: hidden or not asked)."""
    found: list[float | None] = []
    for round_ in trends.rounds:
        shown = question.round(round_.id)
        option = shown.option(value) if shown is not None else None
        figures: Figures | None = getattr(option, measure) if option is not None else None
        if figures is None:
            found.append(None)
        else:
            found.append(figures.overall if county is None else figures.county(county))
    return found


def _means(trends: Trends, question: QuestionTrend) -> list[float | None]:
    found: list[float | None] = []
    for round_ in trends.rounds:
        shown = question.round(round_.id)
        found.append(shown.mean.overall if shown is not None and shown.mean is not None else None)
    return found


AREA_MEASURES = (
    ("share", "andel som valgte området", True, "prosentpoeng"),
    ("urgency", "hvor mye det haster (snitt 1–5)", False, "poeng"),
    ("cannot_alone", "andel som ikke kan løse det alene", True, "prosentpoeng"),
)


def trend_tables(trends: Trends | None) -> list[TrendTable]:
    """The trends as tables (national figures): the response rate, then per area question
    the share choosing each area, the mean urgency and the share that cannot solve it
    alone, then the other questions. Hidden figures and rounds without the question or
    option are «–»; the change is from the previous round to the latest, where both show."""
    if trends is None:
        return []
    names = tuple(r.title for r in trends.rounds)
    rates = [r.response_rate.overall for r in trends.rounds]
    tables = [
        TrendTable("Svarandel", names, (_row("Har svart", rates, True, True),), "prosentpoeng")
    ]
    others: list[TrendRow] = []
    for question in trends.questions:
        latest = question.rounds[-1]
        compare = question.change is not None and question.change.from_round == trends.rounds[-2].id
        if question.kind == "areas":
            for measure, caption, percent, unit in AREA_MEASURES:
                rows = []
                for option in latest.options:
                    if getattr(option, measure) is None:
                        continue  # e.g. no urgency follow-up for this area
                    series = _series(trends, question, option.value, measure)
                    rows.append(_row(option.label, series, percent, compare))
                if rows:
                    tables.append(
                        TrendTable(f"{question.label}: {caption}", names, tuple(rows), unit)
                    )
        elif question.kind == "choice":
            for option in latest.options:
                series = _series(trends, question, option.value, "share")
                others.append(_row(f"{question.label}: {option.label}", series, True, compare))
        else:
            others.append(
                _row(f"{question.label} (snitt)", _means(trends, question), False, compare)
            )
    if others:
        caption = "Andre spørsmål (andel, eller snitt)"
        tables.append(TrendTable(caption, names, tuple(others), "prosentpoeng eller poeng"))
    return tables


def county_trend_tables(trends: Trends | None) -> list[TrendTable]:
    """The per-county trends as tables: the response rate, then for each area of each area
    question its share, mean urgency and share that cannot solve it alone, a row per county. The figures are the ones in summary.json,
    hidden by the same rule (a county resting on 1-4 organisations, or one that could be
    worked out from the others and the national figure, reads «–")."""
    if trends is None:
        return []
    names = tuple(r.title for r in trends.rounds)
    rates = [
        _row(county.name, [r.response_rate.county(county.code) for r in trends.rounds], True, True)
        for county in trends.counties
    ]
    tables = [TrendTable("Svarandel per fylke", names, tuple(rates), "prosentpoeng")]
    for question in trends.questions:
        if question.kind != "areas":
            continue
        compare = question.change is not None and question.change.from_round == trends.rounds[-2].id
        for measure, caption, percent, unit in AREA_MEASURES:
            for option in question.rounds[-1].options:
                if getattr(option, measure) is None:
                    continue  # e.g. no urgency follow-up for this area
                rows = tuple(
                    _row(county.name,
                         _series(trends, question, option.value, measure, county.code),
                         percent, compare)
                    for county in trends.counties
                )  # fmt: skip
                title = f"{question.label}, {option.label}: {caption} per fylke"
                tables.append(TrendTable(title, names, rows, unit))
    return tables

"""The trends in words: the biggest rise and fall since the previous round, a sentence each.

Only national figures the small-group rule shows are named (``reports/trends.py``), and
a change is written as the difference of the two figures as printed (48 % mot 35 %:
+13 prosentpoeng), so a reader who subtracts gets the same number. A change that rounds
to nothing is not called a rise or a fall.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from reports.format import nb_decimal, nb_percent
from reports.trends import Movement, Trends

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
    where = f"«{movement.previous_title}»"
    if movement.measure == "share":
        points = _points(movement.previous, movement.latest)
        if points == 0:
            return None
        lead = "Størst økning" if points > 0 else "Størst nedgang"
        return (
            f"{lead}: {movement.label}, valgt av {nb_percent(movement.latest)} mot "
            f"{nb_percent(movement.previous)} i {where} "
            f"({_signed(points, str(abs(points)))} prosentpoeng)."
        )
    change = _urgency_points(movement.previous, movement.latest)
    if change == 0:
        return None
    lead = (
        "Størst økning i hvor mye det haster"
        if change > 0
        else "Størst nedgang i hvor mye det haster"
    )
    return (
        f"{lead}: {movement.label}, {nb_decimal(movement.latest)} i snitt mot "
        f"{nb_decimal(movement.previous)} i {where} "
        f"({_signed(change, nb_decimal(float(abs(change))))} poeng)."
    )


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
    return f"Svarandel: {nb_percent(now)} mot {nb_percent(then)} i «{previous.title}»."


def trend_paragraphs(trends: Trends | None) -> list[str]:
    """The trends as one paragraph for the summary text (empty without earlier rounds)."""
    sentences = trend_sentences(trends)
    if trends is None or not sentences:
        return []
    previous = trends.rounds[-2].title
    lines = [f"Utvikling siden «{previous}»:", *sentences]
    rate = response_rate_sentence(trends)
    return ["\n".join(lines + ([rate] if rate else []))]

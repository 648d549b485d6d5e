"""What members read for ranking and matrix questions, from the ``survey_types`` catalogue.

Kept apart from ``dialogs/texts.py`` so the two question types stay in their own modules.
The symbols (▫️, ✓, –) are not words and stay here.
"""

from __future__ import annotations

from dialogs.i18n import t, tn

RANK_UNPICKED = "▫️"
MATRIX_CHOSEN = "✓"
MATRIX_EMPTY = "–"


def _countdown(top: int) -> str:
    """``3 2 1``: an example answer that ranks in reverse, so it is plainly typed by hand."""
    return " ".join(str(n) for n in range(top, 0, -1))


def hint_ranking(count: int, offered: int) -> str:
    """How to rank: press in order, press again to undo, or write the numbers."""
    example = _countdown(min(count, offered))
    if count >= offered:
        return t("survey_types.ranking.hint_all", example=example)
    return t("survey_types.ranking.hint_top", top=count, example=example)


def numbered_choices(labels: list[str]) -> str:
    """The options with their numbers, for typing the ranking."""
    listing = ", ".join(f"{n} {label}" for n, label in enumerate(labels, 1))
    return t("survey_types.ranking.choices", choices=listing)


def rank_so_far(labels: list[str]) -> str:
    """The order chosen so far."""
    if not labels:
        return t("survey_types.ranking.so_far_none")
    listing = ", ".join(f"{n}. {label}" for n, label in enumerate(labels, 1))
    return t("survey_types.ranking.so_far", order=listing)


def ranking_invalid(count: int, offered: int) -> str:
    """Typed text that is not a ranking."""
    example = _countdown(min(count, offered))
    if count >= offered:
        return t("survey_types.ranking.invalid_all", example=example)
    return tn("survey_types.ranking.invalid_top", count, example=example)


def ranking_count(count: int) -> str:
    """«Neste» before enough options are ranked."""
    return tn("survey_types.ranking.too_few", count)


def ranking_full(count: int) -> str:
    """A press beyond the number of places."""
    return tn("survey_types.ranking.full", count)


def _example(rows: int, low: int, high: int) -> str:
    """Numbers for an example answer, one per row, walking down from the top of the scale."""
    span = high - low + 1
    return " ".join(str(high - (n % span)) for n in range(rows))


def _end(number: int, label: str | None) -> str:
    return f"{number} ({label})" if label else str(number)


def hint_matrix(
    low: int, high: int, low_label: str | None, high_label: str | None, rows: list[str]
) -> str:
    """One number per row; the rows can also be written as numbers in row order."""
    return t(
        "survey_types.matrix.hint",
        low=_end(low, low_label),
        high=_end(high, high_label),
        example=_example(len(rows), low, high),
        row=rows[0] if rows else t("survey_types.matrix.row"),
        top=high,
    )


def matrix_row(label: str, value: int | None) -> str:
    """One row of a matrix answer."""
    return f"• {label}: {value if value is not None else MATRIX_EMPTY}"


def matrix_missing(labels: list[str]) -> str:
    """«Neste» before every row has a number."""
    return t("survey_types.matrix.missing", rows=", ".join(labels))


def matrix_invalid(rows: list[str], low: int, high: int) -> str:
    """Typed text that is not one number per row."""
    return tn(
        "survey_types.matrix.invalid",
        len(rows),
        low=low,
        high=high,
        example=_example(len(rows), low, high),
        row=rows[0] if rows else t("survey_types.matrix.row"),
    )


def matrix_row_pressed(label: str, low: int, high: int) -> str:
    """A press on a row's label, which is not a button to answer with."""
    return t("survey_types.matrix.row_pressed", row=label, low=low, high=high)

"""What members read for ranking and matrix questions (Norwegian bokmål).

Kept apart from ``dialogs/texts.py`` so the two question types stay in their own modules.
"""

from __future__ import annotations

from dialogs.texts import antall

RANK_UNPICKED = "▫️"
MATRIX_CHOSEN = "✓"
MATRIX_EMPTY = "–"


def hint_ranking(count: int, offered: int) -> str:
    """How to rank: press in order, press again to undo, or write the numbers."""
    what = "alle" if count >= offered else f"de {count} viktigste"
    example = " ".join(str(n) for n in range(min(count, offered), 0, -1))
    return (
        f"Trykk {what} i rekkefølge, det viktigste først, og trykk «Neste». "
        "Trykk en gang til for å angre. "
        f"Du kan også skrive numrene i rekkefølge, for eksempel «{example}»."
    )


def numbered_choices(labels: list[str]) -> str:
    return "Alternativer: " + ", ".join(f"{n} {label}" for n, label in enumerate(labels, 1))


def rank_so_far(labels: list[str]) -> str:
    if not labels:
        return "Rekkefølge så langt: ingen valgt ennå."
    return "Rekkefølge så langt: " + ", ".join(f"{n}. {label}" for n, label in enumerate(labels, 1))


def ranking_invalid(count: int, offered: int) -> str:
    what = "alle alternativene" if count >= offered else antall(count, "alternativ", "alternativer")
    example = " ".join(str(n) for n in range(min(count, offered), 0, -1))
    return (
        f"Skriv {what} i rekkefølge, det viktigste først: numrene med mellomrom "
        f"(for eksempel «{example}») eller navnene med komma."
    )


def ranking_count(count: int) -> str:
    return (
        f"Velg {antall(count, 'alternativ', 'alternativer')} i rekkefølge før du trykker «Neste»."
    )


def ranking_full(count: int) -> str:
    return (
        f"Du har allerede valgt {antall(count, 'alternativ', 'alternativer')}. "
        "Trykk et valgt alternativ for å angre, eller trykk «Neste»."
    )


def _example(rows: int, low: int, high: int) -> str:
    """Numbers for an example answer, one per row, walking down from the top of the scale."""
    span = high - low + 1
    return " ".join(str(high - (n % span)) for n in range(rows))


def hint_matrix(
    low: int, high: int, low_label: str | None, high_label: str | None, rows: list[str]
) -> str:
    """One number per row; the rows can also be written as numbers in row order."""
    low_text = f"{low} ({low_label})" if low_label else str(low)
    high_text = f"{high} ({high_label})" if high_label else str(high)
    first = rows[0] if rows else "rad"
    return (
        f"Velg et tall fra {low_text} til {high_text} for hver rad, og trykk «Neste». "
        f"Du kan også skrive tallene i radenes rekkefølge, for eksempel "
        f"«{_example(len(rows), low, high)}», eller en rad og et tall, for eksempel "
        f"«{first} {high}»."
    )


def matrix_row(label: str, value: int | None) -> str:
    return f"• {label}: {value if value is not None else MATRIX_EMPTY}"


def matrix_missing(labels: list[str]) -> str:
    return "Mangler svar for: " + ", ".join(labels) + ". Velg et tall for hver rad."


def matrix_invalid(rows: list[str], low: int, high: int) -> str:
    first = rows[0] if rows else "rad"
    return (
        f"Skriv {antall(len(rows), 'tall', 'tall')} fra {low} til {high}, ett for hver rad i "
        f"radenes rekkefølge (for eksempel «{_example(len(rows), low, high)}»), "
        f"eller en rad og et tall («{first} {high}»)."
    )


def matrix_row_pressed(label: str, low: int, high: int) -> str:
    return f"Trykk et tall fra {low} til {high} på raden for {label}."

"""Matrix questions: one scale for several rows (e.g. urgency per chosen area).

Pure helpers the engine and the renderer dispatch to. The rows answered so far live in
``ResponseState.grid``; the keyboard has one row per matrix row: a short label button
(pressing it explains what to do) and the numbers, so the whole matrix is one message.
"""

from __future__ import annotations

import re

from dialogs import type_texts
from dialogs.i18n import t
from dialogs.messages import Button
from dialogs.model import AnswerValue, Option, Question

ROW_LABEL_LIMIT = 18  # characters of a row label on its button; the text has it in full
MAX_STEPS = 7  # numbers per row: with the label button, 8 buttons fit a Telegram row
_NUMBERS = re.compile(r"[+-]?[0-9]{1,6}(?:\s+[+-]?[0-9]{1,6})*")
_CELL = re.compile(r"(.*?)[\s:=]+([+-]?[0-9]{1,6})")
_PARTS = re.compile(r"[,;\n]")


def _normal(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .!?«»\"'“”:")


def _in_range(question: Question, number: int) -> bool:
    return question.scale_min <= number <= question.scale_max


def kept(
    question: Question, grid: dict[str, int], answers: dict[str, AnswerValue]
) -> dict[str, int]:
    """Cells of rows still on offer with a number on the scale."""
    offered = {o.value for o in question.choices(answers)}
    return {
        row: n
        for row, n in grid.items()
        if row in offered and isinstance(n, int) and _in_range(question, n)
    }


def from_answer(question: Question, answers: dict[str, AnswerValue]) -> dict[str, int]:
    """The stored matrix as cells to start from (rows no longer on offer left out)."""
    value = answers.get(question.id)
    return kept(question, value, answers) if isinstance(value, dict) else {}


def set_cell(
    question: Question, grid: dict[str, int], cell: str, answers: dict[str, AnswerValue]
) -> dict[str, int] | None:
    """Press ``row:n``: the grid with that cell set, or None if the press does not fit."""
    row, _, raw = cell.partition(":")
    if row not in {o.value for o in question.choices(answers)}:
        return None
    if not re.fullmatch(r"[+-]?[0-9]{1,6}", raw) or not _in_range(question, int(raw)):
        return None
    return {**grid, row: int(raw)}


def row_label(question: Question, cell: str, answers: dict[str, AnswerValue]) -> str | None:
    """The label of the row whose label button was pressed (``row`` without a number)."""
    option = next((o for o in question.choices(answers) if o.value == cell), None)
    return option.label if option else None


def _ordered(rows: tuple[Option, ...], grid: dict[str, int]) -> dict[str, int]:
    return {o.value: grid[o.value] for o in rows if o.value in grid}


def confirm(
    question: Question, grid: dict[str, int], answers: dict[str, AnswerValue]
) -> dict[str, int] | str:
    """The matrix to store, or which rows still lack a number."""
    rows = question.choices(answers)
    cells = kept(question, grid, answers)
    missing = [o.label for o in rows if o.value not in cells]
    if missing:
        return type_texts.matrix_missing(missing)
    return _ordered(rows, cells)


def _row(rows: tuple[Option, ...], word: str) -> str | None:
    for option in rows:
        if _normal(option.label) == word or option.value.casefold() == word:
            return option.value
    if word.isdigit() and 1 <= int(word) <= len(rows):
        return rows[int(word) - 1].value
    return None


def typed(
    question: Question, text: str, grid: dict[str, int], answers: dict[str, AnswerValue]
) -> dict[str, int] | str:
    """Written cells: every row's number in row order ("4 5 2"), or rows by name
    ("Digitalisering 4, Klima 2"), added to ``grid``. A string says what was wrong."""
    rows = question.choices(answers)
    invalid = type_texts.matrix_invalid(
        [o.label for o in rows], question.scale_min, question.scale_max
    )
    raw = text.strip()
    if _NUMBERS.fullmatch(raw):
        numbers = [int(n) for n in raw.split()]
        if len(numbers) != len(rows) or not all(_in_range(question, n) for n in numbers):
            return invalid
        return {o.value: n for o, n in zip(rows, numbers, strict=True)}
    cells = dict(kept(question, grid, answers))
    parts = [part.strip() for part in _PARTS.split(raw) if part.strip()]
    if not parts:
        return invalid
    for part in parts:
        match = _CELL.fullmatch(part)
        row = _row(rows, _normal(match.group(1))) if match else None
        if match is None or row is None or not _in_range(question, int(match.group(2))):
            return invalid
        cells[row] = int(match.group(2))
    return _ordered(rows, cells)


def complete(question: Question, grid: dict[str, int], answers: dict[str, AnswerValue]) -> bool:
    return len(kept(question, grid, answers)) == len(question.choices(answers))


def hint_lines(
    question: Question, grid: dict[str, int], answers: dict[str, AnswerValue]
) -> list[str]:
    """How to answer, then every row with its number so far."""
    return [
        type_texts.hint_matrix(
            question.scale_min,
            question.scale_max,
            question.scale_min_label,
            question.scale_max_label,
            [o.label for o in question.choices(answers)],
        ),
        *(type_texts.matrix_row(o.label, grid.get(o.value)) for o in question.choices(answers)),
    ]


def _short(label: str) -> str:
    return label if len(label) <= ROW_LABEL_LIMIT else label[: ROW_LABEL_LIMIT - 1].rstrip() + "…"


def buttons(
    question: Question, grid: dict[str, int], answers: dict[str, AnswerValue]
) -> list[tuple[Button, ...]]:
    """Per matrix row: its label button, then the numbers (the chosen one ticked); «Neste»."""
    qid = question.id
    rows: list[tuple[Button, ...]] = []
    for option in question.choices(answers):
        label = Button(label=_short(option.label), payload=f"m:{qid}:{option.value}")
        numbers = tuple(
            Button(
                label=f"{type_texts.MATRIX_CHOSEN}{n}" if grid.get(option.value) == n else str(n),
                payload=f"m:{qid}:{option.value}:{n}",
            )
            for n in range(question.scale_min, question.scale_max + 1)
        )
        rows.append((label, *numbers))
    rows.append((Button(label=t("survey.button.next"), payload=f"n:{qid}"),))
    return rows


def labelled_rows(question: Question, answers: dict[str, AnswerValue]) -> tuple[int, ...]:
    """Indexes of the button rows whose first button is a row label (a layout hint)."""
    return tuple(range(len(question.choices(answers))))

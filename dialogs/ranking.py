"""Ranking questions: the member orders the options on offer, most important first.

Pure helpers the engine and the renderer dispatch to (``dialogs/engine.py`` keeps only
the dispatch). The picks so far live in ``ResponseState.selection``, in rank order.
Ranking all N options needs only N-1 picks: the last one is placed by itself.
"""

from __future__ import annotations

import re

from dialogs import texts, type_texts
from dialogs.i18n import t
from dialogs.messages import Button
from dialogs.model import AnswerValue, Option, Question

_SEPARATORS = re.compile(r"[,;/\n>]")
_POSITION = re.compile(r"[0-9]{1,3}")


def _normal(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .!?«»\"'“”:")


def kept(question: Question, picks: list[str], answers: dict[str, AnswerValue]) -> list[str]:
    """Picks still on offer, each once, in their order, at most as many as are ranked."""
    offered = {o.value for o in question.choices(answers)}
    result: list[str] = []
    for value in picks:
        if value in offered and value not in result:
            result.append(value)
    return result[: question.rank_length(answers)]


def from_answer(question: Question, answers: dict[str, AnswerValue]) -> list[str]:
    """The stored ranking as picks to start from, when it still fits what is on offer."""
    value = answers.get(question.id)
    if isinstance(value, list) and question.fits(value, answers):
        return list(value)
    return []


def _completed(question: Question, picks: list[str], answers: dict[str, AnswerValue]) -> list[str]:
    """With all options ranked and one left, the last place is not a choice: fill it."""
    offered = [o.value for o in question.choices(answers)]
    if question.rank_length(answers) == len(offered) and len(picks) == len(offered) - 1:
        return [*picks, *(v for v in offered if v not in picks)]
    return picks


def pick(
    question: Question, picks: list[str], value: str, answers: dict[str, AnswerValue]
) -> list[str] | str | None:
    """Press an option: the next place, or out again if already picked. None: not on offer;
    a string: why the press cannot be taken (all places taken)."""
    if value not in {o.value for o in question.choices(answers)}:
        return None
    if value in picks:
        return [p for p in picks if p != value]
    count = question.rank_length(answers)
    if len(picks) >= count:
        return type_texts.ranking_full(count)
    return _completed(question, [*picks, value], answers)


def confirm(
    question: Question, picks: list[str], answers: dict[str, AnswerValue]
) -> list[str] | str:
    """The ranking to store, or why it is not complete."""
    ranked = _completed(question, kept(question, picks, answers), answers)
    count = question.rank_length(answers)
    if len(ranked) != count:
        return type_texts.ranking_count(count)
    return ranked


def _match(options: tuple[Option, ...], word: str) -> str | None:
    for option in options:
        if _normal(option.label) == word:
            return option.value
    if _POSITION.fullmatch(word) and 1 <= int(word) <= len(options):
        return options[int(word) - 1].value
    for option in options:
        if option.value.casefold() == word:
            return option.value
    return None


def typed(question: Question, text: str, answers: dict[str, AnswerValue]) -> list[str] | str:
    """A written ranking: numbers of the listed options ("3 1 2") or names ("Klima, Helse")."""
    options = question.choices(answers)
    count = question.rank_length(answers)
    invalid = type_texts.ranking_invalid(count, len(options))
    picks: list[str] = []
    for part in _SEPARATORS.split(text):
        word = _normal(part)
        if not word:
            continue
        whole = _match(options, word)
        # "Klima og miljø" is one option; "helse og klima" or "3 1 2" are several.
        pieces = [word] if whole is not None else texts.and_separator().split(word)
        if any(_match(options, _normal(p)) is None for p in pieces):
            pieces = word.split()
        for piece in pieces:
            value = _match(options, _normal(piece))
            if value is None or value in picks:
                return invalid
            picks.append(value)
    ranked = _completed(question, picks, answers)
    return ranked if len(ranked) == count else invalid


def hint_lines(question: Question, picks: list[str], answers: dict[str, AnswerValue]) -> list[str]:
    """How to answer, the options numbered (for typing), and the order so far."""
    options = question.choices(answers)
    labels = {o.value: o.label for o in options}
    return [
        type_texts.hint_ranking(question.rank_length(answers), len(options)),
        type_texts.numbered_choices([o.label for o in options]),
        type_texts.rank_so_far([labels[p] for p in picks if p in labels]),
    ]


def buttons(
    question: Question, picks: list[str], answers: dict[str, AnswerValue]
) -> list[tuple[Button, ...]]:
    """One button per option (its place once picked), then «Neste». Once every place is
    taken only the picked ones are shown (to unpick): what is left to do is «Neste»."""
    rows: list[tuple[Button, ...]] = []
    full = len(picks) >= question.rank_length(answers)
    for option in question.choices(answers):
        if full and option.value not in picks:
            continue
        mark = (
            f"{picks.index(option.value) + 1}."
            if option.value in picks
            else type_texts.RANK_UNPICKED
        )
        rows.append(
            (Button(label=f"{mark} {option.label}", payload=f"r:{question.id}:{option.value}"),)
        )
    rows.append((Button(label=t("survey.button.next"), payload=f"n:{question.id}"),))
    return rows

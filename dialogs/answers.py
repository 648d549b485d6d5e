"""How an answer reads to a person: one rendering for reviews, status and exports."""

from __future__ import annotations

from dialogs import texts
from dialogs.i18n import t
from dialogs.model import AnswerValue, Question, Survey


def format_answer(question: Question, value: AnswerValue, *, limit: int | None = None) -> str:
    """An answer as text: option labels, Ja/Nei, numbers with unit, text (cut at ``limit``),
    in the language being spoken (option labels come from the survey given)."""
    if value is None:
        return t("survey.answer.skipped_value")
    if isinstance(value, bool):
        return t("common.yes") if value else t("common.no")
    if isinstance(value, dict):  # a matrix: every row with its number
        return "; ".join(f"{_label(question, row)}: {n}" for row, n in value.items())
    if isinstance(value, list) and question.type == "ranking":
        return ", ".join(f"{n}. {_label(question, item)}" for n, item in enumerate(value, 1))
    if isinstance(value, list):
        if not value:
            return t("survey.answer.none_chosen")
        return ", ".join(_label(question, item) for item in value)
    if question.type in ("single",) and isinstance(value, str):
        return _label(question, value)
    if isinstance(value, int | float):
        number = texts.nb_number(value)
        return f"{number} {question.unit}" if question.unit else number
    text = str(value)
    if limit is not None and len(text) > limit:
        return text[: limit - 1].rstrip() + "…"
    return text


def _label(question: Question, value: str) -> str:
    option = question.option(value)
    return option.label if option else value


def short_label(question: Question, limit: int = 60) -> str:
    """The question's label, or its text shortened."""
    text = question.label or question.text
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def answer_lines(survey: Survey, answers: dict[str, AnswerValue], limit: int = 200) -> list[str]:
    """``• label: answer`` for every answered question that is asked."""
    return [
        f"• {short_label(q)}: {format_answer(q, answers[q.id], limit=limit)}"
        for q in survey.asked_questions(answers)
        if q.id in answers and q.fits(answers[q.id], answers)
    ]

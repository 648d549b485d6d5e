"""Questions and the review as channel-neutral messages.

Kept apart from the engine's transitions so the wording and button layout can change
without touching the state machine. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dialogs import matrix, progress, ranking, texts
from dialogs.answers import format_answer
from dialogs.i18n import t
from dialogs.messages import Button, OutgoingMessage
from dialogs.model import AnswerValue, Question, Survey
from dialogs.state import ResponseState

if TYPE_CHECKING:
    from dialogs.engine import StepContext

# Only these tokens are filled; any other braces in survey texts stay as written.
_PLACEHOLDER = re.compile(r"\{(org_name|contact_name|closes|retention)\}")

REVIEW_KEY = "review"
ANSWER_PREVIEW = 200  # characters of a text answer shown in the review
LABEL_LIMIT = 60  # characters of a question shown in lists
EDIT_BUTTONS_PER_ROW = 5
SCALE_BUTTONS_PER_ROW = 7


def fill(text: str, context: StepContext) -> str:
    """Fill ``{org_name}``, ``{contact_name}``, ``{closes}`` and ``{retention}``; leave
    everything else."""
    values = {
        "org_name": context.org_name,
        "contact_name": context.contact_name,
        "closes": context.closes,
        "retention": context.retention or t("survey.placeholder.retention_unknown"),
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def question_key(question_id: str) -> str:
    """The message key of a question, so a toggle can replace it."""
    return f"q:{question_id}"


def needs_answer(question: Question, answers: dict[str, AnswerValue]) -> bool:
    """Not answered yet; a skipped required question (only from old states) counts too."""
    if question.id not in answers:
        return True
    if not question.fits(answers[question.id], answers):
        return True  # a ranking or matrix left behind by an edit of what it ranks
    return question.required and answers[question.id] is None


def short_label(question: Question, context: StepContext) -> str:
    """The question's label, or its text shortened, for lists."""
    text = fill(question.label or question.text, context)
    text = " ".join(text.split())
    return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1].rstrip() + "…"


def answer_text(question: Question, value: AnswerValue) -> str:
    """An answer as the member reads it (text answers cut for previews)."""
    return format_answer(question, value, limit=ANSWER_PREVIEW)


def _hint(question: Question) -> str:
    if question.type == "single":
        return t("survey.hint.single")
    if question.type == "multi":
        return texts.hint_multi(question.min_select, question.max_select)
    if question.type == "scale":
        return texts.hint_scale(
            question.scale_min,
            question.scale_max,
            question.scale_min_label,
            question.scale_max_label,
        )
    if question.type == "yesno":
        return t("survey.hint.yesno")
    if question.type == "text":
        return texts.hint_text(question.min_length, question.max_length)
    return texts.hint_number(
        question.number_min, question.number_max, question.integer, question.unit
    )


def _rows(buttons: Sequence[Button], per_row: int) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def _answer_buttons(question: Question, selection: Sequence[str]) -> list[tuple[Button, ...]]:
    qid = question.id
    if question.type == "single":
        return [(Button(label=o.label, payload=f"a:{qid}:{o.value}"),) for o in question.options]
    if question.type == "multi":
        rows: list[tuple[Button, ...]] = [
            (
                Button(
                    label=f"{texts.CHECKED if o.value in selection else texts.UNCHECKED} {o.label}",
                    payload=f"t:{qid}:{o.value}",
                ),
            )
            for o in question.options
        ]
        rows.append((Button(label=t("survey.button.next"), payload=f"n:{qid}"),))
        return rows
    if question.type == "scale":
        numbers = [
            Button(label=str(n), payload=f"a:{qid}:{n}")
            for n in range(question.scale_min, question.scale_max + 1)
        ]
        return (
            _rows(numbers, SCALE_BUTTONS_PER_ROW)
            if len(numbers) > SCALE_BUTTONS_PER_ROW
            else [tuple(numbers)]
        )
    if question.type == "yesno":
        return [
            (
                Button(label=t("survey.button.yes"), payload=f"a:{qid}:ja"),
                Button(label=t("survey.button.no"), payload=f"a:{qid}:nei"),
            )
        ]
    return []


def question_message(
    survey: Survey,
    state: ResponseState,
    question: Question,
    context: StepContext,
    *,
    replace: bool = False,
) -> OutgoingMessage:
    """A question with progress, hint, current answer, answer buttons and controls."""
    position = progress.position(survey, state.answers, question)
    left = progress.remaining(survey, state.answers, question, unanswered_only=state.editing)
    lines = [texts.progress(position, left), fill(question.text, context)]
    if question.help:
        lines.append(fill(question.help, context))
    lines.append("")
    lines.extend(_type_lines(question, state))
    if question.id in state.answers:
        lines.append(texts.current_answer(answer_text(question, state.answers[question.id])))

    controls: list[Button] = []
    if position > 1:
        controls.append(Button(label=t("survey.button.back"), payload="c:back"))
    if not question.required:
        controls.append(Button(label=t("survey.button.skip"), payload="c:skip"))
    if state.editing:
        controls.append(Button(label=t("survey.button.review"), payload="c:review"))
    controls.append(Button(label=t("survey.button.pause"), payload="c:pause"))

    key = question_key(question.id)
    return OutgoingMessage(
        text="\n".join(lines),
        buttons=(*_type_buttons(question, state), tuple(controls)),
        key=key,
        replaces=key if replace else None,
        labelled_rows=matrix.labelled_rows(question, state.answers)
        if question.type == "matrix"
        else (),
    )


def _type_lines(question: Question, state: ResponseState) -> list[str]:
    """The hint; ranking and matrix add what is chosen so far (``dialogs/ranking.py``,
    ``dialogs/matrix.py``)."""
    if question.type == "ranking":
        return ranking.hint_lines(question, state.selection, state.answers)
    if question.type == "matrix":
        return matrix.hint_lines(question, state.grid, state.answers)
    return [_hint(question)]


def _type_buttons(question: Question, state: ResponseState) -> list[tuple[Button, ...]]:
    if question.type == "ranking":
        return ranking.buttons(question, state.selection, state.answers)
    if question.type == "matrix":
        return matrix.buttons(question, state.grid, state.answers)
    return _answer_buttons(question, state.selection)


def answered_message(
    survey: Survey, state: ResponseState, question: Question, context: StepContext
) -> OutgoingMessage:
    """The question's message once answered: its text and the answer, no buttons, so an
    old keyboard cannot be pressed by mistake. Only ever an edit of that message."""
    value = state.answers.get(question.id)
    shown = (
        texts.answered(answer_text(question, value))
        if value is not None
        else t("survey.answer.skipped")
    )
    return OutgoingMessage(
        text=f"{fill(question.text, context)}\n\n{shown}",
        replaces=question_key(question.id),
        edit_only=True,
    )


def review_submitted(review: OutgoingMessage) -> OutgoingMessage:
    """The review as it stays in the chat after submitting: the list, no buttons."""
    listing = review.text.rsplit("\n\n", 1)[0]
    return OutgoingMessage(
        text=f"{listing}\n\n{t('survey.review.submitted')}",
        replaces=review.key or REVIEW_KEY,
        edit_only=True,
    )


def missing_questions(survey: Survey, answers: dict[str, AnswerValue]) -> list[Question]:
    """Required asked questions without an answer: what blocks submission."""
    return [q for q in survey.asked_questions(answers) if q.required and needs_answer(q, answers)]


def review_message(survey: Survey, state: ResponseState, context: StepContext) -> OutgoingMessage:
    """Every asked question with its answer, edit buttons, and submit when complete."""
    asked = survey.asked_questions(state.answers)
    lines = [t("survey.review.header"), ""]
    missing_numbers: list[int] = []
    for number, question in enumerate(asked, start=1):
        if needs_answer(question, state.answers):
            shown = t("survey.review.not_answered")
            if question.required:
                missing_numbers.append(number)
        else:
            shown = answer_text(question, state.answers[question.id])
        label = short_label(question, context)
        separator = " " if label.endswith(("?", ":", "!")) else ": "
        lines.append(f"{number}. {label}{separator}{shown}")
    lines.append("")
    lines.append(
        texts.review_missing(missing_numbers) if missing_numbers else t("survey.review.ready")
    )

    edits = [
        Button(label=texts.edit_button(number), payload=f"e:{question.id}")
        for number, question in enumerate(asked, start=1)
    ]
    final: list[Button] = []
    if not missing_numbers:
        final.append(Button(label=t("survey.button.submit"), payload="c:submit"))
    final.append(Button(label=t("survey.button.pause"), payload="c:pause"))
    return OutgoingMessage(
        text="\n".join(lines),
        buttons=(*_rows(edits, EDIT_BUTTONS_PER_ROW), tuple(final)),
        key=REVIEW_KEY,
    )

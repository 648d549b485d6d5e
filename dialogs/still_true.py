""" "Still true?": last round's answer, offered for confirmation instead of a blank question.

An organisation answers the same survey four times a year and most needs do not change
between rounds, so each question whose answer from last round still fits is shown with
that answer and two buttons: ``k:{qid}`` keeps it, ``x:{qid}`` shows the ordinary
question. Typing an answer answers the question as usual. A previous answer that no
longer fits the question (an option removed, a range narrowed, another type) is
ignored, and the question is asked as if there were none. Pure, like the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs import texts
from dialogs.i18n import t
from dialogs.messages import Button, OutgoingMessage
from dialogs.model import AnswerValue, Question, Survey
from dialogs.render import _hint, answer_text, question_message
from dialogs.state import ResponseState

if TYPE_CHECKING:
    from dialogs.engine import StepContext

KEEP = "k"
CHANGE = "x"


def fits(
    question: Question, value: AnswerValue, answers: dict[str, AnswerValue] | None = None
) -> bool:
    """Whether a stored answer is still a valid answer to ``question`` as it is now
    (``answers``: this round's so far, which decide what a ranking or matrix offers)."""
    kind = question.type
    if value is None:
        return False  # a skipped question is simply asked again
    if kind in ("ranking", "matrix"):
        # Kept only if it orders or rates exactly what was chosen this time.
        shape = list if kind == "ranking" else dict
        return isinstance(value, shape) and question.fits(value, answers or {})
    if kind == "yesno":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "single":
        return isinstance(value, str) and question.option(value) is not None
    if kind == "multi":
        if not isinstance(value, list) or len(set(value)) != len(value):
            return False
        if not all(isinstance(v, str) and question.option(v) is not None for v in value):
            return False
        too_many = question.max_select is not None and len(value) > question.max_select
        return question.min_select <= len(value) and not too_many
    if kind == "scale":
        return isinstance(value, int) and question.scale_min <= value <= question.scale_max
    if kind == "text":
        return isinstance(value, str) and question.min_length <= len(value) <= question.max_length
    if kind == "number":
        if not isinstance(value, int | float):
            return False
        if question.integer and not float(value).is_integer():
            return False
        low, high = question.number_min, question.number_max
        return (low is None or value >= low) and (high is None or value <= high)
    return False  # a type this module does not know is asked afresh


def previous_value(state: ResponseState, question: Question) -> AnswerValue:
    """Last round's answer to ``question`` if it still fits, else None."""
    value = state.previous.get(question.id)
    return value if value is not None and fits(question, value, state.answers) else None


def offered(state: ResponseState, question: Question) -> bool:
    """Whether ``question`` is shown as "still true?" now: not answered in this round yet,
    and last round's answer still fits."""
    return question.id not in state.answers and previous_value(state, question) is not None


def is_need(question: Question) -> bool:
    """A free-text need: a text follow-up of a chosen area."""
    return question.type == "text" and question.group is not None


def prompt(
    survey: Survey, state: ResponseState, question: Question, context: StepContext
) -> OutgoingMessage:
    """The question with last round's answer, "Ja, fortsatt riktig" and "Endre", and the
    same controls as the ordinary question (Back, Pause ...), under the same key."""
    asked = question_message(survey, state, question, context)
    value = previous_value(state, question)
    lines = [line for line in asked.text.split("\n") if line != _hint(question)]
    while lines and not lines[-1]:
        lines.pop()
    rendered = answer_text(question, value)
    lines += [
        "",
        texts.previous_answer(rendered, need=is_need(question), free_text=question.type == "text"),
    ]
    choices = (
        Button(label=t("survey.button.keep"), payload=f"{KEEP}:{question.id}"),
        Button(label=t("survey.button.change"), payload=f"{CHANGE}:{question.id}"),
    )
    controls = asked.buttons[-1:] if asked.buttons else ()
    return asked.model_copy(update={"text": "\n".join(lines), "buttons": (choices, *controls)})


def change_selection(state: ResponseState, question: Question) -> list[str]:
    """The options to start from when a multiple-choice answer is changed: last round's."""
    value = previous_value(state, question)
    return list(value) if question.type == "multi" and isinstance(value, list) else []


def unchanged(state: ResponseState, question_id: str) -> bool | None:
    """Whether this round's answer is last round's: kept with "Ja, fortsatt riktig", or
    answered the same way again (what reports call "unchanged since last round"); None
    when the organisation had no earlier round to compare with."""
    if not state.previous:
        return None
    if question_id not in state.answers or question_id not in state.previous:
        return False
    if question_id in state.kept:
        return True
    now, before = state.answers[question_id], state.previous[question_id]
    return type(now) is type(before) and now == before  # skipped both times: unchanged too

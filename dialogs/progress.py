"""Where the member is in a survey: a position and a stable estimate of what is left.

Counting the questions asked so far made the total jump (1/6 → 2/12 → 5/13) as soon
as the areas were chosen and their follow-ups appeared. The position here is the same
as before (it grows by one per new question along a walk); what is left is estimated
*before* the generating question is answered from a typical selection that is never
smaller than what a member can choose (``max_select``), so the estimate only falls as
answers come in along the common path. Pure, like the engine.
"""

from __future__ import annotations

import math
from fractions import Fraction

from dialogs.model import AnswerValue, Condition, Question, Survey

TYPICAL_UNBOUNDED_SELECTION = 3  # a multi question without max_select: about this many


def position(survey: Survey, answers: dict[str, AnswerValue], question: Question) -> int:
    """1-based place of ``question`` among the questions asked; earlier answers alone
    decide it, so it grows by one per new question on a forward walk."""
    asked = [q.id for q in survey.asked_questions(answers)]
    return asked.index(question.id) + 1 if question.id in asked else len(asked)


def typical_selection(question: Question) -> int:
    """How many options a member is taken to choose before they have: the most they
    may (so choosing fewer only lowers the estimate)."""
    if question.max_select is not None:
        return question.max_select
    return max(question.min_select, min(TYPICAL_UNBOUNDED_SELECTION, len(question.options)))


def remaining(
    survey: Survey,
    answers: dict[str, AnswerValue],
    question: Question,
    *,
    unanswered_only: bool = False,
) -> int:
    """About how many questions come after ``question`` on the common path.

    A later question whose condition rests on answers already given counts if the
    condition holds. One that rests on an unanswered multi question counts with the
    share of options a typical selection picks; other conditions on unanswered questions
    (a low score, a "no") are off the common path and count nothing. ``unanswered_only``
    (editing from the review) counts only questions still without an answer.
    """
    known = _effective(survey, answers)
    try:
        start = survey.index_of(question.id)
    except ValueError:
        return 0
    total = Fraction(0)
    for later in survey.questions[start + 1 :]:
        if unanswered_only and later.id in answers:
            continue
        weight = Fraction(1) if later.when is None else _weight(survey, later.when, known)
        total += weight
    return math.ceil(total)


def _effective(survey: Survey, answers: dict[str, AnswerValue]) -> dict[str, AnswerValue]:
    return {q.id: answers[q.id] for q in survey.asked_questions(answers) if q.id in answers}


def _weight(survey: Survey, condition: Condition, known: dict[str, AnswerValue]) -> Fraction:
    """The share of members on the common path for whom ``condition`` will hold."""
    if condition.all is not None:
        result = Fraction(1)
        for child in condition.all:
            result *= _weight(survey, child, known)
        return result
    if condition.any is not None:
        return max((_weight(survey, c, known) for c in condition.any), default=Fraction(0))
    if condition.not_ is not None:
        return 1 - _weight(survey, condition.not_, known)
    assert condition.question is not None
    if condition.question in known:
        return Fraction(1) if condition.holds(known) else Fraction(0)
    if condition.answered is not None:
        return Fraction(1) if condition.answered else Fraction(0)
    source = survey.question(condition.question)
    if condition.includes is not None and source is not None and source.options:
        return Fraction(typical_selection(source), len(source.options))
    return Fraction(0)

"""Saving a response: the engine's state, and its answers mirrored row by row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.model import Survey
from dialogs.state import ResponseState
from storage.orm import Answer, NeedTag, QuotableNeed, Response


async def save_state(
    session: AsyncSession,
    response: Response,
    state: ResponseState,
    now: datetime,
    *,
    submitted: bool,
) -> None:
    """Store the engine state and mirror its answers into the answers table."""
    response.state = state.model_dump(mode="json")
    response.updated_at = now
    if submitted:
        response.status = "submitted"
        response.submitted_at = now
    elif state.phase == "closed":
        response.status = "incomplete"
    existing = {
        answer.question_id: answer
        for answer in await session.scalars(select(Answer).where(Answer.response_id == response.id))
    }
    for question_id, value in state.answers.items():
        row = existing.pop(question_id, None)
        if row is None:
            session.add(
                Answer(
                    response_id=response.id, question_id=question_id, value=value, answered_at=now
                )
            )
        elif row.value != value:
            row.value = value
            row.answered_at = now
    if existing:
        await session.execute(
            delete(Answer).where(
                Answer.response_id == response.id, Answer.question_id.in_(list(existing))
            )
        )


def free_text_questions(survey: Survey) -> frozenset[str]:
    """The ids of a survey's free-text questions: what retention and erasure remove."""
    return frozenset(q.id for q in survey.questions if q.type == "text")


async def erase_free_text(session: AsyncSession, response: Response, survey: Survey) -> int:
    """Remove a response's free-text answers from its state and its answer rows.

    Choices, scales, yes/no and numbers stay: they are the organisation's figures. An
    erased text is *not answered*, not a skipped answer, so reports leave it out.
    Returns how many answers were removed.
    """
    texts = free_text_questions(survey)
    state = ResponseState.model_validate(response.state)
    erased = [qid for qid in state.answers if qid in texts]
    if erased:
        answers = {qid: value for qid, value in state.answers.items() if qid not in texts}
        response.state = state.model_copy(update={"answers": answers}).model_dump(mode="json")
    await session.execute(
        delete(Answer).where(Answer.response_id == response.id, Answer.question_id.in_(list(texts)))
    )
    # Staff's tags and quotable marks on those texts go with them.
    for marks in (NeedTag, QuotableNeed):
        await session.execute(
            delete(marks).where(
                marks.response_id == response.id, marks.question_id.in_(list(texts))
            )
        )
    return len(erased)

"""Saving a response: the engine's state, and its answers mirrored row by row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.model import AnswerValue, Survey
from dialogs.state import ResponseState
from storage.orm import (
    Answer,
    NeedTag,
    QuotableNeed,
    Response,
    ResponseVersion,
    Round,
    SurveyVersion,
)


async def save_state(
    session: AsyncSession,
    response: Response,
    state: ResponseState,
    now: datetime,
    *,
    submitted: bool,
) -> None:
    """Store the engine state and mirror its answers into the answers table.

    A submitted response opened again keeps its submitted state and answers in force
    (reports, counts) while it is being changed: the working state goes to ``draft``
    until it is sent in again, and is dropped if it never is (the round closed).
    """
    response.updated_at = now
    if not submitted and (state.reopened or response.status == "submitted"):
        response.draft = state.model_dump(mode="json") if state.reopened else None
        return
    response.state = state.model_dump(mode="json")
    response.draft = None
    if submitted:
        response.status = "submitted"
        response.submitted_at = now
        await _add_version(session, response, state.answers, now)
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


async def _add_version(
    session: AsyncSession, response: Response, answers: dict[str, AnswerValue], now: datetime
) -> None:
    """Keep this submission's answers as the response's next numbered version."""
    latest = await session.scalar(
        select(func.max(ResponseVersion.number)).where(ResponseVersion.response_id == response.id)
    )
    session.add(
        ResponseVersion(
            response_id=response.id,
            number=(latest or 0) + 1,
            answers=dict(answers),
            submitted_at=now,
            contact_id=response.contact_id,
        )
    )


def working_state(response: Response) -> ResponseState:
    """The state the engine continues from: the draft of a response opened again, or
    the stored state."""
    return ResponseState.model_validate(response.draft or response.state)


async def versions(session: AsyncSession, response_id: int) -> list[ResponseVersion]:
    """A response's submissions, oldest first."""
    return list(
        await session.scalars(
            select(ResponseVersion)
            .where(ResponseVersion.response_id == response_id)
            .order_by(ResponseVersion.number)
        )
    )


async def previous_answers(
    session: AsyncSession, organisation_id: int, round_: Round, survey_key: str
) -> dict[str, AnswerValue]:
    """The organisation's answers in its latest submitted response to an earlier round of
    the same survey (by key, whatever the version): what "still true?" offers."""
    row = await session.scalar(
        select(Response.state)
        .join(Round, Round.id == Response.round_id)
        .join(SurveyVersion, SurveyVersion.id == Round.survey_version_id)
        .where(
            Response.organisation_id == organisation_id,
            Response.status == "submitted",
            Response.round_id != round_.id,
            Round.opens_at < round_.opens_at,
            SurveyVersion.key == survey_key,
        )
        .order_by(Round.opens_at.desc(), Response.submitted_at.desc())
        .limit(1)
    )
    if row is None:
        return {}
    return dict(ResponseState.model_validate(row).answers)


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
    if erased or any(qid in texts for qid in state.previous):
        response.state = _without(state, texts)
    if response.draft is not None:
        response.draft = _without(ResponseState.model_validate(response.draft), texts)
    for version in await versions(session, response.id):
        if any(qid in texts for qid in version.answers):
            version.answers = {q: v for q, v in version.answers.items() if q not in texts}
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


def _without(state: ResponseState, texts: frozenset[str]) -> dict[str, Any]:
    """A state as JSON without free-text answers, this round's or last round's."""
    answers = {qid: value for qid, value in state.answers.items() if qid not in texts}
    previous = {qid: value for qid, value in state.previous.items() if qid not in texts}
    kept = [qid for qid in state.kept if qid not in texts]
    return state.model_copy(
        update={"answers": answers, "previous": previous, "kept": kept}
    ).model_dump(mode="json")

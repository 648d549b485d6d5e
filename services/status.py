"""The /status overview: a member's rounds, their answers and the deadlines.

Its lines are in the language being spoken (the ``status`` catalogue): the conversation
answers each turn inside ``speaking(<the contact's language>)``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.answers import answer_lines
from dialogs.dates import format_date, format_datetime
from dialogs.i18n import language, t, tn
from dialogs.state import ResponseState
from services.rounds import open_rounds_for
from services.surveys import SurveyCatalog
from storage.orm import Organisation, Response, Round

RECENT_ROUNDS = 3


async def status_lines(
    session: AsyncSession,
    catalog: SurveyCatalog,
    organisation: Organisation,
    now: datetime,
    zone: ZoneInfo,
) -> list[str]:
    """Text lines describing open rounds and the organisation's latest responses."""
    open_rounds = await open_rounds_for(session, organisation.id, now)
    responses = {
        r.round_id: r
        for r in await session.scalars(
            select(Response).where(Response.organisation_id == organisation.id)
        )
    }
    recent = list(
        await session.scalars(
            select(Round)
            .where(Round.id.in_(list(responses)), Round.status.in_(["closed", "open"]))
            .order_by(Round.closes_at.desc())
            .limit(RECENT_ROUNDS)
        )
    )
    rounds = {r.id: r for r in open_rounds} | {r.id: r for r in recent}
    heading = t("status.heading", organisation=organisation.name)
    if not rounds:
        return [heading, t("status.none_open")]
    lines = [heading]
    for round_ in sorted(rounds.values(), key=lambda r: r.closes_at, reverse=True):
        response = responses.get(round_.id)
        is_open = round_.id in {r.id for r in open_rounds}
        lines.append("")
        if is_open:
            deadline = format_datetime(round_.closes_at, zone)
            lines.append(t("status.round.open", title=round_.title, closes=deadline))
        else:
            lines.append(t("status.round.closed", title=round_.title))
        if response is None:
            lines.append(t("status.not_started") if is_open else t("status.not_answered"))
            continue
        survey = await catalog.get(session, round_.survey_version_id, language())
        state = ResponseState.model_validate(response.state)
        if response.status == "submitted" and response.submitted_at is not None:
            lines.append(t("status.submitted", date=format_date(response.submitted_at, zone)))
            lines.extend(answer_lines(survey, state.answers))
        elif response.status == "awaiting_approval" and is_open:  # a delegate's (ADR 20)
            lines.append(t("status.awaiting_approval"))
            lines.extend(answer_lines(survey, state.answers))
        elif is_open:
            asked = survey.asked_questions(state.answers)
            done = sum(1 for q in asked if q.id in state.answers)
            lines.append(tn("status.in_progress", len(asked), done=done))
        else:
            lines.append(t("status.not_submitted"))
    return lines

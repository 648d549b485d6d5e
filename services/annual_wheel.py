"""Gathers the rounds of the year that concern one member organisation, and KS's actions on
the closed ones, for ``/arshjul``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.wheel import Answered, WheelAction, WheelNotice, WheelRound
from services.actions import actions_of_rounds
from services.publications import member_title
from storage.orm import Organisation, Publication, Response, Round, RoundOrganisation

WINDOW = timedelta(days=366)  # a year back and a year ahead


async def wheel_rounds(
    session: AsyncSession, organisation: Organisation, now: datetime
) -> list[WheelRound]:
    """Rounds the organisation is asked in, from a year ago to a year ahead; not cancelled ones."""
    rows = await session.execute(
        select(Round, Response.status)
        .join(RoundOrganisation, RoundOrganisation.round_id == Round.id)
        .outerjoin(
            Response,
            (Response.round_id == Round.id) & (Response.organisation_id == organisation.id),
        )
        .where(
            RoundOrganisation.organisation_id == organisation.id,
            Round.status.in_(["planned", "open", "closed"]),
            Round.closes_at >= now - WINDOW,
            Round.opens_at <= now + WINDOW,
        )
        .order_by(Round.opens_at)
    )
    found = list(rows)
    notices: dict[int, list[WheelNotice]] = {}
    for round_id, title, published_at in await session.execute(
        select(Publication.round_id, Publication.title, Publication.published_at).where(
            Publication.round_id.in_([round_.id for round_, _ in found]),
            Publication.status == "published",
            Publication.kind.in_(["summary", "notice"]),
            Publication.published_at.is_not(None),
        )
    ):
        if round_id is not None and published_at is not None:  # both filtered above
            notices.setdefault(round_id, []).append(WheelNotice(member_title(title), published_at))
    actions = await actions_of_rounds(
        session, [round_.id for round_, _ in found if round_.status == "closed"]
    )
    return [
        WheelRound(
            title=round_.title,
            status=round_.status,
            opens_at=round_.opens_at,
            closes_at=round_.closes_at,
            answered=_answered(status),
            notices=tuple(notices.get(round_.id, ())),
            actions=tuple(WheelAction(a.title, a.status) for a in actions.get(round_.id, ())),
        )
        for round_, status in found
    ]


def _answered(status: str | None) -> Answered:
    if status is None:
        return "no"
    if status == "submitted":
        return "submitted"
    if status == "incomplete":
        return "incomplete"
    return "started"

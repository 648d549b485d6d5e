"""Collection rounds: who is asked, when, and the invitations that go out on opening."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import notices
from storage import outbox
from storage.orm import Chat, Contact, Organisation, Response, Round, RoundOrganisation
from storage.seed import resolve_org_code


class RoundError(ValueError):
    """A round cannot be made as asked (unknown survey, empty audience, bad dates)."""


@dataclass(frozen=True)
class Audience:
    """Who a round asks: everyone, a county, or a list of organisation codes."""

    county: str | None = None
    org_codes: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The stored description of this audience."""
        if self.org_codes:
            return {"kind": "orgs", "codes": list(self.org_codes)}
        if self.county:
            return {"kind": "county", "county": self.county}
        return {"kind": "all"}


async def resolve_audience(session: AsyncSession, audience: Audience) -> list[Organisation]:
    """The organisations an audience covers; unknown codes are an error, not a silent drop."""
    statement = select(Organisation).order_by(Organisation.code)
    if audience.org_codes:
        codes = [resolve_org_code(code) for code in audience.org_codes]
        found = list(await session.scalars(statement.where(Organisation.code.in_(codes))))
        missing = sorted(set(codes) - {org.code for org in found})
        if missing:
            raise RoundError(f"unknown organisation code(s): {', '.join(missing)}")
        return found
    if audience.county:
        county = audience.county.zfill(2)
        found = list(await session.scalars(statement.where(Organisation.county_code == county)))
        if not found:
            raise RoundError(f"no members in county {county}")
        return found
    return list(await session.scalars(statement))


async def create_round(
    session: AsyncSession,
    *,
    survey_version_id: int,
    title: str,
    audience: Audience,
    opens_at: datetime,
    closes_at: datetime,
) -> Round:
    """Create a planned round with its audience fixed now."""
    if closes_at <= opens_at:
        raise RoundError("the round must close after it opens")
    organisations = await resolve_audience(session, audience)
    round_ = Round(
        survey_version_id=survey_version_id,
        title=title,
        status="planned",
        audience=audience.describe(),
        opens_at=opens_at,
        closes_at=closes_at,
    )
    session.add(round_)
    await session.flush()
    session.add_all(
        RoundOrganisation(round_id=round_.id, organisation_id=org.id) for org in organisations
    )
    await session.flush()
    return round_


async def reachable_chats(
    session: AsyncSession, organisation_ids: Sequence[int]
) -> list[tuple[Chat, Contact, Organisation]]:
    """Each registered contact's most recently used reachable chat, per organisation."""
    rows = await session.execute(
        select(Chat, Contact, Organisation)
        .join(Contact, Chat.contact_id == Contact.id)
        .join(Organisation, Contact.organisation_id == Organisation.id)
        .where(Organisation.id.in_(list(organisation_ids)), Chat.unreachable_at.is_(None))
        .order_by(Contact.id, Chat.last_seen_at.desc().nulls_last(), Chat.id.desc())
    )
    chosen: dict[int, tuple[Chat, Contact, Organisation]] = {}
    for chat, contact, organisation in rows:
        chosen.setdefault(contact.id, (chat, contact, organisation))
    return list(chosen.values())


async def open_round(session: AsyncSession, round_: Round, now: datetime, closes_text: str) -> int:
    """Open a round and queue one invitation per reachable contact; idempotent.

    The dedupe key (round, contact) means opening twice, or a crash halfway through
    queueing, never invites anyone twice. Returns how many invitations were queued now.
    """
    if round_.status in ("closed", "cancelled"):
        return 0
    if round_.status == "planned":
        round_.status = "open"
        round_.opened_at = now
    organisation_ids = list(
        await session.scalars(
            select(RoundOrganisation.organisation_id).where(RoundOrganisation.round_id == round_.id)
        )
    )
    submitted = set(
        await session.scalars(
            select(Response.organisation_id).where(
                Response.round_id == round_.id, Response.status == "submitted"
            )
        )
    )
    queued = 0
    for chat, contact, organisation in await reachable_chats(session, organisation_ids):
        if organisation.id in submitted:
            continue
        message = notices.invitation(
            contact_name=contact.name,
            org_name=organisation.name,
            title=round_.title,
            closes=closes_text,
            round_id=round_.id,
        )
        queued += await outbox.enqueue(
            session,
            outbox.Recipient(chat.channel, chat.address, contact.id),
            [message],
            kind="invitation",
            priority=outbox.PRIORITY_INVITATION,
            dedupe_key=f"invitation:{round_.id}:{contact.id}",
        )
    round_.invitations_queued_at = now
    return queued


async def open_rounds_for(
    session: AsyncSession, organisation_id: int, now: datetime
) -> list[Round]:
    """Rounds open now whose audience includes this organisation."""
    statement = (
        select(Round)
        .join(RoundOrganisation, RoundOrganisation.round_id == Round.id)
        .where(
            RoundOrganisation.organisation_id == organisation_id,
            Round.status == "open",
            Round.opens_at <= now,
            Round.closes_at > now,
        )
        .order_by(Round.closes_at, Round.id)
    )
    return list(await session.scalars(statement))


async def open_due_rounds(
    session: AsyncSession, now: datetime, closes_text: Callable[[Round], str]
) -> list[int]:
    """Open planned rounds whose opening time has come (idempotent; safe to run often).

    A stop-gap until the scheduler owns the annual cycle: it keeps ``--opens`` in the
    future meaningful for a running process.
    """
    due = list(
        await session.scalars(
            select(Round).where(
                Round.status == "planned", Round.opens_at <= now, Round.closes_at > now
            )
        )
    )
    for round_ in due:
        await open_round(session, round_, now, closes_text(round_))
    return [round_.id for round_ in due]

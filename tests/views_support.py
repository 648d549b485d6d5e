"""Constructed data for the read-side views' tests: rounds, contacts, chats, invitations,
responses and publications written straight through the ORM, so every count is known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.reminders import DEFAULT_REMINDERS, QuietRules
from dialogs.state import ResponseState
from services.surveys import register_survey_file
from storage.orm import (
    Chat,
    Contact,
    Invitation,
    Organisation,
    OutboxMessage,
    Publication,
    Response,
    Round,
    RoundEvent,
    RoundInvitee,
    RoundOrganisation,
)
from tests.report_fixtures import PREVIOUS_SURVEY

SURVEY_KEY = "kvartalsvis-behov"
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


async def org_ids(session: AsyncSession, codes: list[str]) -> dict[str, int]:
    rows = await session.execute(
        select(Organisation.code, Organisation.id).where(Organisation.code.in_(codes))
    )
    return dict(rows.all())


async def make_round(
    session: AsyncSession,
    title: str,
    codes: list[str],
    *,
    status: str = "open",
    opens_at: datetime = NOW - timedelta(days=7),
    closes_at: datetime = NOW + timedelta(days=7),
    paused: bool = False,
    plan_key: str | None = None,
) -> int:
    """A round of the survey whose audience is ``codes``: the shipped file as it was
    before its third version (``need_answers`` fills its alone/who questions); a round
    keeps the version it opened with."""
    version = (await register_survey_file(session, PREVIOUS_SURVEY)).version
    round_ = Round(
        survey_version_id=version.id, title=title, status=status, audience={"kind": "orgs",
        "codes": codes}, opens_at=opens_at, closes_at=closes_at, plan_key=plan_key,
        paused_at=NOW if paused else None,
        invitations_queued_at=opens_at if status != "planned" else None,
        reminder_rules=[rule.to_json() for rule in DEFAULT_REMINDERS],
        quiet_rules=QuietRules().to_json(),
    )  # fmt: skip
    session.add(round_)
    await session.flush()
    ids = await org_ids(session, codes)
    session.add_all(RoundOrganisation(round_id=round_.id, organisation_id=ids[c]) for c in codes)
    await session.flush()
    return round_.id


async def contact(
    session: AsyncSession,
    code: str,
    name: str,
    *,
    chats: tuple[tuple[str, bool, datetime | None], ...] = (),
    active: bool = True,
    preferred: str | None = None,
    role: str = "kommunedirektor",
) -> int:
    """A contact of ``code`` with chats given as (channel, reachable, last seen)."""
    (organisation_id,) = (await org_ids(session, [code])).values()
    person = Contact(
        organisation_id=organisation_id, name=name, role=role, email=None, active=active,
        preferred_channel=preferred, deactivated_at=None if active else NOW,
    )  # fmt: skip
    session.add(person)
    await session.flush()
    for index, (channel, reachable, seen) in enumerate(chats):
        session.add(
            Chat(channel=channel, address=f"{channel}-{person.id}-{index}", contact_id=person.id,
                 unreachable_at=None if reachable else NOW, last_seen_at=seen)
        )  # fmt: skip
    await session.flush()
    return person.id


async def invite(session: AsyncSession, round_id: int, contact_id: int) -> None:
    person = await session.get(Contact, contact_id)
    assert person is not None
    session.add(
        RoundInvitee(round_id=round_id, contact_id=contact_id,
                     organisation_id=person.organisation_id, invited_at=NOW)
    )  # fmt: skip
    await session.flush()


async def code(
    session: AsyncSession,
    contact_id: int,
    *,
    expires_at: datetime,
    used: bool = False,
    revoked: bool = False,
    created_at: datetime = NOW - timedelta(days=1),
) -> None:
    session.add(
        Invitation(contact_id=contact_id, code_hash=f"{contact_id}-{expires_at.timestamp()}-{used}",
                   created_at=created_at, expires_at=expires_at,
                   used_at=NOW if used else None, revoked_at=NOW if revoked else None)
    )  # fmt: skip
    await session.flush()


async def respond(
    session: AsyncSession,
    round_id: int,
    code_: str,
    answers: dict[str, Any] | None = None,
    *,
    status: str = "submitted",
    contact_id: int | None = None,
) -> int:
    (organisation_id,) = (await org_ids(session, [code_])).values()
    phase = {"submitted": "submitted", "incomplete": "closed"}.get(status, "answering")
    response = Response(
        round_id=round_id, organisation_id=organisation_id, contact_id=contact_id,
        status=status, state=ResponseState(phase=phase, answers=answers or {}).model_dump(mode="json"),
        started_at=NOW - timedelta(days=2), updated_at=NOW - timedelta(days=1),
        submitted_at=NOW - timedelta(days=1) if status == "submitted" else None,
    )  # fmt: skip
    session.add(response)
    await session.flush()
    return response.id


async def event(
    session: AsyncSession, round_id: int, at: datetime, action: str, **detail: Any
) -> None:
    session.add(
        RoundEvent(round_id=round_id, at=at, actor="scheduler", action=action, detail=detail)
    )
    await session.flush()


async def publication(
    session: AsyncSession,
    title: str,
    *,
    published_at: datetime | None,
    deliveries: tuple[tuple[int | None, str, str | None], ...] = (),
    unreached: int = 0,
) -> int:
    """A publication with outbox rows (contact, status, last error) and unreached contacts."""
    row = Publication(
        kind="broadcast", title=title, text="Hei", status="published" if published_at else "draft",
        created_by="cli", created_at=NOW - timedelta(days=3), updated_at=NOW,
        published_at=published_at, published_by="cli" if published_at else None,
        recipients=len({c for c, _, _ in deliveries}),
        unreached=[{"contact_id": 1000 + i, "name": f"N{i}", "org": "", "org_name": ""}
                   for i in range(unreached)],
    )  # fmt: skip
    session.add(row)
    await session.flush()
    for index, (contact_id, status, error) in enumerate(deliveries):
        session.add(
            OutboxMessage(channel="telegram", address=f"a{contact_id}", contact_id=contact_id,
                          publication_id=row.id, kind="broadcast", priority=0,
                          payload={"text": "Hei"}, status=status, last_error=error,
                          dedupe_key=f"pub:{row.id}:{contact_id}:{index}")
        )  # fmt: skip
    await session.flush()
    return row.id


def need_answers(
    areas: dict[str, tuple[str, int, bool, list[str] | None]],
    *,
    named: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Answers to the shipped survey: per area (need text, urgency, alone, who)."""
    answers: dict[str, Any] = {"omrader": list(areas)}
    for area, (text, urgency, alone, who) in areas.items():
        answers[f"omrader.{area}.behov"] = text
        answers[f"omrader.{area}.haster"] = urgency
        answers[f"omrader.{area}.alene"] = alone
        if who is not None:
            answers[f"omrader.{area}.hvem"] = who
    answers |= {"fra_ks": ["kunnskap"], "fornoyd": 4, "kontakt": True, "navngi": named}
    return answers | (extra or {})

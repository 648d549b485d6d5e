"""Constructed data for the action plans' tests: staff (with or without a bound chat), KS
actions written straight through the ORM, and needs of organisations linked to them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.staff import add_staff
from storage.orm import ActionNeed, Chat, KsAction, Organisation, Response

# A Wednesday, 13:00 in Oslo: within the reminder job's hours.
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
TODAY = date(2027, 3, 10)


async def staff_member(
    session: AsyncSession, name: str, email: str, *, chat: str | None = None
) -> int:
    """A staff account; ``chat``: the address of a Telegram chat bound to it."""
    staff = await add_staff(session, name, email, "staff", NOW)
    if chat is not None:
        session.add(Chat(channel="telegram", address=chat, staff_id=staff.id, last_seen_at=NOW))
        await session.flush()
    return staff.id


async def ks_action(session: AsyncSession, title: str, *, status: str = "planned") -> int:
    """A KS action as the actions service would leave it (that service is not needed here)."""
    action = KsAction(
        title=title, description="", status=status, responsible_unit="Digitalisering",
        created_by="test", created_at=NOW, updated_at=NOW, status_changed_at=NOW,
    )  # fmt: skip
    session.add(action)
    await session.flush()
    return action.id


async def response_of(session: AsyncSession, round_id: int, code: str) -> int:
    """The organisation's submitted response to the round (made on first use)."""
    organisation_id = await session.scalar(select(Organisation.id).where(Organisation.code == code))
    assert organisation_id is not None
    found = await session.scalar(
        select(Response.id).where(
            Response.round_id == round_id, Response.organisation_id == organisation_id
        )
    )
    if found is not None:
        return found
    response = Response(
        round_id=round_id, organisation_id=organisation_id, status="submitted", state={},
        submitted_at=NOW,
    )  # fmt: skip
    session.add(response)
    await session.flush()
    return response.id


async def link_need(
    session: AsyncSession, action_id: int, round_id: int, code: str, question_id: str
) -> None:
    """Link one need of ``code``'s response to the action."""
    response_id = await response_of(session, round_id, code)
    session.add(
        ActionNeed(action_id=action_id, response_id=response_id, question_id=question_id,
                   linked_by="test", linked_at=NOW)
    )  # fmt: skip
    await session.flush()


async def organisation_id(session: AsyncSession, code: str) -> int:
    found = await session.scalar(select(Organisation.id).where(Organisation.code == code))
    assert found is not None
    return found

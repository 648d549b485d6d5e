"""Chatting without a chat app: ``lyttepost chat`` and ``lyttepost demo`` in a terminal.

The terminal is a channel like Telegram, but its operator chose whom to be, so its chat
is bound to a contact directly instead of by an invitation code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import add_contact
from services.lifecycle import open_round
from services.rounds import Audience, create_round
from services.surveys import latest_version
from storage.orm import Chat, Contact, Response

DEMO_SURVEY = "kvartalsvis-behov"
DEMO_DAYS_OPEN = 14


async def bind_chat(session: AsyncSession, channel: str, address: str, contact_id: int) -> None:
    """Make the chat at ``address`` the contact's (no code); ``LookupError`` for no such contact."""
    if await session.get(Contact, contact_id) is None:
        raise LookupError(f"no contact with id {contact_id}")
    chat = await session.scalar(
        select(Chat).where(Chat.channel == channel, Chat.address == address)
    )
    if chat is None:
        session.add(Chat(channel=channel, address=address, contact_id=contact_id))
    else:
        chat.contact_id = contact_id


async def has_submitted(session: AsyncSession, contact_id: int) -> bool:
    """Whether the contact has sent in a response (to any round)."""
    status = await session.scalar(
        select(Response.status).where(
            Response.contact_id == contact_id, Response.status == "submitted"
        )
    )
    return status is not None


@dataclass(frozen=True)
class DemoRound:
    """The demo's member and the round they answer."""

    contact_id: int
    round_id: int


async def open_demo_round(
    session: AsyncSession,
    *,
    org_code: str,
    name: str,
    role: str,
    now: datetime,
    zone: ZoneInfo,
) -> DemoRound:
    """A contact, and a round of the shipped survey for their organisation, open from now."""
    contact = await add_contact(session, org_code, name, role, None)
    version = await latest_version(session, DEMO_SURVEY)
    assert version is not None, "the shipped survey is registered by setup_database"
    round_ = await create_round(
        session,
        survey_version_id=version.id,
        title=version.title,
        audience=Audience(org_codes=(org_code,)),
        opens_at=now,
        closes_at=now + timedelta(days=DEMO_DAYS_OPEN),
    )
    await open_round(session, round_, now, zone, actor="demo")
    return DemoRound(contact.id, round_.id)

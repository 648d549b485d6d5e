"""The conversation references stored with chats, as the Teams transport reads them.

Teams is reached proactively through the reference kept from the member's last
activity (``Chat.conversation_ref``); what a reference means (its tenant, its service
URL) is the transport's business, where to find it is this module's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.orm import Chat

# Addresses per query: a publication can reach hundreds of chats, and every database
# limits how many parameters one statement may carry.
BATCH = 500


async def conversation_reference(
    session: AsyncSession, channel: str, address: str
) -> dict[str, Any] | None:
    """The reference stored for one chat; None when there is no such chat or none stored."""
    stored: dict[str, Any] | None = await session.scalar(
        select(Chat.conversation_ref).where(Chat.channel == channel, Chat.address == address)
    )
    return stored


async def conversation_references(
    session: AsyncSession, channel: str, addresses: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The stored references of the chats at ``addresses`` that have one, by address."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(addresses), BATCH):
        rows = await session.execute(
            select(Chat.address, Chat.conversation_ref).where(
                Chat.channel == channel, Chat.address.in_(addresses[start : start + BATCH])
            )
        )
        for address, stored in rows:
            if stored is not None:
                found[address] = stored
    return found

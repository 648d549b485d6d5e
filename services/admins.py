"""Staff accounts at the CLI and in chat: chat codes, bound chats, API tokens, the list.

The admin role used to be a flag on a member's contact; it belongs to staff accounts now
(``services/staff.py``, docs/decisions/0015). A staff member binds a chat with a staff
code to use the admin commands there and to receive previews, without becoming anyone's
respondent. Rights are read from the database on every command, so a change of role or
a deactivation takes effect at the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.dates import iso
from services import audit, staff_access
from services.invites import new_code
from services.staff import StaffError
from storage.orm import Chat, Staff, StaffToken


async def chat_staff(session: AsyncSession, chat: Chat) -> Staff | None:
    """The active staff account a chat is bound to, or None."""
    if chat.staff_id is None:
        return None
    staff = await session.get(Staff, chat.staff_id)
    return staff if staff is not None and staff.active else None


async def issue_chat_code(
    session: AsyncSession, staff: Staff, now: datetime
) -> staff_access.IssuedSecret:
    """A single-use code that binds a chat to ``staff``. It is drawn from the invitation
    codes' alphabet, so it can be typed where they are (``/start CODE``) and share their
    limit on wrong attempts. ``StaffError`` for an inactive account."""
    _require_active(staff)
    return await staff_access.issue(
        session, staff, "chat_code", now, ttl=staff_access.CHAT_CODE_TTL, secret=new_code()
    )


async def bind_chat(session: AsyncSession, chat: Chat, staff: Staff, now: datetime) -> None:
    """The chat is ``staff``'s from now on: admin commands and previews. A member's
    registration in the same chat (``contact_id``) is left as it is."""
    chat.staff_id = staff.id
    chat.awaiting_code = False
    audit.record(
        session,
        audit.Actor.for_staff(staff, "chat"),
        "staff.chat_bound",
        f"staff:{staff.id}",
        now,
        chat=chat.id,
        channel=chat.channel,
    )


async def latest_chat(session: AsyncSession, staff_id: int) -> Chat | None:
    """The staff member's reachable chat they wrote in last: where a preview goes."""
    return await session.scalar(
        select(Chat)
        .where(Chat.staff_id == staff_id, Chat.unreachable_at.is_(None))
        .order_by(Chat.last_seen_at.desc().nulls_last(), Chat.id.desc())
        .limit(1)
    )


async def issue_api_token(
    session: AsyncSession, staff: Staff, now: datetime, label: str | None
) -> tuple[int, str]:
    """A personal API token (id, secret): the secret exists in plain text only here."""
    _require_active(staff)
    cleaned = " ".join((label or "").split())[:100] or None
    issued = await staff_access.issue(session, staff, "api", now, ttl=None, label=cleaned)
    token_id = await session.scalar(
        select(StaffToken.id).where(
            StaffToken.token_hash == staff_access.hash_secret(issued.secret)
        )
    )
    assert token_id is not None  # flushed by issue()
    return token_id, issued.secret


async def api_tokens(session: AsyncSession, staff: Staff) -> list[dict[str, Any]]:
    """The account's API tokens, newest first: never the secrets, which are not kept."""
    return [
        {"id": t.id, "label": t.label, "created_at": iso(t.created_at),
         "last_used_at": iso(t.last_used_at), "revoked_at": iso(t.revoked_at)}
        for t in await staff_access.tokens_of(session, staff, "api")
    ]  # fmt: skip


async def token_owner(session: AsyncSession, token_id: int) -> Staff | None:
    """Whose token this is (for the audit entry of a revocation)."""
    token = await session.get(StaffToken, token_id)
    return await session.get(Staff, token.staff_id) if token is not None else None


@dataclass(frozen=True)
class StaffRow:
    """An account as ``lyttepost staff list`` shows it."""

    id: int
    name: str
    email: str
    role: str
    active: bool
    chats: int
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "email": self.email, "role": self.role,
                "active": self.active, "chats": self.chats,
                "created_at": iso(self.created_at)}  # fmt: skip


async def staff_rows(session: AsyncSession) -> list[StaffRow]:
    """Every account by name, with how many chats are bound to it."""
    bound = (
        select(Chat.staff_id, func.count().label("n"))
        .where(Chat.staff_id.is_not(None))
        .group_by(Chat.staff_id)
        .subquery()
    )
    rows = await session.execute(
        select(Staff, bound.c.n)
        .outerjoin(bound, bound.c.staff_id == Staff.id)
        .order_by(Staff.name, Staff.id)
    )
    return [
        StaffRow(s.id, s.name, s.email, s.role, s.active, chats or 0, s.created_at)
        for s, chats in rows
    ]


def _require_active(staff: Staff) -> None:
    if not staff.active:
        raise StaffError(f"the staff account {staff.email} is deactivated")

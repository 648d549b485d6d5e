"""Personal invitation codes: issued by admins, redeemed once in a chat.

Codes come from ``secrets`` over an alphabet without look-alike characters, are stored
only as SHA-256 hashes, expire, and are single use. Failed attempts are counted per
chat and overall, and a chat that keeps guessing is locked out for a while.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import quote

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.orm import Chat, CodeAttempt, Contact, Invitation

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1
CODE_LENGTH = 10  # 32**10 ≈ 1e15 codes
MAX_FAILURES_PER_CHAT = 5
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_OVERALL_PER_MINUTE = 60


def new_code() -> str:
    """A fresh random code; also valid as a Telegram deep-link payload."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What the member typed, forgiving case, spaces and dashes."""
    return re.sub(r"[\s\-_]", "", text).upper()[:64]


def hash_code(code: str) -> str:
    """The stored form of a code."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def deep_link(bot_username: str, code: str) -> str:
    """``https://t.me/<bot>?start=<code>``: opening it sends ``/start <code>``."""
    return f"https://t.me/{bot_username}?start={code}"


def teams_chat_link(app_id: str, code: str) -> str:
    """A Teams link that opens the 1:1 chat with the bot (``28:<app id>``) with the code
    already typed in the compose box; the member presses send. The app must be allowed
    in the member's tenant (docs/teams-setup.md)."""
    return f"https://teams.microsoft.com/l/chat/0/0?users=28:{app_id}&message={quote(code)}"


@dataclass(frozen=True)
class IssuedCode:
    """A code as handed to the admin: the only time the plain code exists."""

    contact_id: int
    code: str
    expires_at: datetime


async def issue_code(
    session: AsyncSession, contact_id: int, now: datetime, ttl: timedelta
) -> IssuedCode:
    """Issue a new code for a contact, revoking any unused earlier one."""
    await session.execute(
        update(Invitation)
        .where(
            Invitation.contact_id == contact_id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    code = new_code()
    session.add(
        Invitation(
            contact_id=contact_id, code_hash=hash_code(code), created_at=now, expires_at=now + ttl
        )
    )
    await session.flush()
    return IssuedCode(contact_id, code, now + ttl)


RedeemOutcome = Literal["ok", "already_yours", "unknown", "expired", "used", "locked", "busy"]


@dataclass(frozen=True)
class Redemption:
    """What happened to a code attempt; ``retry_in`` is set when locked out."""

    outcome: RedeemOutcome
    contact: Contact | None = None
    attempts_left: int = 0
    retry_in: timedelta | None = None


async def redeem_code(session: AsyncSession, chat: Chat, text: str, now: datetime) -> Redemption:
    """Try a code in a chat; on success the chat belongs to the code's contact."""
    since = now - FAILURE_WINDOW
    failures = await session.scalars(
        select(CodeAttempt.attempted_at)
        .where(
            CodeAttempt.channel == chat.channel,
            CodeAttempt.address == chat.address,
            CodeAttempt.attempted_at > since,
        )
        .order_by(CodeAttempt.attempted_at)
    )
    recent = list(failures)
    if len(recent) >= MAX_FAILURES_PER_CHAT:
        unlock = recent[-MAX_FAILURES_PER_CHAT] + FAILURE_WINDOW
        return Redemption("locked", retry_in=max(unlock - now, timedelta(minutes=1)))
    overall = await session.scalar(
        select(func.count(CodeAttempt.id)).where(
            CodeAttempt.attempted_at > now - timedelta(minutes=1)
        )
    )
    if (overall or 0) >= MAX_FAILURES_OVERALL_PER_MINUTE:
        return Redemption("busy", retry_in=timedelta(minutes=1))

    invitation = await session.scalar(
        select(Invitation).where(Invitation.code_hash == hash_code(text))
    )
    owner = await session.get(Contact, invitation.contact_id) if invitation else None
    outcome: RedeemOutcome
    if invitation is None or invitation.revoked_at is not None or not (owner and owner.active):
        outcome = "unknown"  # withdrawn, or its contact was deactivated or erased
    elif invitation.used_at is not None:
        if invitation.used_by_chat_id == chat.id:
            contact = await session.get(Contact, invitation.contact_id)
            return Redemption("already_yours", contact=contact)
        outcome = "used"
    elif invitation.expires_at <= now:
        outcome = "expired"
    else:
        invitation.used_at = now
        invitation.used_by_chat_id = chat.id
        chat.contact_id = invitation.contact_id
        chat.awaiting_code = False
        contact = await session.get(Contact, invitation.contact_id)
        return Redemption("ok", contact=contact)

    session.add(CodeAttempt(channel=chat.channel, address=chat.address, attempted_at=now))
    return Redemption(outcome, attempts_left=MAX_FAILURES_PER_CHAT - len(recent) - 1)

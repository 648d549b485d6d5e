"""Personal invitation codes: issued by admins, redeemed once in a chat.

Codes come from ``secrets`` over an alphabet without look-alike characters, are stored
only as SHA-256 hashes, expire, and are single use. Failed attempts are counted per
chat, and a chat that keeps guessing is locked out for a while.

Failures are also counted overall, but only as a signal: during a flood of wrong codes
the per-chat limit tightens and operators are warned, yet every chat's first attempts
are still checked, so a member's correct code always gets through. What bounds
guessing in the end is the code space against the rate Lyttepost can check codes at
(docs/decisions/0004-invitation-codes.md has the figures).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import quote

from sqlalchemy import delete, distinct, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import pending_contacts
from storage.orm import Chat, CodeAttempt, Contact, Invitation, Organisation

log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1
CODE_LENGTH = 10  # 32**10 ≈ 1.1e15 codes
MAX_FAILURES_PER_CHAT = 5
FAILURE_WINDOW = timedelta(minutes=15)
# More failures than this in a minute, from all chats together, is a flood of guesses:
# the per-chat limit tightens to MAX_FAILURES_PER_CHAT_IN_FLOOD and operators are warned.
FLOOD_FAILURES_PER_MINUTE = 60
MAX_FAILURES_PER_CHAT_IN_FLOOD = 2
FLOOD_WARNING_INTERVAL = timedelta(minutes=1)
# Failed workspace sign-ins share the table (services/staff_access.py) but not the flood
# signal: a burst of wrong login links must not tighten members' invitation codes.
WEB_LOGIN_CHANNEL = "web-login"
# Failed attempts older than this are of no use to any limit and are deleted (at most
# once per flood warning), so a long flood does not fill the database.
ATTEMPTS_KEPT = timedelta(days=1)


def new_code() -> str:
    """A fresh random code; also valid as a Telegram deep-link payload."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What the member typed, forgiving case, spaces and dashes."""
    return re.sub(r"[\s\-_]", "", text).upper()[:64]


def looks_like_code(text: str) -> bool:
    """Whether a message is nothing but a code (spaces and dashes forgiven): in a chat that
    is not registered, such a message is redeemed as ``/start CODE`` would be."""
    code = normalise_code(text)
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)


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


async def revoke_codes(session: AsyncSession, contact_id: int, now: datetime) -> int:
    """Withdraw a contact's codes that have not been used (a letter sent to the wrong
    person, a code read aloud): typed in a chat, they are then unknown. Returns how many
    could still have been used (not expired)."""
    live = await session.scalar(
        select(func.count(Invitation.id)).where(
            Invitation.contact_id == contact_id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    )
    await session.execute(
        update(Invitation)
        .where(
            Invitation.contact_id == contact_id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return live or 0


@dataclass(frozen=True)
class IssuedCode:
    """A code as handed to the admin: the only time the plain code exists."""

    contact_id: int
    code: str
    expires_at: datetime


async def issue_code(
    session: AsyncSession,
    contact_id: int,
    now: datetime,
    ttl: timedelta,
    *,
    kind: str = "invite",
    issued_by: int | None = None,
) -> IssuedCode:
    """Issue a new code for a contact, revoking any unused earlier one. ``kind``: an
    invitation, a delegate's code or a code linking another chat (services.organisation)."""
    await revoke_codes(session, contact_id, now)
    code = new_code()
    session.add(
        Invitation(
            contact_id=contact_id,
            code_hash=hash_code(code),
            created_at=now,
            expires_at=now + ttl,
            kind=kind,
            issued_by_contact_id=issued_by,
        )  # fmt: skip
    )
    await session.flush()
    return IssuedCode(contact_id, code, now + ttl)


@dataclass(frozen=True)
class Invited:
    """A contact with a fresh code, and what a mail merge needs to reach them."""

    contact_id: int
    name: str
    email: str | None
    org: str
    org_name: str
    code: str
    expires_at: datetime


async def invite_contacts(
    session: AsyncSession, now: datetime, ttl: timedelta, contact_id: int | None = None
) -> list[Invited]:
    """Codes for one active contact, or (no ``contact_id``) for every active contact who
    needs one: no chat yet and no code that could still be used.

    ``LookupError`` when ``contact_id`` is not an active contact.
    """
    if contact_id is not None:
        contact = await session.get(Contact, contact_id)
        if contact is None or not contact.active:
            raise LookupError(f"no active contact with id {contact_id}")
        targets = [contact]
    else:
        targets = await pending_contacts(session, now)
    invited = []
    for target in targets:
        code = await issue_code(session, target.id, now, ttl)
        organisation = await session.get(Organisation, target.organisation_id)
        assert organisation is not None  # a foreign key
        invited.append(
            Invited(target.id, target.name, target.email, organisation.code, organisation.name,
                    code.code, code.expires_at)
        )  # fmt: skip
    return invited


RedeemOutcome = Literal["ok", "already_yours", "other", "unknown", "expired", "used", "locked"]
# Another kind of code typed where invitation codes are (a KS staff member's chat code):
# given the normalised text, it redeems the code and says how that went.
OtherCode = Callable[[str], Awaitable[Literal["ok", "unknown", "expired", "used"]]]


@dataclass(frozen=True)
class Redemption:
    """What happened to a code attempt; ``retry_in`` is set when locked out, ``flood``
    when many wrong codes are being tried right now (the chat's limit is tighter).
    ``other``: the code was of the other kind, and the caller's ``OtherCode`` took it."""

    outcome: RedeemOutcome
    contact: Contact | None = None
    attempts_left: int = 0
    retry_in: timedelta | None = None
    unlocks_at: datetime | None = None
    flood: bool = False
    kind: str = "invite"  # the code's kind when it was redeemed ("ok")


@dataclass
class FloodWatch:
    """Warns operators of a flood of wrong codes, at most once a minute per process.

    Held by the long-lived conversation; the flood itself is read from the database
    (failures of every process count), only the time of the last warning is kept here.
    """

    last_warning: datetime | None = None

    async def observe(self, session: AsyncSession, now: datetime) -> None:
        """Called on each attempt during a flood: a WARNING when one is due."""
        if self.last_warning is not None and now - self.last_warning < FLOOD_WARNING_INTERVAL:
            return
        self.last_warning = now
        since = now - timedelta(minutes=1)
        failures, chats = (
            await session.execute(
                select(func.count(CodeAttempt.id), func.count(distinct(CodeAttempt.address))).where(
                    CodeAttempt.attempted_at > since, CodeAttempt.channel != WEB_LOGIN_CHANNEL
                )
            )
        ).one()
        log.warning(
            "invitation codes: %s wrong codes in the last minute from %s chats: a flood of "
            "guesses; each chat now gets %s tries per %s minutes (correct codes still work)",
            failures,
            chats,
            MAX_FAILURES_PER_CHAT_IN_FLOOD,
            int(FAILURE_WINDOW.total_seconds() // 60),
        )
        await session.execute(
            delete(CodeAttempt).where(CodeAttempt.attempted_at < now - ATTEMPTS_KEPT)
        )


async def flood_under_way(session: AsyncSession, now: datetime) -> bool:
    """Whether wrong codes are flooding in (a bounded count: cheap even in a flood)."""
    recent = (
        select(CodeAttempt.id)
        .where(
            CodeAttempt.attempted_at > now - timedelta(minutes=1),
            CodeAttempt.channel != WEB_LOGIN_CHANNEL,
        )
        .limit(FLOOD_FAILURES_PER_MINUTE)
        .subquery()
    )
    count = await session.scalar(select(func.count()).select_from(recent))
    return (count or 0) >= FLOOD_FAILURES_PER_MINUTE


async def redeem_code(
    session: AsyncSession,
    chat: Chat,
    text: str,
    now: datetime,
    *,
    watch: FloodWatch | None = None,
    other: OtherCode | None = None,
) -> Redemption:
    """Try a code in a chat; on success the chat belongs to the code's contact.

    A chat that has failed too often lately is refused without checking the code; any
    other attempt is checked, however many wrong codes other chats are sending. When no
    invitation has the code, ``other`` tries it as a code of another kind; either way a
    wrong code counts once against the chat, so having two kinds gives no extra guesses.
    """
    flood = await flood_under_way(session, now)
    if flood and watch is not None:
        await watch.observe(session, now)
    limit = MAX_FAILURES_PER_CHAT_IN_FLOOD if flood else MAX_FAILURES_PER_CHAT
    failures = await session.scalars(
        select(CodeAttempt.attempted_at)
        .where(
            CodeAttempt.channel == chat.channel,
            CodeAttempt.address == chat.address,
            CodeAttempt.attempted_at > now - FAILURE_WINDOW,
        )
        .order_by(CodeAttempt.attempted_at)
    )
    recent = list(failures)
    if len(recent) >= limit:
        unlocks_at = recent[-limit] + FAILURE_WINDOW
        return Redemption(
            "locked",
            retry_in=max(unlocks_at - now, timedelta(minutes=1)),
            unlocks_at=unlocks_at,
            flood=flood,
        )

    invitation = await session.scalar(
        select(Invitation).where(Invitation.code_hash == hash_code(text))
    )
    owner = await session.get(Contact, invitation.contact_id) if invitation else None
    outcome: RedeemOutcome
    if invitation is None and other is not None:
        outcome = await other(normalise_code(text))
        if outcome == "ok":
            chat.awaiting_code = False
            return Redemption("other", flood=flood)
    elif invitation is None or invitation.revoked_at is not None or not (owner and owner.active):
        outcome = "unknown"  # withdrawn, or its contact was deactivated or erased
    elif invitation.used_at is not None:
        if invitation.used_by_chat_id == chat.id:
            contact = await session.get(Contact, invitation.contact_id)
            return Redemption("already_yours", contact=contact, flood=flood)
        outcome = "used"
    elif invitation.expires_at <= now:
        outcome = "expired"
    else:
        invitation.used_at = now
        invitation.used_by_chat_id = chat.id
        chat.contact_id = invitation.contact_id
        chat.awaiting_code = False
        contact = await session.get(Contact, invitation.contact_id)
        return Redemption("ok", contact=contact, flood=flood, kind=invitation.kind)

    session.add(CodeAttempt(channel=chat.channel, address=chat.address, attempted_at=now))
    left = limit - len(recent) - 1
    if left > 0:
        return Redemption(outcome, attempts_left=left, flood=flood)
    locks_until = [*recent, now][-limit] + FAILURE_WINDOW  # this failure locks the chat
    return Redemption(outcome, retry_in=locks_until - now, unlocks_at=locks_until, flood=flood)

"""Secrets that let a staff member in: login links, chat codes, API tokens and sessions.

Every secret comes from ``secrets`` and only its SHA-256 hash is stored, so a copy of the
database lets no one in. Login links are single use and short-lived; a session ends on
logout, after ``idle`` without a request, or at once when the account is deactivated.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.invites import WEB_LOGIN_CHANNEL
from services.staff import StaffView
from storage.orm import CodeAttempt, Staff, StaffSession, StaffToken

Purpose = Literal["login_link", "chat_code", "api"]
LOGIN_LINK_TTL = timedelta(minutes=15)
CHAT_CODE_TTL = timedelta(days=7)
SESSION_IDLE = timedelta(hours=8)
LOGIN_PATH = "/logg-inn/lenke/"


def hash_secret(secret: str) -> str:
    """The stored form of any staff secret."""
    return hashlib.sha256(secret.strip().encode()).hexdigest()


@dataclass(frozen=True)
class IssuedSecret:
    """A secret as handed out: the only time it exists in plain text."""

    staff_id: int
    secret: str
    expires_at: datetime | None


async def issue(
    session: AsyncSession,
    staff: Staff,
    purpose: Purpose,
    now: datetime,
    *,
    ttl: timedelta | None,
    label: str | None = None,
    secret: str | None = None,
) -> IssuedSecret:
    """Store the hash of a new secret for ``staff``; ``secret`` is drawn when not given."""
    plain = secret or secrets.token_urlsafe(32)
    expires = now + ttl if ttl is not None else None
    session.add(
        StaffToken(
            staff_id=staff.id,
            purpose=purpose,
            token_hash=hash_secret(plain),
            label=label,
            created_at=now,
            expires_at=expires,
        )
    )
    await session.flush()
    return IssuedSecret(staff.id, plain, expires)


def login_url(base_url: str, secret: str) -> str:
    """The link a staff member opens to sign in."""
    return f"{base_url.rstrip('/')}{LOGIN_PATH}{secret}"


async def issue_login_link(
    session: AsyncSession, staff: Staff, now: datetime, base_url: str
) -> tuple[str, datetime]:
    """A single-use login link valid for LOGIN_LINK_TTL, and when it expires."""
    issued = await issue(session, staff, "login_link", now, ttl=LOGIN_LINK_TTL)
    assert issued.expires_at is not None
    return login_url(base_url, issued.secret), issued.expires_at


async def active_staff_for_link(session: AsyncSession, email: str) -> Staff:
    """The active account a login link is for; ``LookupError`` naming the address if none."""
    from services.staff import active_by_email, normalise_email

    staff = await active_by_email(session, email)
    if staff is None:
        raise LookupError(f"no active staff account with e-mail {normalise_email(email)}")
    return staff


LinkOutcome = Literal["ok", "unknown", "used", "expired", "inactive"]


@dataclass(frozen=True)
class Redeemed:
    """What using a single-use secret gave: the account when ``outcome`` is ``ok``."""

    outcome: LinkOutcome
    staff: Staff | None = None


async def redeem(session: AsyncSession, secret: str, purpose: Purpose, now: datetime) -> Redeemed:
    """Use a single-use secret (login link or chat code) once.

    The row is marked used by a conditional update, so two requests racing with the
    same link cannot both get in."""
    token = await session.scalar(
        select(StaffToken).where(
            StaffToken.token_hash == hash_secret(secret), StaffToken.purpose == purpose
        )
    )
    if token is None or token.revoked_at is not None:
        return Redeemed("unknown")
    if token.used_at is not None:
        return Redeemed("used")
    if token.expires_at is not None and token.expires_at <= now:
        return Redeemed("expired")
    staff = await session.get(Staff, token.staff_id)
    if staff is None or not staff.active:
        return Redeemed("inactive")
    claimed = await session.execute(
        update(StaffToken)
        .where(StaffToken.id == token.id, StaffToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return Redeemed("used")
    return Redeemed("ok", staff)


async def api_staff(session: AsyncSession, secret: str, now: datetime) -> Staff | None:
    """The active account a personal API token belongs to, or None."""
    token = await session.scalar(
        select(StaffToken).where(
            StaffToken.token_hash == hash_secret(secret),
            StaffToken.purpose == "api",
            StaffToken.revoked_at.is_(None),
        )
    )
    if token is None:
        return None
    staff = await session.get(Staff, token.staff_id)
    if staff is None or not staff.active:
        return None
    token.last_used_at = now
    return staff


async def revoke(session: AsyncSession, token_id: int, now: datetime) -> bool:
    """Revoke one token by id; False when there is no such live token."""
    result = await session.execute(
        update(StaffToken)
        .where(StaffToken.id == token_id, StaffToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def tokens_of(
    session: AsyncSession, staff: Staff, purpose: Purpose | None = None
) -> list[StaffToken]:
    """The account's tokens, newest first (hashes only)."""
    query = select(StaffToken).where(StaffToken.staff_id == staff.id)
    if purpose is not None:
        query = query.where(StaffToken.purpose == purpose)
    return list(await session.scalars(query.order_by(StaffToken.id.desc())))


@dataclass(frozen=True)
class OpenedSession:
    """A new browser session: the cookie value (plain, only here) and its CSRF token."""

    cookie: str
    csrf_token: str


async def open_session(
    session: AsyncSession, staff: Staff | StaffView, via: Literal["link", "oidc"], now: datetime
) -> OpenedSession:
    """Sign ``staff`` in: a new session row keyed by the hash of a fresh cookie value."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=hash_secret(cookie),
            staff_id=staff.id,
            csrf_token=csrf,
            via=via,
            created_at=now,
            last_seen_at=now,
        )
    )
    await session.flush()
    return OpenedSession(cookie, csrf)


async def sign_in(
    session: AsyncSession, staff: Staff | StaffView, via: Literal["link", "oidc"], now: datetime
) -> OpenedSession:
    """Open a session for ``staff`` and record the sign-in in the audit log."""
    from services import audit

    opened = await open_session(session, staff, via, now)
    audit.record(
        session,
        audit.Actor.for_staff(staff, "web"),
        "staff.login",
        f"staff:{staff.id}",
        now,
        via=via,
    )
    return opened


@dataclass(frozen=True)
class SignedIn:
    """The account behind a live session, and the session's CSRF token."""

    staff: Staff
    session_id: int
    csrf_token: str


async def signed_in(
    session: AsyncSession, cookie: str, now: datetime, idle: timedelta = SESSION_IDLE
) -> SignedIn | None:
    """The live session for a cookie value, touched; None when unknown, ended, idle for
    longer than ``idle`` (it is ended then) or its account is no longer active."""
    if not cookie:
        return None
    row = await session.scalar(
        select(StaffSession).where(
            StaffSession.token_hash == hash_secret(cookie), StaffSession.ended_at.is_(None)
        )
    )
    if row is None:
        return None
    if now - row.last_seen_at > idle:
        row.ended_at = now
        return None
    staff = await session.get(Staff, row.staff_id)
    if staff is None or not staff.active:
        row.ended_at = now
        return None
    row.last_seen_at = now
    return SignedIn(staff, row.id, row.csrf_token)


async def end_session(session: AsyncSession, session_id: int, now: datetime) -> None:
    """Log out: the cookie no longer opens anything."""
    await session.execute(
        update(StaffSession)
        .where(StaffSession.id == session_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )


# --- failed sign-ins on the web ------------------------------------------------------------
#
# Wrong or used login links and refused Entra accounts are counted per client address in
# the table that already slows down invitation-code guessing (its own channel), so every
# process sees the same count and retention and erasure treat the rows like the others.
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)


async def record_login_failure(session: AsyncSession, address: str, now: datetime) -> None:
    """Count one failed sign-in from ``address`` (a client IP)."""
    session.add(CodeAttempt(channel=WEB_LOGIN_CHANNEL, address=address[:200], attempted_at=now))
    await session.flush()


async def login_blocked(
    session: AsyncSession, address: str, now: datetime, limit: int
) -> datetime | None:
    """When ``address`` may try again after ``limit`` failures within LOGIN_FAILURE_WINDOW,
    or None when it may try now. Checked before a sign-in is tried, so a blocked address
    learns nothing from its next guess."""
    recent = list(
        await session.scalars(
            select(CodeAttempt.attempted_at)
            .where(
                CodeAttempt.channel == WEB_LOGIN_CHANNEL,
                CodeAttempt.address == address[:200],
                CodeAttempt.attempted_at > now - LOGIN_FAILURE_WINDOW,
            )
            .order_by(CodeAttempt.attempted_at.desc())
            .limit(limit)
        )
    )
    if len(recent) < limit:
        return None
    return recent[-1] + LOGIN_FAILURE_WINDOW  # when the oldest of those leaves the window

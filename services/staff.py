"""KS staff accounts: who may use the workspace, the API and the chat's admin commands.

Roles are ordered: ``viewer`` < ``staff`` < ``admin``; a handler asks for the least role
it needs and ``has_role`` answers from the account as read from the database on every
request, so a change of role or a deactivation takes effect at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.orm import Chat, Staff, StaffSession, StaffToken

Role = Literal["viewer", "staff", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "staff", "admin")
ROLE_NAMES_NB = {"viewer": "leser", "staff": "rådgiver", "admin": "administrator"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffError(ValueError):
    """A request about staff that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class StaffView:
    """A staff account as the doors show it."""

    id: int
    name: str
    email: str
    role: str
    active: bool


def view(staff: Staff) -> StaffView:
    """The account without the ORM object."""
    return StaffView(staff.id, staff.name, staff.email, staff.role, staff.active)


def has_role(staff: Staff | StaffView, needed: Role) -> bool:
    """True when ``staff`` is active and holds ``needed`` or a higher role."""
    if not staff.active or staff.role not in ROLES:
        return False
    return ROLES.index(staff.role) >= ROLES.index(needed)


def normalise_email(email: str) -> str:
    """E-mail addresses are compared lower-case and without surrounding spaces."""
    return email.strip().lower()


def check_role(role: str) -> Role:
    """``role`` if it is one of ROLES; ``StaffError`` naming the choices otherwise."""
    if role not in ROLES:
        raise StaffError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    return role


async def by_email(session: AsyncSession, email: str) -> Staff | None:
    """The account with this e-mail address, active or not."""
    return await session.scalar(select(Staff).where(Staff.email == normalise_email(email)))


async def active_by_email(session: AsyncSession, email: str) -> Staff | None:
    """The active account with this address: the only kind that may sign in."""
    staff = await by_email(session, email)
    return staff if staff is not None and staff.active else None


async def add_staff(
    session: AsyncSession, name: str, email: str, role: str, now: datetime
) -> Staff:
    """A new account; an existing inactive one with that address is reactivated instead."""
    name = " ".join(name.split())
    address = normalise_email(email)
    if not name:
        raise StaffError("a staff account needs a name")
    if not EMAIL.match(address) or len(address) > 254:
        raise StaffError(f"not an e-mail address: {email!r}")
    checked = check_role(role)
    existing = await by_email(session, address)
    if existing is not None:
        if existing.active:
            raise StaffError(f"{address} already has a staff account (id {existing.id})")
        existing.active, existing.deactivated_at = True, None
        existing.name, existing.role = name, checked
        return existing
    staff = Staff(name=name, email=address, role=checked, active=True, created_at=now)
    session.add(staff)
    await session.flush()
    return staff


async def list_staff(session: AsyncSession, include_inactive: bool = True) -> list[Staff]:
    """Accounts by name."""
    query = select(Staff).order_by(Staff.name, Staff.id)
    if not include_inactive:
        query = query.where(Staff.active.is_(True))
    return list(await session.scalars(query))


async def require_staff(session: AsyncSession, email: str) -> Staff:
    """The account with this address; ``StaffError`` if there is none."""
    staff = await by_email(session, email)
    if staff is None:
        raise StaffError(f"no staff account with e-mail {normalise_email(email)}")
    return staff


async def set_role(session: AsyncSession, staff: Staff, role: str) -> Staff:
    """Change the role; takes effect at the account's next request."""
    staff.role = check_role(role)
    return staff


async def deactivate(session: AsyncSession, staff: Staff, now: datetime) -> Staff:
    """Shut the account out everywhere at once: sessions end, tokens are revoked, bound
    chats are unbound. The row stays for the audit log."""
    staff.active, staff.deactivated_at = False, now
    await session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    await session.execute(
        update(StaffToken)
        .where(StaffToken.staff_id == staff.id, StaffToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.execute(update(Chat).where(Chat.staff_id == staff.id).values(staff_id=None))
    return staff


async def staff_by_id(session: AsyncSession, staff_id: int) -> Staff:
    """The account with this id; ``LookupError`` if there is none."""
    staff = await session.get(Staff, staff_id)
    if staff is None:
        raise LookupError(f"no staff account with id {staff_id}")
    return staff

"""One audit log for every write, whichever door it came through (ADR 15).

The workspace, the API, the CLI and the chat's admin commands call ``record`` in the
same transaction as the change, so an entry exists exactly when the change does.
Entries name the actor, the action and its target, with counts and ids in ``detail``;
never members' answers or secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.staff import StaffView
from storage.orm import AuditEntry, Staff

Door = Literal["web", "api", "cli", "chat", "system"]


@dataclass(frozen=True)
class Actor:
    """Who is acting, through which door: ``staff:<id>`` for a person with an account,
    ``cli`` for the server's command line, ``contact:<id>`` for a member."""

    label: str
    door: Door
    staff_id: int | None = None

    @classmethod
    def for_staff(cls, staff: Staff | StaffView, door: Door) -> Actor:
        return cls(f"staff:{staff.id}", door, staff.id)


CLI = Actor("cli", "cli")
SYSTEM = Actor("system", "system")


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target: str | None,
    now: datetime,
    **detail: Any,
) -> AuditEntry:
    """Add an entry to the caller's transaction (committed with the change it records)."""
    entry = AuditEntry(
        at=now,
        actor=actor.label[:120],
        staff_id=actor.staff_id,
        door=actor.door,
        action=action[:60],
        target=target[:120] if target else None,
        detail=detail,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditQuery:
    """Filters for reading the log; None means any."""

    staff_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200
    offset: int = 0


@dataclass(frozen=True)
class AuditRow:
    """An entry as the doors show it, with the staff member's name when there is one."""

    id: int
    at: datetime
    actor: str
    staff_name: str | None
    door: str
    action: str
    target: str | None
    detail: dict[str, Any] = field(default_factory=dict)


async def entries(session: AsyncSession, query: AuditQuery) -> list[AuditRow]:
    """Newest first, filtered."""
    statement = (
        select(AuditEntry, Staff.name)
        .outerjoin(Staff, Staff.id == AuditEntry.staff_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    )
    if query.staff_id is not None:
        statement = statement.where(AuditEntry.staff_id == query.staff_id)
    if query.action:
        statement = statement.where(AuditEntry.action == query.action)
    if query.since is not None:
        statement = statement.where(AuditEntry.at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditEntry.at < query.until)
    rows = await session.execute(statement)
    return [
        AuditRow(e.id, e.at, e.actor, name, e.door, e.action, e.target, dict(e.detail or {}))
        for e, name in rows
    ]


async def actions(session: AsyncSession) -> list[str]:
    """Every action that occurs in the log, for a filter's choices."""
    return list(
        await session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )

"""Named, expiring leases in the database: one holder at a time, on SQLite and PostgreSQL.

A lease is taken or renewed by one conditional UPDATE (``holder = me OR expired``), which
both backends execute atomically, so two processes can never both succeed. A holder
that dies simply stops renewing, and the lease is free once it expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected_rows
from storage.orm import Lease
from storage.upsert import insert_ignoring_conflicts

NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LeaseState:
    """Who holds a lease and until when (``holder`` None: nobody)."""

    name: str
    holder: str | None
    acquired_at: datetime | None
    expires_at: datetime


async def try_acquire(
    session: AsyncSession, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew the lease for ``ttl``; False if another holder's lease is still valid."""
    await insert_ignoring_conflicts(
        session,
        Lease.__table__,
        [{"name": name, "holder": None, "acquired_at": None, "expires_at": NEVER}],
        ["name"],
    )
    current = await session.scalar(select(Lease.holder).where(Lease.name == name))
    values: dict[str, object] = {"holder": holder, "expires_at": now + ttl}
    if current != holder:
        values["acquired_at"] = now
    result = await session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result) == 1


async def release(session: AsyncSession, name: str, holder: str) -> None:
    """Give the lease up at once (on a clean shutdown), if we hold it."""
    await session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .values(holder=None, expires_at=NEVER)
        .execution_options(synchronize_session=False)
    )


async def lease_state(session: AsyncSession, name: str) -> LeaseState | None:
    """The lease as stored, or None if it was never taken."""
    row = await session.get(Lease, name)
    if row is None:
        return None
    return LeaseState(row.name, row.holder, row.acquired_at, row.expires_at)

"""Which process runs the annual cycle now, and the jobs it should be holding.

Read from the database alone (the lease and the rounds), so any process can answer,
including one that does not run the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.cycle import Cycle, timing_of
from scheduler.service import LEASE_NAME
from scheduler.timing import NextStep, next_step, round_steps
from services import lifecycle
from services.surveys import SurveyCatalog
from storage import leases
from storage.orm import Round


async def scheduler_status(
    sessions: async_sessionmaker[AsyncSession],
    catalog: SurveyCatalog,
    zone: ZoneInfo,
    clock: Callable[[], datetime],
) -> dict[str, Any]:
    """The lease's live holder (None: nobody, or a lease that ran out) and every job by time."""
    async with sessions() as session:
        lease = await leases.lease_state(session, LEASE_NAME)
    triggers = await Cycle(sessions, catalog, zone, clock).triggers()
    now = clock()
    live = lease is not None and lease.holder is not None and lease.expires_at > now
    return {
        "holder": lease.holder if live and lease else None,
        "expires_at": lease.expires_at.isoformat() if live and lease else None,
        "jobs": [
            {"id": t.job_id, "at": t.at.isoformat()} for t in sorted(triggers, key=lambda t: t.at)
        ],
    }


async def next_steps(session: AsyncSession, zone: ZoneInfo, now: datetime) -> dict[int, NextStep]:
    """The next automatic step of every round the cycle still has work for, by round id
    (one query): what the workspace's overview shows next to an open round."""
    rounds = await session.scalars(
        select(Round).where(
            or_(
                Round.status.in_(lifecycle.ACTIVE),
                (Round.status == "closed") & Round.closed_notices_at.is_(None),
            )
        )
    )
    steps = (next_step(timing_of(round_), now, zone) for round_ in rounds)
    return {step.round_id: step for step in steps if step is not None}


async def coming_steps(
    session: AsyncSession, zone: ZoneInfo, now: datetime, round_id: int
) -> list[NextStep]:
    """Every automatic step still to come for one round, in order (its page lists them)."""
    round_ = await session.get(Round, round_id)
    return round_steps(timing_of(round_), now, zone) if round_ is not None else []

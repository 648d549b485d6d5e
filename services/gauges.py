"""What ``/metrics`` reads from the database at scrape time: three grouped queries.

Every process sharing the database reports the same figures, so they describe the
installation, not the process: the outbox's backlog, the open rounds' responses, and who
holds the leases. Each query reads indexed columns or small tables only (the outbox by
``ix_outbox_due``'s status, never its sent rows one by one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.senders import PREFIX as SENDER_PREFIX
from storage.orm import Lease, OutboxMessage, Response, Round

# Outbox rows not delivered yet: waiting, claimed by a sender, or held while a round is paused.
UNDELIVERED = ("pending", "sending", "held")


@dataclass(frozen=True)
class OutboxDepth:
    kind: str
    priority: int
    status: str
    messages: int


@dataclass(frozen=True)
class RoundResponses:
    """An open round's responses: begun and not sent in (``started``), and sent in."""

    round_id: int
    started: int
    submitted: int


@dataclass(frozen=True)
class Gauges:
    outbox: list[OutboxDepth]
    rounds: list[RoundResponses]
    lease_holder: str | None  # who runs the scheduler now (None: nobody's lease is live)
    senders: int  # live sending processes (services/senders.py)


async def read_gauges(session: AsyncSession, *, lease_name: str, now: datetime) -> Gauges:
    """The installation's figures as they are now."""
    depth = await session.execute(
        select(
            OutboxMessage.kind,
            OutboxMessage.priority,
            OutboxMessage.status,
            func.count(),
        )
        .where(OutboxMessage.status.in_(UNDELIVERED))
        .group_by(OutboxMessage.kind, OutboxMessage.priority, OutboxMessage.status)
    )
    responses = await session.execute(
        select(Round.id, Response.status, func.count(Response.id))
        .outerjoin(Response, Response.round_id == Round.id)
        .where(Round.status == "open")
        .group_by(Round.id, Response.status)
    )
    rounds: dict[int, list[int]] = {}
    for round_id, status, count in responses:
        counts = rounds.setdefault(round_id, [0, 0])
        if status == "submitted":
            counts[1] += count
        elif status is not None:
            counts[0] += count
    live = await session.execute(
        select(Lease.name, Lease.holder).where(
            Lease.expires_at > now,
            Lease.holder.is_not(None),
            or_(Lease.name == lease_name, Lease.name.like(f"{SENDER_PREFIX}%")),
        )
    )
    holder = None
    senders = 0
    for name, who in live:
        if name == lease_name:
            holder = who
        else:
            senders += 1
    return Gauges(
        outbox=[OutboxDepth(k, p, s, n) for k, p, s, n in depth],
        rounds=[
            RoundResponses(r, started, submitted) for r, (started, submitted) in rounds.items()
        ],
        lease_holder=holder,
        senders=senders,
    )

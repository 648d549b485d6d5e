"""Publications as the doors list them, with how their delivery went, in two queries.

The delivery counts use the same rule per recipient as the full report
(``services.publications.recipient_outcome``), for several publications at once, so a
page listing them asks the outbox once rather than once per publication.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.publications import recipient_outcome
from storage.orm import OutboxMessage, Publication


@dataclass(frozen=True)
class DeliveryCounts:
    """Per recipient: ``recipients`` = queued + those with no chat when it was sent."""

    recipients: int
    delivered: int
    pending: int
    unreachable: int
    failed: int
    uncertain: int

    @property
    def done(self) -> bool:
        """Nothing is left to try."""
        return self.pending == 0


@dataclass(frozen=True)
class PublicationRow:
    """A draft or a sent publication; ``recipients`` is how many it was queued for when
    sent; ``delivery`` is None for a draft or when not asked for."""

    id: int
    kind: str  # summary | notice | broadcast
    title: str
    status: str  # draft | published
    round_id: int | None
    created_by: str
    created_at: datetime
    published_at: datetime | None
    published_by: str | None
    recipients: int
    delivery: DeliveryCounts | None


async def publication_rows(
    session: AsyncSession,
    *,
    published_only: bool = False,
    limit: int | None = None,
    with_delivery: bool = True,
) -> list[PublicationRow]:
    """Every publication oldest first; or, with ``published_only``, the sent ones newest
    first (``limit``: that many)."""
    statement = select(Publication)
    if published_only:
        statement = statement.where(Publication.status == "published").order_by(
            Publication.published_at.desc(), Publication.id.desc()
        )
    else:
        statement = statement.order_by(Publication.id)
    if limit is not None:
        statement = statement.limit(limit)
    publications = list(await session.scalars(statement))
    sent = [p for p in publications if p.status == "published"]
    delivery = await delivery_counts(session, sent) if with_delivery else {}
    return [
        PublicationRow(
            id=p.id, kind=p.kind, title=p.title, status=p.status, round_id=p.round_id,
            created_by=p.created_by, created_at=p.created_at, published_at=p.published_at,
            published_by=p.published_by, recipients=p.recipients, delivery=delivery.get(p.id),
        )
        for p in publications
    ]  # fmt: skip


async def delivery_counts(
    session: AsyncSession, publications: list[Publication]
) -> dict[int, DeliveryCounts]:
    """Delivery counts of several publications, from one query of their outbox rows."""
    if not publications:
        return {}
    parts: dict[tuple[int, int | None], list[tuple[str, str | None]]] = {}
    for publication_id, contact_id, status, error in await session.execute(
        select(
            OutboxMessage.publication_id, OutboxMessage.contact_id,
            OutboxMessage.status, OutboxMessage.last_error,
        ).where(OutboxMessage.publication_id.in_([p.id for p in publications]))
    ):  # fmt: skip
        assert publication_id is not None  # selected by it
        parts.setdefault((publication_id, contact_id), []).append((status, error))
    outcomes: dict[int, Counter[str]] = {p.id: Counter() for p in publications}
    for (publication_id, _), rows in parts.items():
        outcomes[publication_id][recipient_outcome(rows)] += 1
    counts = {}
    for p in publications:
        tally, unreached = outcomes[p.id], len(p.unreached or [])
        counts[p.id] = DeliveryCounts(
            recipients=sum(tally.values()) + unreached,
            delivered=tally["delivered"],
            pending=tally["pending"],
            unreachable=tally["unreachable"] + unreached,
            failed=tally["failed"],
            uncertain=tally["uncertain"],
        )
    return counts

"""Several senders on one database: each owns a share of the chats, and of the rate.

Every sending process keeps a short lease named ``sender:<holder>`` alive. The live
leases, sorted, give each sender an index ``i`` of ``n``; it sends only to chats whose
shard (``storage.outbox.shard_of``) is ``i`` modulo ``n``, at ``1/n`` of the overall
rate. So a chat is served by one process at a time (its order and its 1/s pace hold)
and the processes together stay within Telegram's overall limit. When a process comes
or goes, the shares move within one refresh; claims (``pending -> sending``) make sure a
message changing hands meanwhile is still sent once. A process that dies without
leaving holds its share until its lease expires (a few seconds): that is how long its
chats wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import leases
from storage.orm import Lease, utcnow

log = logging.getLogger(__name__)

PREFIX = "sender:"


class SenderMembership:
    """This process's place among the live senders."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        holder: str,
        *,
        ttl: float = 6.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.name = f"{PREFIX}{holder}"[:60]
        self.holder = holder
        self.ttl = timedelta(seconds=ttl)
        self._clock = clock

    async def refresh(self) -> tuple[int, int] | None:
        """Renew our lease and return (our index, live senders); None if the database fails."""
        now = self._clock()
        try:
            async with self._sessions() as session, session.begin():
                await leases.try_acquire(session, self.name, self.holder, now, self.ttl)
                names = list(
                    await session.scalars(
                        select(Lease.name)
                        .where(Lease.name.like(f"{PREFIX}%"), Lease.expires_at > now)
                        .order_by(Lease.name)
                    )
                )
        except SQLAlchemyError as error:
            log.error("senders: cannot renew membership (%s)", type(error).__name__)
            return None
        if self.name not in names:  # pragma: no cover - we just renewed it
            return None
        return names.index(self.name), len(names)

    async def leave(self) -> None:
        """Give our share back at once (clean shutdown)."""
        try:
            async with self._sessions() as session, session.begin():
                await leases.release(session, self.name, self.holder)
        except SQLAlchemyError as error:
            log.error("senders: cannot leave (%s)", type(error).__name__)

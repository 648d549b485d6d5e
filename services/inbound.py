"""Inbound events: recorded durably first, then processed one unit of work each.

Adapters translate platform updates into ``Inbound`` and call ``record``; only after
that commit do they acknowledge the platform. Processing then runs per chat in order
(chats in parallel): load, step, save state, answers and replies, mark processed — one
transaction. A crash at any point leaves either an unprocessed row (processed again on
start) or a fully processed one; a redelivered update hits the unique key (channel,
conversation, update id) and is a no-op.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from services.log_context import add_to_log_context, log_context
from services.telemetry import NO_TELEMETRY, Telemetry
from storage.orm import InboundEvent, utcnow
from storage.upsert import insert_ignoring_conflicts

log = logging.getLogger(__name__)

# Channels whose update keys are the platform's own sequence numbers (Telegram's
# update_id), so a chat's events can be handled in the platform's order.
SEQUENCED_CHANNELS = frozenset({"telegram"})
# How many earlier events one event may handle first (a bound, not an expectation).
MAX_EARLIER = 20

# Longer input is cut here; the engine then tells the member their text is too long.
MAX_INBOUND_TEXT = 20_000


class Inbound(BaseModel):
    """A channel-neutral inbound event: typed text, a button press, or something else."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    address: str
    user_id: str
    update_key: str
    kind: Literal["text", "press", "other"]
    text: str = ""
    payload: str = ""
    reference: dict[str, Any] | None = None  # a channel's conversation reference (Teams)
    # The language the chat app says the person reads (Telegram ``language_code``, Teams
    # ``locale``): only a hint, offered once on registration (services/language_choice).
    language_hint: str | None = None

    @field_validator("text")
    @classmethod
    def _cap_text(cls, value: str) -> str:
        return value[:MAX_INBOUND_TEXT]

    @field_validator("language_hint")
    @classmethod
    def _cap_hint(cls, value: str | None) -> str | None:
        return value.strip()[:20] or None if value else None

    @field_validator("payload")
    @classmethod
    def _cap_payload(cls, value: str) -> str:
        return value[:256]


Handler = Callable[[AsyncSession, Inbound, int], Awaitable[None]]


class InboundProcessor:
    """Records inbound events and processes them, in order per chat."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        handler: Handler,
        on_failure: Callable[[AsyncSession, Inbound, int], Awaitable[None]],
        after_commit: Callable[[], None],
        *,
        concurrency: int = 4,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._sessions = sessions
        self._telemetry = telemetry
        self._handler = handler
        self._on_failure = on_failure
        self._after_commit = after_commit
        self._limit = asyncio.Semaphore(concurrency)
        self._queues: dict[tuple[str, str], deque[tuple[int, Inbound]]] = {}
        self._workers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.processed = 0
        # Told (channel, address) of each event handed over: the typing indicator's cue.
        self.on_submitted: Callable[[str, str], None] = lambda channel, address: None

    async def record(self, events: Sequence[Inbound]) -> list[tuple[int, Inbound]]:
        """Store events (duplicates ignored) and commit; returns the new rows.

        Raises ``SQLAlchemyError`` if the database is unavailable: the caller must then
        not acknowledge the platform, so the update is delivered again.
        """
        if not events:
            return []
        now = utcnow()
        rows = [
            {
                "channel": event.channel,
                "update_key": event.update_key,
                "address": event.address,
                "payload": event.model_dump(mode="json"),
                "received_at": now,
            }
            for event in events
        ]
        async with self._sessions() as session, session.begin():
            inserted = await insert_ignoring_conflicts(
                session,
                InboundEvent.__table__,
                rows,
                ["channel", "address", "update_key"],
                returning=("id", "channel", "address", "update_key"),
            )
        by_key = {(event.channel, event.address, event.update_key): event for event in events}
        new = [
            (row_id, by_key[(channel, address, key)]) for row_id, channel, address, key in inserted
        ]
        for _, event in new:
            self._telemetry.inbound_recorded(event.channel, event.kind)
        return sorted(new, key=lambda item: item[0])

    def submit(self, rows: Sequence[tuple[int, Inbound]]) -> None:
        """Process recorded rows in the background, in order per chat."""
        for row_id, event in rows:
            chat = (event.channel, event.address)
            self._queues.setdefault(chat, deque()).append((row_id, event))
            if chat not in self._workers:
                self._workers[chat] = asyncio.create_task(self._work(chat))
            self.on_submitted(*chat)

    def pending(self, channel: str, address: str) -> bool:
        """Whether an event of this chat is still being handled (its reply not yet queued)."""
        return (channel, address) in self._queues

    async def idle(self) -> None:
        """Wait until everything submitted so far is processed."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def recover(self) -> int:
        """Submit rows left unprocessed by a crash or a database outage."""
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(InboundEvent)
                    .where(InboundEvent.processed_at.is_(None))
                    .order_by(InboundEvent.id)
                )
            ).all()
        pending = [
            (row.id, Inbound.model_validate(row.payload))
            for row in rows
            if not self._queued(row.id, row.channel, row.address)
        ]
        self.submit(pending)
        return len(pending)

    def _queued(self, row_id: int, channel: str, address: str) -> bool:
        return any(queued == row_id for queued, _ in self._queues.get((channel, address), ()))

    async def _work(self, chat: tuple[str, str]) -> None:
        queue = self._queues[chat]
        try:
            while queue:
                row_id, event = queue[0]
                async with self._limit:
                    await self.process(row_id, event)
                queue.popleft()
        finally:
            del self._workers[chat]
            if not queue:
                self._queues.pop(chat, None)

    async def process(self, row_id: int, event: Inbound | None = None) -> bool:
        """Process one recorded event; True if it is done (processed or given up on).

        ``event`` is the row's content when the caller has it (it was just recorded), which
        spares reading the row back. Everything logged meanwhile carries the event's id
        (and, once known, its channel, update, chat and contact: services/log_context).
        """
        if event is not None and event.channel in SEQUENCED_CHANNELS:
            await self._earlier_first(row_id, event)
        with log_context(event_id=row_id, fresh=True):
            return await self._process(row_id, event)

    async def _earlier_first(self, row_id: int, event: Inbound) -> None:
        """Handle the chat's unprocessed updates that come before this one, first.

        Telegram may deliver one chat's updates out of order: webhook connections run in
        parallel, and with several processes each takes some of them. Its update ids say
        the order. Whichever process gets a chat's later update first handles the earlier
        ones before it; a process that finds one of them taken waits for that transaction
        (PostgreSQL's row lock, SQLite's write lock) and then finds it done. An update that
        arrives only after a later one was handled is not held back for.
        """
        for _ in range(MAX_EARLIER):
            async with self._sessions() as session:
                earlier = await session.scalar(
                    _EARLIEST_UNPROCESSED,
                    {
                        "channel": event.channel,
                        "address": event.address,
                        "row_id": row_id,
                        "key_length": len(event.update_key),
                        "key": event.update_key,
                    },
                )
            if earlier is None or not await self.process(earlier):
                return

    async def _process(self, row_id: int, known: Inbound | None) -> bool:
        for attempt in range(5):
            try:
                async with self._sessions() as session, session.begin():
                    # Marked processed first, in the same transaction: the mark is what
                    # tells a second process (or a redelivery) that the event is taken,
                    # and on SQLite it takes the write lock before any reading starts.
                    claimed = await _claim(session, row_id, utcnow(), with_payload=known is None)
                    if claimed is None:
                        return True
                    received_at, payload = claimed
                    event = known or Inbound.model_validate(payload)
                    add_to_log_context(channel=event.channel, update_id=event.update_key)
                    await self._handler(session, event, row_id)
                self.processed += 1
                self._after_commit()
                self._handled(event.channel, received_at)
                return True
            except (IntegrityError, StaleDataError):
                # Another chat of the same organisation, or the scheduler closing the round,
                # changed the same rows; the retry sees what they did.
                log.warning("inbound %s: conflict, retrying", row_id)
            except SQLAlchemyError as error:
                log.error("inbound %s: database unavailable (%s)", row_id, type(error).__name__)
                await asyncio.sleep(min(0.2 * 2**attempt, 5.0))
            except Exception:
                log.exception("inbound %s: failed; marking it failed and apologising", row_id)
                await self._give_up(row_id)
                return True
        log.error("inbound %s: left for the recovery sweep", row_id)
        return False

    async def _give_up(self, row_id: int) -> None:
        try:
            async with self._sessions() as session, session.begin():
                row = await session.get(InboundEvent, row_id)
                if row is None or row.processed_at is not None:
                    return
                row.processed_at = utcnow()
                row.error = "handler failed; see log"
                await self._on_failure(session, Inbound.model_validate(row.payload), row_id)
            self._after_commit()
            self._handled(row.channel, row.received_at)
        except SQLAlchemyError:
            log.exception("inbound %s: could not mark as failed", row_id)

    def _handled(self, channel: str, received_at: datetime) -> None:
        """Tell the observer how long the event waited and took, from record to commit."""
        seconds = (utcnow() - received_at).total_seconds()
        self._telemetry.inbound_handled(channel, max(seconds, 0.0))


def _earliest_unprocessed_statement() -> Select[int]:
    """A chat's first unprocessed event with a smaller update id than a given one (update
    ids compared as numbers: shorter is smaller, then digit by digit). Built once."""
    length = func.length(InboundEvent.update_key)
    return (
        select(InboundEvent.id)
        .where(
            InboundEvent.channel == bindparam("channel"),
            InboundEvent.address == bindparam("address"),
            InboundEvent.processed_at.is_(None),
            InboundEvent.id != bindparam("row_id"),
            or_(
                length < bindparam("key_length"),
                and_(length == bindparam("key_length"), InboundEvent.update_key < bindparam("key")),
            ),
        )
        .order_by(length, InboundEvent.update_key)
        .limit(1)
    )


_EARLIEST_UNPROCESSED = _earliest_unprocessed_statement()


def _claim_statement(with_payload: bool) -> Any:
    """Mark an unprocessed event processed and return what processing needs. Built once."""
    columns: list[Any] = [InboundEvent.received_at]
    if with_payload:
        columns.append(InboundEvent.payload)
    return (
        update(InboundEvent)
        .where(InboundEvent.id == bindparam("row_id"), InboundEvent.processed_at.is_(None))
        .values(processed_at=bindparam("now"))
        .returning(*columns)
    )


_CLAIM = {False: _claim_statement(False), True: _claim_statement(True)}


async def _claim(
    session: AsyncSession, row_id: int, now: datetime, *, with_payload: bool
) -> tuple[datetime, dict[str, Any] | None] | None:
    """Mark an unprocessed event processed; its receipt time (and payload if asked), or
    None when it was processed already (or is gone)."""
    result = await session.execute(_CLAIM[with_payload], {"row_id": row_id, "now": now})
    row = result.first()
    if row is None:
        return None
    received_at = row[0]
    if received_at.tzinfo is None:  # SQLite hands back naive UTC
        received_at = received_at.replace(tzinfo=UTC)
    return received_at, (row[1] if with_payload else None)


async def sweep_forever(processor: InboundProcessor, interval: float = 30.0) -> None:
    """Periodically pick up rows that a database outage left unprocessed."""
    while True:
        await asyncio.sleep(interval)
        try:
            count = await processor.recover()
            if count:
                log.info("inbound: recovered %s unprocessed events", count)
        except SQLAlchemyError as error:
            log.error("inbound: recovery sweep failed (%s)", type(error).__name__)

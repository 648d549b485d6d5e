"""The delivery engine: drains the outbox through channel transports, paced.

One sender serves every kind of message. It keeps, in memory, a FIFO per chat
(loaded from the outbox in priority order) and sends at most one message per chat at
a time, so a chat's messages arrive in order. Pacing is two-level: a global minimum
interval (Telegram: about 30 messages/s per bot; Teams: per app and tenant, so each
tenant is a pace group of its own) and a token bucket per chat (about 1/s with short
bursts). A 429 pauses only the chat it was about; a blocked chat is marked
unreachable and its queue dropped.

A message is marked sent after the platform accepted it. A crash between the two
re-sends that one message on restart: platforms offer no idempotency key for sends,
so at-least-once is the best available; everything else is exactly once.

A send that got no answer after the request went out (a read timeout, a dropped
connection) may have arrived: the transport says ``DeliveryUncertain``. Such a message
is sent at most once more; if that copy's fate is unknown too, it is marked
``uncertain`` and reported, never sent again (docs/decisions/0012). So one ambiguous
timeout costs the member at most one extra copy, and no message arrives more than twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.messages import OutgoingMessage
from services.log_context import log_context
from services.senders import SenderMembership
from services.telemetry import NO_TELEMETRY, RetryReason, SendOutcome, Telemetry
from storage import outbox
from storage.orm import OutboxMessage

log = logging.getLogger(__name__)

MEMBERSHIP_SECONDS = 2.0  # how often a sender renews its share (its lease lives 3x that)
CLAIM_SETTLE_SECONDS = 30.0  # how often claims left by a crashed sender are looked for
# Chats' latest message ids kept in memory for edits (each entry ~200 bytes).
REMEMBERED_DELIVERIES = 20_000
FAIR_SHARE_EVERY = 5  # one send slot in five goes to the oldest message, so nothing starves


class DeliveryError(Exception):
    """Root of what a transport may raise; adapters translate platform errors into these."""


class RecipientUnreachable(DeliveryError):
    """The member blocked the bot or removed it (Telegram 403, Teams bot removed)."""


class RetryLater(DeliveryError):
    """The platform throttled this chat (429); try again after ``seconds``."""

    def __init__(self, seconds: float, reason: str = "throttled") -> None:
        super().__init__(reason)
        self.seconds = seconds


class TransientFailure(DeliveryError):
    """Network trouble or a 5xx: retry with backoff."""


class DeliveryUncertain(TransientFailure):
    """The request went out but no answer came back (read timeout, connection dropped):
    the platform may have delivered it. Retried once at most, then marked uncertain."""


class PermanentFailure(DeliveryError):
    """The platform refused the message itself (400): retrying will not help."""


class Transport(Protocol):
    """Sends one channel-neutral message to one chat on one channel.

    A transport whose platform limits the overall rate per part of the platform rather
    than per bot (Teams: per app *and tenant*) may also have
    ``async pace_groups(addresses) -> {address: group}``; the overall pace then applies
    per group, not per channel, and chats it leaves out share the channel's group.
    """

    channel: str

    async def deliver(self, address: str, message: OutgoingMessage, replace_id: str | None) -> str:
        """Send (or, with ``replace_id``, edit) and return the platform's message id."""
        ...


@dataclass
class Pacing:
    """Rates to respect; defaults follow Telegram's published guidance."""

    per_second: float = 29.5
    chat_per_second: float = 1.0
    chat_burst: int = 3
    max_attempts: int = 8
    max_backoff_seconds: float = 300.0


class CallWindow:
    """At most one call more than the pace *started* in any rolling second.

    The dispatcher paces when sends begin (29.5/s for Telegram's 30), but a send first
    claims its row in the database; a slow claim followed by fast ones would bunch calls
    together. This last check, right before the call, caps any one second at the pace
    plus one (30: Telegram's limit) and no more, so the steady cadence keeps its margin
    (30 calls span 1.017 s at 29.5/s) for network jitter, and bunching never exceeds the limit.
    """

    def __init__(self, per_second: float, monotonic: Callable[[], float]) -> None:
        self._per_second = per_second
        self._monotonic = monotonic
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self, share: int = 1) -> None:
        """Wait until one more call fits in this sender's share of the window, and count it."""
        limit = max(1, (int(self._per_second) + 1) // share)  # shares never add up to more
        async with self._lock:
            while True:
                now = self._monotonic()
                while self._starts and now - self._starts[0] >= 1.0:
                    self._starts.popleft()
                if len(self._starts) < limit:
                    self._starts.append(now)
                    return
                await asyncio.sleep(1.0 - (now - self._starts[0]) + 0.001)

    def try_take(self, share: int = 1) -> bool:
        """Count one call if it fits now and no one is waiting for room; never waits."""
        if self._lock.locked():
            return False
        limit = max(1, (int(self._per_second) + 1) // share)
        now = self._monotonic()
        while self._starts and now - self._starts[0] >= 1.0:
            self._starts.popleft()
        if len(self._starts) >= limit:
            return False
        self._starts.append(now)
        return True


@dataclass
class _ChatQueue:
    group: str  # whose overall pace this chat counts against (the channel, or a tenant)
    items: deque[OutboxMessage] = field(default_factory=deque)
    tokens: float = 0.0
    refilled_at: float = 0.0
    ready_at: float = 0.0
    busy: bool = False
    grouped: bool = True  # False: made by spare_call, its pace group not looked up yet

    def add(self, row: OutboxMessage) -> None:
        """Queue a message: higher priority first, then oldest first. A reply to a member
        in the middle of the survey goes before a broadcast waiting for the same chat
        (which waits its turn among thousands); replies keep their order among themselves.
        A message already in flight (the head while ``busy``) stays where it is."""
        items = self.items
        position = len(items)
        while position > (1 if self.busy else 0):
            before = items[position - 1]
            if (-before.priority, before.id) <= (-row.priority, row.id):
                break
            position -= 1
        items.insert(position, row)


class Sender:
    """Runs the outbox. ``wake()`` after enqueueing to send without waiting for the poll."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transports: Mapping[str, Transport],
        pacing: Pacing | Mapping[str, Pacing] | None = None,
        *,
        poll_interval: float = 1.0,
        batch_size: int = 500,
        monotonic: Callable[[], float] = time.monotonic,
        membership: SenderMembership | None = None,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._sessions = sessions
        self._telemetry = telemetry
        self._transports = dict(transports)
        if isinstance(pacing, Mapping):
            self._pacings = dict(pacing)
            self._pacing = next(iter(self._pacings.values()), Pacing())
        else:
            self._pacing = pacing or Pacing()
            self._pacings = {channel: self._pacing for channel in transports}
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._monotonic = monotonic
        self._queues: dict[tuple[str, str], _ChatQueue] = {}
        self._known: set[int] = set()
        # Ids finished recently: a load that started before their outcome was committed
        # may still see them as pending, and must not queue them again.
        self._finished: dict[int, float] = {}
        self._queued = 0
        self._slots = 0
        self._wake = asyncio.Event()
        # Per pace group (the channel, or a Teams tenant): each has its own overall limit.
        self._next_global: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._new_work = True
        self._pruned_at = 0.0
        self.delivered = 0
        self._membership = membership
        self._shard = (0, 1)  # (this sender's index, live senders)
        self._windows: dict[str, CallWindow] = {}
        self._only: frozenset[tuple[str, str]] | None = None
        # (channel, address, message key) → the platform's id of the latest message sent
        # with that key: what an edit replaces, without asking the database each time.
        # Only this sender sends to its chats, so it knows the latest one.
        self._delivered_ids: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        # Deliveries waiting for their shared commit (``_mark_sent``).
        self._deliveries: list[tuple[int, str, asyncio.Future[None]]] = []
        self._writing: asyncio.Task[None] | None = None

    def serve_only(self, chats: Set[tuple[str, str]]) -> None:
        """Send only to these (channel, address) chats from now on.

        A terminal session (``lyttepost chat``) is one member's chat: messages queued
        for anyone else, even on the console channel, stay pending for their own chat.
        """
        self._only = frozenset(chats)

    def wake(self) -> None:
        """New messages are in the outbox: look now."""
        self._new_work = True
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled.

        The outbox is read when something new was queued, or once per poll interval
        (other processes may queue too); a finished send only dispatches from memory.
        """
        last_load = -self._poll_interval
        last_settle = float("-inf")
        last_membership = float("-inf")
        while not self._stopping:
            self._wake.clear()  # before loading: a wake during the load must not be lost
            now = self._monotonic()
            if now - last_settle >= CLAIM_SETTLE_SECONDS:
                last_settle = now
                await self._release_stale_claims()
            if self._membership is not None and now - last_membership >= MEMBERSHIP_SECONDS:
                last_membership = now
                await self._refresh_membership()
            if self._new_work or now - last_load >= self._poll_interval:
                self._new_work = False
                last_load = now
                await self._load()
            delay = self._dispatch()
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation
            # that arrives as the wake fires, and the stopping process then hangs.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(delay, self._poll_interval)):
                    await self._wake.wait()

    async def _release_stale_claims(self) -> None:
        try:
            async with self._sessions() as session, session.begin():
                resent, interrupted = await outbox.release_stale_claims(session, datetime.now(UTC))
        except SQLAlchemyError as error:
            log.error("outbox: cannot settle stale claims (%s)", type(error).__name__)
            return
        if resent or interrupted:
            log.warning(
                "outbox: %s messages were mid-send when a sender stopped: %s sent again, "
                "%s invitations/reminders not repeated",
                resent + interrupted,
                resent,
                interrupted,
            )

    async def _refresh_membership(self) -> None:
        assert self._membership is not None
        shard = await self._membership.refresh()
        if shard is None or shard == self._shard:
            return
        log.info(
            "outbox: this sender is %s of %s; it sends to its share of the chats",
            shard[0] + 1,
            shard[1],
        )
        self._shard = shard
        self._delivered_ids.clear()  # chats changed hands: another sender may have sent since
        index, count = shard
        for queue in self._queues.values():
            if queue.busy:
                continue  # its message in flight finishes; the rest is dropped below
            for row in [r for r in queue.items if r.shard % count != index]:
                queue.items.remove(row)
                self._queued -= 1
                self._known.discard(row.id)

    async def stop(self) -> None:
        """Stop dispatching and let sends in flight finish (their outcome is recorded)."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._membership is not None:
            await self._membership.leave()

    async def drain(self, within: float = 30.0) -> None:
        """Send until nothing due is left (for the console channel and tests)."""
        deadline = self._monotonic() + within
        while self._monotonic() < deadline:
            await self._load()
            delay = self._dispatch()
            if not self._tasks and not any(q.items for q in self._queues.values()):
                return
            await asyncio.sleep(min(max(delay, 0.001), 0.05))
        raise TimeoutError("outbox not drained in time")

    async def _load(self) -> None:
        above_priority = None
        if self._queued >= self._batch_size:
            # Memory is full of bulk work: only look for something more urgent.
            above_priority = min(
                (q.items[-1].priority for q in self._queues.values() if q.items), default=None
            )
        now = self._monotonic()
        if now - self._pruned_at > 5:
            self._finished = {i: t for i, t in self._finished.items() if now - t < 60}
            self._pruned_at = now
        try:
            async with self._sessions() as session:
                rows = await outbox.pending(
                    session,
                    limit=self._batch_size,
                    channels=list(self._transports),
                    exclude=self._known | self._finished.keys(),
                    above_priority=above_priority,
                    shard=self._shard,
                    chats=self._only,
                )
        except SQLAlchemyError as error:
            log.error("outbox: cannot read pending messages (%s); retrying", type(error).__name__)
            return
        wall_now = datetime.now(UTC)
        new_chats: dict[str, list[str]] = {}
        for row in rows:
            self._known.add(row.id)
            self._queued += 1
            chat = (row.channel, row.address)
            queue = self._queues.get(chat)
            if queue is None or not queue.grouped:
                if queue is None:
                    queue = self._queues[chat] = self._new_queue(now, row.channel)
                queue.grouped = True
                new_chats.setdefault(row.channel, []).append(row.address)
            queue.add(row)
            if row.not_before > wall_now:
                wait = (row.not_before - wall_now).total_seconds()
                queue.ready_at = max(queue.ready_at, now + wait)
        for channel, addresses in new_chats.items():
            await self._assign_groups(channel, addresses)

    async def _assign_groups(self, channel: str, addresses: list[str]) -> None:
        """Put new chats in their pace groups (a Teams chat: its tenant's)."""
        lookup = getattr(self._transports[channel], "pace_groups", None)
        if lookup is None:
            return
        try:
            groups = await lookup(addresses)
        except SQLAlchemyError as error:  # the channel's own pace, stricter, until next time
            log.error("outbox: cannot read pace groups (%s)", type(error).__name__)
            return
        for address in addresses:
            queue = self._queues.get((channel, address))
            if queue is not None:
                queue.group = groups.get(address, channel)

    def _window(self, group: str, channel: str) -> CallWindow:
        window = self._windows.get(group)
        if window is None:
            window = CallWindow(self._pacing_of(channel).per_second, self._monotonic)
            self._windows[group] = window
        return window

    def _pacing_of(self, channel: str) -> Pacing:
        return self._pacings.get(channel, self._pacing)

    def _new_queue(self, now: float, channel: str) -> _ChatQueue:
        return _ChatQueue(
            group=channel, tokens=float(self._pacing_of(channel).chat_burst), refilled_at=now
        )

    def _refill(self, queue: _ChatQueue, now: float, pacing: Pacing) -> None:
        elapsed = now - queue.refilled_at
        queue.tokens = min(
            float(pacing.chat_burst), queue.tokens + elapsed * pacing.chat_per_second
        )
        queue.refilled_at = now

    def _dispatch(self) -> float:
        """Start every send that pacing allows now; return seconds until the next could."""
        now = self._monotonic()
        soonest = self._poll_interval
        candidates: list[tuple[int, int, tuple[str, str]]] = []
        for chat, queue in self._queues.items():
            if queue.busy or not queue.items:
                continue
            pacing = self._pacing_of(chat[0])
            self._refill(queue, now, pacing)
            token_wait = max(0.0, (1 - queue.tokens) / pacing.chat_per_second)
            ready = max(queue.ready_at, now + token_wait)
            if ready > now:
                soonest = min(soonest, ready - now)
                continue
            head = queue.items[0]
            candidates.append((-head.priority, head.id, chat))
        candidates.sort()
        if len(candidates) > 1 and self._slots % FAIR_SHARE_EVERY == FAIR_SHARE_EVERY - 1:
            # Strict priority would starve bulk work while dialogs use every slot: one
            # slot in FAIR_SHARE_EVERY goes to the oldest waiting message, whatever its priority.
            oldest = min(candidates, key=lambda c: c[1])
            candidates.remove(oldest)
            candidates.insert(0, oldest)
        blocked: set[str] = set()
        for _, _, chat in candidates:
            queue = self._queues[chat]
            group = queue.group
            if group in blocked:
                continue
            next_slot = self._next_global.get(group, 0.0)
            if next_slot > now:
                soonest = min(soonest, next_slot - now)
                blocked.add(group)  # later candidates of this group wait; others go on
                continue
            # Our share of the group's overall rate. A loop that woke a little late may
            # catch up a quarter slot, never a whole one: two sends back to back after an
            # idle moment are how a 31st call lands in a second.
            interval = self._shard[1] / self._pacing_of(chat[0]).per_second
            self._next_global[group] = max(next_slot, now - interval / 4) + interval
            self._slots += 1
            queue.tokens -= 1
            queue.busy = True
            row = queue.items[0]
            # The task copies the context: whatever the send logs names its message.
            with log_context(
                channel=chat[0],
                contact_id=row.contact_id,
                round_id=row.round_id,
                outbox_id=row.id,
                fresh=True,
            ):
                task = asyncio.create_task(self._send(chat, queue, row))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._forget_idle()
        return max(soonest, 0.0)

    def spare_call(self, channel: str, address: str) -> bool:
        """Room for one call that is not a message (a typing indicator), taken only where
        no message waits for it: the chat has nothing queued or in flight and its full
        burst in hand (the reply that follows still goes at once), and nothing of its pace
        group is waiting. True: the call is counted against the chat's and the group's
        pace and may be made now. See docs/decisions/0022."""
        if self._stopping or channel not in self._transports:
            return False
        now = self._monotonic()
        pacing = self._pacing_of(channel)
        chat = (channel, address)
        queue = self._queues.get(chat)
        if queue is None:
            queue = self._queues[chat] = self._new_queue(now, channel)
            queue.grouped = False  # the next load looks its group up
        if queue.busy or queue.items or queue.ready_at > now:
            return False
        self._refill(queue, now, pacing)
        if queue.tokens < pacing.chat_burst:
            return False
        group = queue.group
        if self._next_global.get(group, 0.0) > now or any(
            q.items and q.group == group for q in self._queues.values()
        ):
            return False
        if not self._window(group, channel).try_take(self._shard[1]):
            return False
        interval = self._shard[1] / pacing.per_second
        self._next_global[group] = now + interval
        queue.tokens -= 1
        return True

    def _forget_idle(self) -> None:
        if len(self._queues) <= 10_000:
            return
        idle = [chat for chat, q in self._queues.items() if not q.items and not q.busy]
        if idle:
            for chat in idle:
                del self._queues[chat]

    async def _send(self, chat: tuple[str, str], queue: _ChatQueue, row: OutboxMessage) -> None:
        channel, address = chat
        transport = self._transports[channel]
        message = OutgoingMessage.model_validate(row.payload)
        try:
            if row.round_id is not None or row.publication_id is not None or self._shard[1] > 1:
                claimed = await self._claim(row)
                if claimed is None:  # the database is unavailable: try again shortly
                    queue.ready_at = self._monotonic() + 5.0
                    return
                if not claimed:  # its round was paused, cancelled or closed meanwhile
                    self._finish(queue, row)
                    return
            try:
                replace_id = None
                if message.replaces:
                    replace_id = await self._replaced_id(channel, address, message.replaces)
                if message.edit_only and not replace_id:
                    # Nothing to edit (never delivered, or delivered before keys were
                    # kept): a new copy would only be a message to scroll past.
                    if message.key:
                        self._remember_delivery(channel, address, message.key, "")
                    await self._record(outbox.mark_sent, row.id, "")
                    self._finish(queue, row)
                    return
                await self._window(queue.group, channel).acquire(self._shard[1])
                provider_id = await transport.deliver(address, message, replace_id)
            except RetryLater as error:
                self._sent(channel, "429")
                await self._retry(queue, row, error.seconds, f"throttled: {error}", "throttled")
            except RecipientUnreachable as error:
                self._sent(channel, "403")
                await self._unreachable(chat, queue, str(error))
            except PermanentFailure as error:
                self._sent(channel, "error")
                log.warning("outbox %s: refused by %s: %s", row.id, channel, error)
                await self._record(outbox.mark_failed, [row.id], f"refused: {error}")
                self._finish(queue, row)
            except DeliveryUncertain as error:
                self._sent(channel, "error")
                await self._uncertain(queue, row, channel, str(error))
            except (TransientFailure, OSError, TimeoutError) as error:
                self._sent(channel, "error")
                await self._retry(
                    queue, row, self._backoff(row.attempts), f"transient: {error}", "transient"
                )
            except Exception as error:  # a transport bug must not kill the sender
                self._sent(channel, "error")
                log.exception("outbox %s: unexpected error from %s transport", row.id, channel)
                await self._retry(
                    queue,
                    row,
                    self._backoff(row.attempts),
                    f"error: {type(error).__name__}",
                    "error",
                )
            else:
                self._sent(channel, "ok")
                if message.key:
                    self._remember_delivery(channel, address, message.key, provider_id)
                await self._mark_sent(row.id, provider_id)
                self._finish(queue, row)
                self.delivered += 1
        finally:
            queue.busy = False
            self._wake.set()

    async def _mark_sent(self, row_id: int, provider_id: str) -> None:
        """Record a delivery, in one transaction with the others that finish meanwhile.

        Returns once it is committed, like ``_record``: sends that end in the same turn of
        the event loop share a commit (a few dozen during a broadcast) instead of paying
        for one each.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._deliveries.append((row_id, provider_id, done))
        if self._writing is None:
            self._writing = asyncio.create_task(self._write_deliveries())
        await done

    async def _write_deliveries(self) -> None:
        try:
            await asyncio.sleep(0)  # sends finishing in this turn of the loop join the batch
            while self._deliveries:
                batch, self._deliveries = self._deliveries, []
                sent = [(row_id, provider_id) for row_id, provider_id, _ in batch]

                async def record(session: AsyncSession, sent: list[tuple[int, str]] = sent) -> None:
                    await outbox.mark_all_sent(session, sent)

                try:
                    await self._transaction(record)
                except Exception as error:  # never leave a send waiting for its outcome
                    for _, _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                    continue
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)
        finally:
            self._writing = None

    async def _replaced_id(self, channel: str, address: str, key: str) -> str | None:
        remembered = self._delivered_ids.get((channel, address, key))
        if remembered is not None:
            self._delivered_ids.move_to_end((channel, address, key))
            return remembered
        async with self._sessions() as session:
            return await outbox.provider_id_for_key(session, channel, address, key)

    def _remember_delivery(self, channel: str, address: str, key: str, provider_id: str) -> None:
        self._delivered_ids[(channel, address, key)] = provider_id
        self._delivered_ids.move_to_end((channel, address, key))
        if len(self._delivered_ids) > REMEMBERED_DELIVERIES:
            self._delivered_ids.popitem(last=False)

    def _sent(self, channel: str, outcome: SendOutcome) -> None:
        self._telemetry.send_finished(channel, outcome)

    async def _claim(self, row: OutboxMessage) -> bool | None:
        """Claim a round's message; False if its round no longer wants it sent, None if the
        database cannot say."""
        try:
            async with self._sessions() as session, session.begin():
                if row.round_id is None and row.publication_id is None:
                    return await outbox.claim_plain(session, row.id, datetime.now(UTC))
                outcome = await outbox.claim(session, row.id, datetime.now(UTC))
        except SQLAlchemyError as error:
            log.error("outbox %s: cannot claim (%s)", row.id, type(error).__name__)
            return None
        return outcome == "claimed"

    def _backoff(self, attempts: int) -> float:
        return float(min(self._pacing.max_backoff_seconds, 2 ** min(attempts, 12)))

    async def _uncertain(
        self, queue: _ChatQueue, row: OutboxMessage, channel: str, error: str
    ) -> None:
        """No answer to a send that went out: one more copy, unless one already went."""
        if outbox.may_have_arrived(row):
            log.warning(
                "outbox %s: %s did not answer a send twice; marked uncertain, not sent again",
                row.id,
                channel,
            )
            await self._record(outbox.mark_uncertain, row.id, f"no answer twice: {error}")
            self._finish(queue, row)
            return
        log.info("outbox %s: no answer from %s (%s); sending it once more", row.id, channel, error)
        await self._retry(
            queue, row, self._backoff(row.attempts), error, "no_answer", uncertain=True
        )

    async def _retry(
        self,
        queue: _ChatQueue,
        row: OutboxMessage,
        seconds: float,
        error: str,
        reason: RetryReason,
        *,
        uncertain: bool = False,
    ) -> None:
        throttled = error.startswith("throttled")
        if uncertain or outbox.may_have_arrived(row):  # remembered across retries and restarts
            error = outbox.uncertain_error(error)
        row.attempts += 1
        row.last_error = error[:500]
        if row.attempts >= self._pacing.max_attempts and not throttled:
            log.warning("outbox %s: giving up after %s attempts (%s)", row.id, row.attempts, error)
            if outbox.may_have_arrived(row):
                await self._record(outbox.mark_uncertain, row.id, error)
            else:
                await self._record(outbox.mark_failed, [row.id], error)
            self._finish(queue, row)
            return
        self._telemetry.send_retried(row.channel, reason)
        queue.ready_at = self._monotonic() + seconds
        not_before = datetime.now(UTC) + timedelta(seconds=seconds)
        await self._record(outbox.mark_retry, row.id, not_before, error)

    async def _unreachable(self, chat: tuple[str, str], queue: _ChatQueue, error: str) -> None:
        channel, address = chat
        dropped = [item.id for item in queue.items]
        log.info(
            "outbox: %s chat is unreachable; dropping %s queued messages", channel, len(dropped)
        )

        async def record(session: AsyncSession) -> None:
            await outbox.mark_failed(session, dropped, f"unreachable: {error}")
            await outbox.mark_chat_unreachable(session, channel, address)

        await self._transaction(record)
        for item in list(queue.items):
            self._finish(queue, item)

    def _finish(self, queue: _ChatQueue, row: OutboxMessage) -> None:
        if queue.items and queue.items[0].id == row.id:
            queue.items.popleft()
        else:
            try:
                queue.items.remove(row)
            except ValueError:
                return
        self._queued -= 1
        self._known.discard(row.id)
        self._finished[row.id] = self._monotonic()

    async def _record(self, action: Callable[..., Awaitable[object]], *args: object) -> None:
        async def run(session: AsyncSession) -> None:
            await action(session, *args)

        await self._transaction(run)

    async def _transaction(self, work: Callable[[AsyncSession], Awaitable[object]]) -> None:
        """Record an outcome, retrying while the database is unavailable."""
        for attempt in range(20):
            try:
                async with self._sessions() as session, session.begin():
                    await work(session)
                return
            except SQLAlchemyError as error:
                log.error(
                    "outbox: cannot record a delivery outcome (%s), attempt %s",
                    type(error).__name__,
                    attempt + 1,
                )
                await asyncio.sleep(min(0.1 * 2**attempt, 5.0))
        log.critical("outbox: delivery outcome lost; the message may be sent again after restart")

"""The outbox: every outgoing message is a row here before it is sent.

Enqueueing happens in the same transaction as the state change that caused it, so a
crash can never lose a reply nor send one for a change that was rolled back.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.messages import OutgoingMessage, one_call_each
from storage.db import affected_rows
from storage.orm import Chat, OutboxMessage, Round, utcnow
from storage.upsert import insert_ignoring_conflicts

SHARDS = 1024  # chats are spread over this many shards; each sender owns some of them


def shard_of(channel: str, address: str) -> int:
    """The chat's shard: stable across processes and restarts (not Python's salted hash)."""
    return zlib.crc32(f"{channel}:{address}".encode()) % SHARDS


# Higher goes first: a member in a dialog never waits behind a broadcast.
PRIORITY_DIALOG = 100
PRIORITY_INVITATION = 50
PRIORITY_BULK = 10
# Answers to wrong invitation codes during a flood of them: after everything else.
PRIORITY_CODE_REFUSAL = 5


@dataclass(frozen=True)
class Recipient:
    """Where a message goes: a chat on a channel, and who is behind it if known."""

    channel: str
    address: str
    contact_id: int | None = None


async def enqueue(
    session: AsyncSession,
    recipient: Recipient,
    messages: Sequence[OutgoingMessage],
    *,
    kind: str,
    priority: int,
    dedupe_key: str | None = None,
    round_id: int | None = None,
    publication_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Queue messages for one recipient; returns how many rows were newly queued.

    Each message is stored as the parts that take one platform call each (long text
    split, every attachment on its own; see ``one_call_each``), so the sender's pacing
    counts every call.

    With ``dedupe_key`` each message gets ``f"{dedupe_key}:{index}"``, so enqueueing
    the same thing twice (a job that fires twice, a retried transaction) queues it once.
    ``now`` is when it is queued (the cycle passes its own, possibly simulated, clock).
    """
    return await enqueue_many(
        session,
        [(recipient, messages, dedupe_key)],
        kind=kind,
        priority=priority,
        round_id=round_id,
        publication_id=publication_id,
        now=now,
    )


async def enqueue_many(
    session: AsyncSession,
    deliveries: Sequence[tuple[Recipient, Sequence[OutgoingMessage], str | None]],
    *,
    kind: str,
    priority: int,
    round_id: int | None = None,
    publication_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """``enqueue`` for many recipients in one INSERT: (recipient, messages, dedupe key)
    each. On SQLite the write lock is then held for that one statement, not for the
    whole loop that rendered the messages (a broadcast to thousands took seconds)."""
    now = now or utcnow()
    plain: list[dict[str, object]] = []
    deduplicated: list[dict[str, object]] = []
    for recipient, messages, dedupe_key in deliveries:
        parts = [part for message in messages for part in one_call_each(message, recipient.channel)]
        rows = plain if dedupe_key is None else deduplicated
        rows.extend(
            {
                "channel": recipient.channel,
                "address": recipient.address,
                "contact_id": recipient.contact_id,
                "round_id": round_id,
                "publication_id": publication_id,
                "shard": shard_of(recipient.channel, recipient.address),
                "kind": kind,
                "priority": priority,
                "payload": message.model_dump(mode="json"),
                "message_key": message.key,
                "dedupe_key": f"{dedupe_key}:{index}" if dedupe_key else None,
                "status": "pending",
                "attempts": 0,
                "not_before": now,
                "created_at": now,
            }
            for index, message in enumerate(parts)
        )
    if plain:
        session.add_all(OutboxMessage(**row) for row in plain)
    inserted: list[object] = []
    if deduplicated:
        inserted = await insert_ignoring_conflicts(
            session, OutboxMessage.__table__, deduplicated, ["dedupe_key"], returning="id"
        )
    return len(plain) + len(inserted)


async def pending(
    session: AsyncSession,
    *,
    limit: int,
    channels: Sequence[str],
    exclude: set[int] | frozenset[int] | Set[int],
    above_priority: int | None = None,
    shard: tuple[int, int] | None = None,
    chats: Set[tuple[str, str]] | None = None,
) -> list[OutboxMessage]:
    """Undelivered messages, highest priority first, then oldest first.

    ``shard`` = (index, count): only chats whose shard falls to sender ``index`` of ``count``.
    ``chats``: only these (channel, address) chats; None means every chat on ``channels``.
    """
    # Ids first, from the index: the sender already holds most pending rows in memory
    # (``exclude``), and building ORM objects for them again on every look cost more
    # than everything else a look does. Full rows are read for the new ones only.
    statement = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "pending", OutboxMessage.channel.in_(channels))
        .order_by(OutboxMessage.priority.desc(), OutboxMessage.id)
        .limit(limit + len(exclude))
    )
    if above_priority is not None:
        statement = statement.where(OutboxMessage.priority > above_priority)
    if shard is not None and shard[1] > 1:
        statement = statement.where(OutboxMessage.shard % shard[1] == shard[0])
    if chats is not None:
        statement = statement.where(
            or_(
                false(),  # no chats: nothing
                *(
                    and_(OutboxMessage.channel == channel, OutboxMessage.address == address)
                    for channel, address in sorted(chats)
                ),
            )
        )
    ids = [row_id for row_id in await session.scalars(statement) if row_id not in exclude]
    if not ids:
        return []
    rows = await session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.id.in_(ids[:limit]), OutboxMessage.status == "pending"
        )
    )
    return sorted(rows, key=lambda row: (-row.priority, row.id))


async def mark_sent(session: AsyncSession, message_id: int, provider_message_id: str) -> None:
    """Record a delivery."""
    await mark_all_sent(session, [(message_id, provider_message_id)])


async def mark_all_sent(session: AsyncSession, deliveries: Sequence[tuple[int, str]]) -> None:
    """Record deliveries, (message id, provider's id) each, in one statement."""
    if not deliveries:
        return
    now = utcnow()
    await session.execute(
        _MARK_SENT,
        [
            {"delivered_id": row_id, "delivered_as": provider_id, "delivered_at": now}
            for row_id, provider_id in deliveries
        ],
    )


def _mark_sent_statement() -> Any:
    """Built once: statements are immutable, and building one costs more than running it."""
    table = OutboxMessage.__table__
    assert isinstance(table, Table)  # a mapped class's table, typed as any FromClause
    return (
        update(table)
        .where(table.c.id == bindparam("delivered_id"))
        .values(
            status="sent",
            sent_at=bindparam("delivered_at"),
            provider_message_id=bindparam("delivered_as"),
            attempts=table.c.attempts + 1,
        )
    )


_MARK_SENT = _mark_sent_statement()


async def mark_retry(
    session: AsyncSession, message_id: int, not_before: datetime, error: str
) -> None:
    """Keep a message pending until ``not_before`` (a claimed one is unclaimed)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            status="pending",
            not_before=not_before,
            last_error=error[:500],
            attempts=OutboxMessage.attempts + 1,
        )
    )


# ``last_error`` of a message whose send went out unanswered once: it is sent at most
# once more (see services/delivery.py), even across restarts.
MAY_HAVE_ARRIVED = "may have arrived:"


def may_have_arrived(row: OutboxMessage) -> bool:
    """Whether an earlier attempt went out without an answer (it may be in the chat)."""
    return (row.last_error or "").startswith(MAY_HAVE_ARRIVED)


def uncertain_error(error: str) -> str:
    """``error`` as ``last_error`` of a message that may have arrived already."""
    return error if error.startswith(MAY_HAVE_ARRIVED) else f"{MAY_HAVE_ARRIVED} {error}"


async def mark_uncertain(session: AsyncSession, message_id: int, error: str) -> None:
    """Give up on a message that may or may not have arrived: reported, never re-sent."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="uncertain", last_error=error[:500], attempts=OutboxMessage.attempts + 1)
    )


async def mark_failed(session: AsyncSession, message_ids: Sequence[int], error: str) -> None:
    """Give up on messages (permanent error, or the recipient is unreachable)."""
    if not message_ids:
        return
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(message_ids)))
        .values(status="failed", last_error=error[:500], attempts=OutboxMessage.attempts + 1)
    )


async def move_round_messages(
    session: AsyncSession, round_id: int, from_statuses: Sequence[str], to_status: str
) -> int:
    """Hold, release or withdraw a round's undelivered messages; returns how many moved.

    A paused round's pending messages are ``held``, released back to ``pending`` on
    resume, and ``cancelled`` when the round is cancelled or closes first.
    """
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.round_id == round_id, OutboxMessage.status.in_(list(from_statuses)))
        .values(status=to_status)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result)


# A round's outreach goes out only while its round is open and not paused; the notices
# that a round closed or was cancelled go out whatever the round's state.
OUTREACH_KINDS = ("invitation", "reminder", "deadline_changed")
# Bulk messages a crash mid-send must never repeat (see ``release_stale_claims``).
NOT_REPEATED_KINDS = (*OUTREACH_KINDS, "summary", "notice", "broadcast")
# Beyond any one send's HTTP timeouts (TELEGRAM_SEND_TIMEOUT_SECONDS is at most 180 s,
# plus connecting and writing), so a send still in flight is never taken for a crash.
CLAIM_TIMEOUT = timedelta(minutes=5)


async def claim(session: AsyncSession, message_id: int, now: datetime) -> str:
    """Take a round's or a publication's message for sending; returns ``claimed`` or the
    status it has instead.

    A claimed row is ``sending``, which pausing, closing and cancelling leave alone: a
    message either goes out (and counts as delivered, so a cancellation notice follows
    it) or is held or withdrawn, never both. Every change is one conditional UPDATE on
    ``status = 'pending'``, so a cancel that commits in between always wins or loses
    cleanly, on SQLite (no row locks) as on PostgreSQL.
    """
    row = await session.get(OutboxMessage, message_id, populate_existing=True)
    if row is None:
        return "missing"
    if row.status != "pending":
        return row.status
    outcome = "sending"
    if row.kind in OUTREACH_KINDS and row.round_id is not None:
        round_ = await session.get(Round, row.round_id)
        if round_ is not None and round_.status in ("closed", "cancelled"):
            outcome = "cancelled"
        elif round_ is not None and round_.paused_at is not None:
            outcome = "held"
    values: dict[str, object] = {"status": outcome}
    if outcome == "sending":
        values["not_before"] = now
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(result) != 1:
        return "taken"  # changed meanwhile (cancelled, or claimed by another sender)
    return "claimed" if outcome == "sending" else outcome


async def claim_plain(session: AsyncSession, message_id: int, now: datetime) -> bool:
    """Claim a message that no round or publication rules (several senders at once):
    one conditional UPDATE, so exactly one sender wins it."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
        .values(status="sending", not_before=now)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result) == 1


async def release_stale_claims(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """Settle claims left by a crash mid-send; returns (sent again, given up).

    Nobody can tell whether such a message reached the platform (no idempotency key).
    A notice about a round goes back to pending: better twice than never (docs/decisions/
    0002). Bulk messages (invitations, reminders, summaries, broadcasts) are marked
    ``interrupted`` instead and not sent again: nobody gets the same broadcast twice, and
    the delivery report lists them as uncertain.
    """
    stale = (OutboxMessage.status == "sending", OutboxMessage.not_before < now - CLAIM_TIMEOUT)
    interrupted = await session.execute(
        update(OutboxMessage)
        .where(*stale, OutboxMessage.kind.in_(NOT_REPEATED_KINDS))
        .values(status="interrupted", last_error="interrupted mid-send; not sent again")
        .execution_options(synchronize_session=False)
    )
    resent = await session.execute(
        update(OutboxMessage)
        .where(*stale)
        .values(status="pending")
        .execution_options(synchronize_session=False)
    )
    return affected_rows(resent), affected_rows(interrupted)


async def mark_chat_unreachable(session: AsyncSession, channel: str, address: str) -> None:
    """The member blocked the bot or removed it: stop trying until they write again."""
    await session.execute(
        update(Chat)
        .where(Chat.channel == channel, Chat.address == address)
        .values(unreachable_at=utcnow())
    )


async def forget_chat(session: AsyncSession, channel: str, address: str) -> bool:
    """The member removed the app: forget how to reach them, not only that we cannot.

    The stored conversation reference (with the member's name, Entra ids and tenant) and
    user id are deleted and the address replaced by a placeholder, so nothing in the chat
    row can reach or identify them; it stays bound to its contact as a record that they
    used this channel. Messages still queued there fail as unreachable. If they install
    the app again, they register anew with a code. Returns whether there was such a chat.
    """
    chat = await session.scalar(
        select(Chat).where(Chat.channel == channel, Chat.address == address)
    )
    if chat is None:
        return False
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.status.in_(["pending", "held"]),
        )
        .values(status="failed", last_error="unreachable: the app was removed")
        .execution_options(synchronize_session=False)
    )
    chat.address = f"removed:{chat.id}"
    chat.conversation_ref = None
    chat.user_id = None
    chat.awaiting_code = False
    chat.active_response_id = None
    chat.unreachable_at = utcnow()
    return True


async def provider_id_for_key(
    session: AsyncSession, channel: str, address: str, key: str
) -> str | None:
    """The platform's id of the latest delivered message with this key in this chat."""
    statement = (
        select(OutboxMessage.provider_message_id)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.message_key == key,
            OutboxMessage.status == "sent",
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()

"""Several senders on one database (SQLite and PostgreSQL): each chat served by one of them,
every message sent once and in order, and the overall pace shared, not multiplied."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from sqlalchemy import func, select

from dialogs.messages import OutgoingMessage
from services.delivery import Pacing, Sender
from services.senders import SenderMembership
from storage import outbox
from storage.orm import OutboxMessage
from tests.test_delivery import RecordingTransport

RATE = 40.0


async def queue_many(sessions, chats: int, per_chat: int) -> None:
    async with sessions() as session, session.begin():
        for chat in range(chats):
            await outbox.enqueue(
                session, outbox.Recipient("telegram", f"c{chat}"),
                [OutgoingMessage(text=f"c{chat}-{n}") for n in range(per_chat)],
                kind="broadcast", priority=outbox.PRIORITY_BULK,
            )  # fmt: skip


async def pending_count(sessions) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).where(OutboxMessage.status.in_(["pending", "sending"]))
            )
        )


async def test_two_senders_share_the_chats_and_the_rate(sessions) -> None:
    transports = {"a": RecordingTransport(), "b": RecordingTransport()}
    senders = {
        name: Sender(
            sessions,
            {"telegram": transport},
            Pacing(per_second=RATE),
            poll_interval=0.05,
            membership=SenderMembership(sessions, f"test-{name}"),
        )  # fmt: skip
        for name, transport in transports.items()
    }
    # Both are members before any message exists, as two running processes would be.
    for sender in senders.values():
        await sender._refresh_membership()  # noqa: SLF001
    await queue_many(sessions, chats=60, per_chat=3)
    started = time.monotonic()
    tasks = [asyncio.create_task(sender.run()) for sender in senders.values()]
    for _ in range(600):
        if await pending_count(sessions) == 0:
            break
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    for sender in senders.values():
        await sender.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    served_by: dict[str, set[str]] = defaultdict(set)
    texts: dict[str, list[str]] = defaultdict(list)
    times: list[float] = []
    for name, transport in transports.items():
        for address, text, at in transport.sent:
            served_by[address].add(name)
            texts[address].append(text)
            times.append(at)
    assert sum(len(t.sent) for t in transports.values()) == 180, "each message once"
    assert all(len(names) == 1 for names in served_by.values()), "a chat has one sender"
    assert all(texts[f"c{c}"] == [f"c{c}-{n}" for n in range(3)] for c in range(60)), "in order"
    assert min(len(t.sent) for t in transports.values()) > 30, "both take part"
    times.sort()
    most_in_a_second = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert most_in_a_second <= RATE + 1, "together within the overall rate"
    assert elapsed >= 180 / RATE - 1.5, "not twice the rate"


async def test_a_sender_that_leaves_hands_its_chats_over(sessions) -> None:
    first = SenderMembership(sessions, "one")
    second = SenderMembership(sessions, "two")
    assert await first.refresh() == (0, 1)
    assert await second.refresh() == (1, 2)
    assert await first.refresh() == (0, 2)
    await second.leave()
    assert await first.refresh() == (0, 1)

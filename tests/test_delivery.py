"""The outbox sender: ordering, pacing, throttling, blocked chats, idempotent enqueue.

Runs on SQLite and PostgreSQL (the ``sessions`` fixture) with a recording transport.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from dialogs.messages import OutgoingMessage
from services.delivery import (
    DeliveryUncertain,
    Pacing,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
    Sender,
    TransientFailure,
)
from storage import outbox
from storage.orm import Chat, OutboxMessage


@dataclass
class RecordingTransport:
    """Records deliveries; scripted failures per (address, nth attempt)."""

    channel: str = "telegram"
    sent: list[tuple[str, str, float]] = field(default_factory=list)
    edits: list[tuple[str, str, str]] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    calls: int = 0

    async def deliver(self, address: str, message: OutgoingMessage, replace_id: str | None) -> str:
        self.calls += 1
        scripted = self.failures.get(address)
        if scripted:
            raise scripted.pop(0)
        if replace_id is not None:
            self.edits.append((address, message.text, replace_id))
            return replace_id
        self.sent.append((address, message.text, time.monotonic()))
        return str(len(self.sent))


async def queue(
    sessions,
    address: str,
    texts: list[str],
    *,
    priority: int = 10,
    kind: str = "dialog",
    dedupe: str | None = None,
) -> int:
    async with sessions() as session, session.begin():
        return await outbox.enqueue(
            session,
            outbox.Recipient("telegram", address),
            [OutgoingMessage(text=t) for t in texts],
            kind=kind,
            priority=priority,
            dedupe_key=dedupe,
        )


async def statuses(sessions) -> dict[str, int]:
    async with sessions() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


async def test_messages_to_one_chat_arrive_in_order_and_are_marked_sent(sessions) -> None:
    transport = RecordingTransport()
    await queue(sessions, "1", [f"m{i}" for i in range(5)])
    sender = Sender(
        sessions,
        {"telegram": transport},
        Pacing(per_second=1000, chat_per_second=1000, chat_burst=10),
    )
    await sender.drain(within=10)
    assert [text for _, text, _ in transport.sent] == ["m0", "m1", "m2", "m3", "m4"]
    assert await statuses(sessions) == {"sent": 5}


async def test_enqueue_with_the_same_dedupe_key_queues_once(sessions) -> None:
    assert await queue(sessions, "1", ["hello"], dedupe="invitation:1:1") == 1
    assert await queue(sessions, "1", ["hello"], dedupe="invitation:1:1") == 0
    assert await statuses(sessions) == {"pending": 1}


async def test_per_chat_pacing_allows_a_burst_then_one_per_second(sessions) -> None:
    transport = RecordingTransport()
    await queue(sessions, "1", [f"m{i}" for i in range(5)])
    sender = Sender(
        sessions, {"telegram": transport}, Pacing(per_second=1000, chat_per_second=4, chat_burst=2)
    )
    await sender.drain(within=10)
    times = [t for _, _, t in transport.sent]
    # Two at once, then one every 1/4 s: the 5th at least 0.75 s after the first.
    assert times[4] - times[0] >= 0.7
    assert times[1] - times[0] < 0.2


async def test_global_pace_is_respected_across_chats(sessions) -> None:
    transport = RecordingTransport()
    for chat in range(20):
        await queue(sessions, str(chat), ["hi"])
    sender = Sender(
        sessions, {"telegram": transport}, Pacing(per_second=20, chat_per_second=1, chat_burst=1)
    )
    started = time.monotonic()
    await sender.drain(within=10)
    assert len(transport.sent) == 20
    assert time.monotonic() - started >= 0.9  # 20 messages at 20/s take about a second
    times = sorted(t for _, _, t in transport.sent)
    # In any window of 0.5 s there are at most 11 sends (10 + one on the boundary).
    assert max(sum(1 for t in times if s <= t < s + 0.5) for s in times) <= 11


async def test_higher_priority_goes_first(sessions) -> None:
    transport = RecordingTransport()
    for chat in range(10):
        await queue(sessions, f"bulk{chat}", ["bulk"], priority=outbox.PRIORITY_BULK)
    await queue(sessions, "member", ["reply"], priority=outbox.PRIORITY_DIALOG)
    sender = Sender(
        sessions, {"telegram": transport}, Pacing(per_second=1000, chat_per_second=10, chat_burst=1)
    )
    await sender.drain(within=10)
    assert transport.sent[0][1] == "reply"


async def test_a_reply_to_a_member_goes_before_a_broadcast_waiting_for_the_same_chat(
    sessions,
) -> None:
    """The member is also one of many broadcast recipients: their chat's broadcast waits
    its turn behind the others' (a slow overall pace), but their survey replies, queued
    later, do not wait behind it; the replies keep their own order."""
    transport = RecordingTransport()
    for chat in range(6):
        await queue(sessions, f"bulk{chat}", ["broadcast"], priority=outbox.PRIORITY_BULK)
    await queue(sessions, "member", ["broadcast"], priority=outbox.PRIORITY_BULK)
    sender = Sender(
        sessions, {"telegram": transport}, Pacing(per_second=4, chat_per_second=10, chat_burst=3)
    )
    await sender._load()  # the broadcast is in memory, the member's copy last in line
    await queue(sessions, "member", ["reply 1", "reply 2"], priority=outbox.PRIORITY_DIALOG)
    await sender.drain(within=10)
    member = [text for address, text, _ in transport.sent if address == "member"]
    assert member == ["reply 1", "reply 2", "broadcast"]
    assert transport.sent[0][:2] == ("member", "reply 1")


async def test_throttled_chat_waits_without_stalling_others_and_keeps_order(sessions) -> None:
    transport = RecordingTransport(failures={"slow": [RetryLater(0.5)]})
    await queue(sessions, "slow", ["s1", "s2"])
    await queue(sessions, "fast", ["f1", "f2"])
    sender = Sender(
        sessions,
        {"telegram": transport},
        Pacing(per_second=1000, chat_per_second=100, chat_burst=5),
    )
    started = time.monotonic()
    await sender.drain(within=10)
    by_chat = {}
    for address, text, moment in transport.sent:
        by_chat.setdefault(address, []).append((text, moment - started))
    assert [t for t, _ in by_chat["slow"]] == ["s1", "s2"]
    assert by_chat["slow"][0][1] >= 0.45
    assert by_chat["fast"][-1][1] < 0.3  # not held up by the throttled chat


async def test_blocked_chat_is_marked_unreachable_and_its_queue_dropped(sessions) -> None:
    async with sessions() as session, session.begin():
        session.add(Chat(channel="telegram", address="blocked"))
    transport = RecordingTransport(
        failures={"blocked": [RecipientUnreachable("Forbidden: bot was blocked by the user")]}
    )
    await queue(sessions, "blocked", ["a", "b", "c"])
    await queue(sessions, "ok", ["d"])
    sender = Sender(
        sessions,
        {"telegram": transport},
        Pacing(per_second=1000, chat_per_second=100, chat_burst=5),
    )
    await sender.drain(within=10)
    assert [text for _, text, _ in transport.sent] == ["d"]
    assert await statuses(sessions) == {"failed": 3, "sent": 1}
    async with sessions() as session:
        chat = await session.scalar(select(Chat).where(Chat.address == "blocked"))
    assert chat is not None and chat.unreachable_at is not None


async def test_permanent_failure_is_recorded_and_the_queue_moves_on(sessions) -> None:
    transport = RecordingTransport(
        failures={"1": [PermanentFailure("Bad Request: message is too long")]}
    )
    await queue(sessions, "1", ["bad", "good"])
    sender = Sender(
        sessions,
        {"telegram": transport},
        Pacing(per_second=1000, chat_per_second=100, chat_burst=5),
    )
    await sender.drain(within=10)
    assert [text for _, text, _ in transport.sent] == ["good"]
    async with sessions() as session:
        failed = await session.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
    assert failed is not None and "too long" in (failed.last_error or "")


async def test_transient_failure_is_retried(sessions) -> None:
    transport = RecordingTransport(failures={"1": [TransientFailure("connection reset")]})
    await queue(sessions, "1", ["again"])
    sender = Sender(
        sessions,
        {"telegram": transport},
        Pacing(per_second=1000, chat_per_second=100, chat_burst=5, max_backoff_seconds=0.2),
    )
    await sender.drain(within=10)
    assert [text for _, text, _ in transport.sent] == ["again"]
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.attempts == 2 and row.status == "sent"


async def test_a_replacing_message_edits_the_delivered_one(sessions) -> None:
    transport = RecordingTransport()
    async with sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            outbox.Recipient("telegram", "1"),
            [OutgoingMessage(text="q", key="q:x")],
            kind="dialog",
            priority=10,
        )
    sender = Sender(
        sessions,
        {"telegram": transport},
        Pacing(per_second=1000, chat_per_second=100, chat_burst=5),
    )
    await sender.drain(within=10)
    async with sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            outbox.Recipient("telegram", "1"),
            [OutgoingMessage(text="q ☑", key="q:x", replaces="q:x")],
            kind="dialog",
            priority=10,
        )
    await sender.drain(within=10)
    assert transport.edits == [("1", "q ☑", "1")]


async def test_an_edit_only_message_edits_or_is_dropped_never_sent_anew(sessions) -> None:
    transport = RecordingTransport()
    sender = Sender(
        sessions,
        {"telegram": transport},
        Pacing(per_second=1000, chat_per_second=100, chat_burst=5),
    )
    answered = OutgoingMessage(text="q\n\n✓ Svar: Ja", replaces="q:x", edit_only=True)
    async with sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            outbox.Recipient("telegram", "1"),
            [answered, OutgoingMessage(text="next", key="q:y")],
            kind="dialog",
            priority=10,
        )
    await sender.drain(within=10)
    # The question was never delivered here: the edit is dropped, not sent as a copy.
    assert [text for _, text, _ in transport.sent] == ["next"] and transport.edits == []
    assert transport.calls == 1 and await statuses(sessions) == {"sent": 2}
    async with sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            outbox.Recipient("telegram", "1"),
            [answered.model_copy(update={"replaces": "q:y"})],
            kind="dialog",
            priority=10,
        )
    await sender.drain(within=10)
    assert transport.edits == [("1", "q\n\n✓ Svar: Ja", "1")]
    assert [text for _, text, _ in transport.sent] == ["next"]


async def test_pending_messages_survive_a_new_sender(sessions) -> None:
    """A restart: a new sender picks up what the old one never sent."""
    await queue(sessions, "1", ["a", "b"])
    first = RecordingTransport(failures={"1": [TransientFailure("down")]})
    sender = Sender(
        sessions, {"telegram": first}, Pacing(per_second=1000, chat_per_second=100, chat_burst=5)
    )
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(0.2)
    task.cancel()
    await sender.stop()
    second = RecordingTransport()
    await Sender(
        sessions,
        {"telegram": second},
        Pacing(per_second=1000, chat_per_second=100, chat_burst=5, max_backoff_seconds=0),
    ).drain(within=10)
    assert [text for _, text, _ in second.sent] == ["a", "b"]


async def test_bulk_messages_are_not_starved_by_a_steady_stream_of_dialog_replies(sessions) -> None:
    transport = RecordingTransport()
    await queue(sessions, "bulk", ["bulk"], priority=outbox.PRIORITY_BULK)
    for chat in range(30):
        await queue(sessions, f"member{chat}", ["reply"], priority=outbox.PRIORITY_DIALOG)
    sender = Sender(
        sessions,
        {"telegram": transport},
        Pacing(per_second=1000, chat_per_second=100, chat_burst=5),
    )
    await sender.drain(within=10)
    order = [address for address, _, _ in transport.sent]
    assert order.index("bulk") < 5  # within the first fair-share slot, not after all 30 replies


async def test_claims_left_by_a_crash_are_settled_without_repeating_invitations(sessions) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        for kind in ("invitation", "reminder", "round_closed"):
            await outbox.enqueue(
                session, outbox.Recipient("telegram", kind), [OutgoingMessage(text=kind)],
                kind=kind, priority=50,
            )  # fmt: skip
        await outbox.enqueue(
            session, outbox.Recipient("telegram", "fresh"), [OutgoingMessage(text="x")],
            kind="invitation", priority=50,
        )  # fmt: skip
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        for row in rows:
            row.status = "sending"
            row.not_before = now - (
                timedelta(seconds=5) if row.address == "fresh" else timedelta(minutes=10)
            )
    async with sessions() as session, session.begin():
        assert await outbox.release_stale_claims(session, now) == (1, 2)
    async with sessions() as session:
        states = {r.address: r.status for r in await session.scalars(select(OutboxMessage))}
    assert states == {
        "invitation": "interrupted", "reminder": "interrupted",
        "round_closed": "pending", "fresh": "sending",  # another sender may still be on it
    }  # fmt: skip


async def outbox_rows(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


FAST_RETRIES = Pacing(per_second=1000, chat_per_second=100, chat_burst=5, max_backoff_seconds=0.01)


async def test_a_send_without_an_answer_goes_once_more_then_is_marked_uncertain(sessions) -> None:
    """Each unanswered send may be in the chat: at most one more copy, never a third."""
    no_answer = [DeliveryUncertain("sent, no answer (ReadTimeout)") for _ in range(2)]
    transport = RecordingTransport(failures={"1": no_answer})
    await queue(sessions, "1", ["svar"], priority=outbox.PRIORITY_DIALOG)
    await queue(sessions, "1", ["neste"], priority=outbox.PRIORITY_DIALOG)
    await Sender(sessions, {"telegram": transport}, FAST_RETRIES).drain(within=10)
    assert transport.calls == 2 + 1  # two tries of "svar", then "neste" gets through
    first, second = await outbox_rows(sessions)
    assert first.status == "uncertain" and "no answer" in (first.last_error or "")
    assert second.status == "sent" and [text for _, text, _ in transport.sent] == ["neste"]


async def test_nothing_sent_is_retried_as_before_but_the_extra_copy_is_remembered(sessions) -> None:
    """Connect errors (nothing went out) keep the usual retries; an unanswered send before
    them still counts, so a second unanswered send ends it."""
    connect = [TransientFailure("httpx.ConnectError") for _ in range(3)]
    transport = RecordingTransport(
        failures={"1": [DeliveryUncertain("no answer"), *connect, DeliveryUncertain("no answer")]}
    )
    await queue(sessions, "1", ["svar"])
    await Sender(sessions, {"telegram": transport}, FAST_RETRIES).drain(within=10)
    assert transport.calls == 5 and transport.sent == []
    assert [row.status for row in await outbox_rows(sessions)] == ["uncertain"]

    retried = RecordingTransport(failures={"2": [TransientFailure("down")] * 4})
    await queue(sessions, "2", ["igjen"])
    await Sender(sessions, {"telegram": retried}, FAST_RETRIES).drain(within=10)
    assert retried.calls == 5 and [text for _, text, _ in retried.sent] == ["igjen"]


async def test_giving_up_on_a_message_that_may_have_arrived_says_uncertain_not_failed(
    sessions,
) -> None:
    transport = RecordingTransport(
        failures={"1": [DeliveryUncertain("no answer")] + [TransientFailure("down")] * 10}
    )
    await queue(sessions, "1", ["svar"])
    pacing = Pacing(
        per_second=1000, chat_per_second=100, chat_burst=5, max_attempts=3, max_backoff_seconds=0
    )
    await Sender(sessions, {"telegram": transport}, pacing).drain(within=10)
    (row,) = await outbox_rows(sessions)
    assert transport.calls == 3 and row.status == "uncertain"

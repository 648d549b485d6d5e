"""Inbound events: recorded once per (channel, conversation, update id), never lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select, text

from services.inbound import Inbound, InboundProcessor
from storage.db import create_engine, session_factory
from storage.migrate import prepare_database
from storage.orm import InboundEvent


def _teams_text(conversation: str, activity_id: str, words: str) -> Inbound:
    return Inbound(
        channel="teams", address=conversation, user_id=f"user-{conversation}",
        update_key=activity_id, kind="text", text=words,
    )  # fmt: skip


def _processor(sessions, seen: list[tuple[str, str]]) -> InboundProcessor:
    async def handler(session, event: Inbound, row_id: int) -> None:
        seen.append((event.address, event.text))

    async def apologise(session, event: Inbound, row_id: int) -> None:
        raise AssertionError("nothing should fail here")

    return InboundProcessor(sessions, handler, apologise, lambda: None, concurrency=2)


async def test_two_members_writing_in_the_same_millisecond_are_both_processed(sessions) -> None:
    """Teams activity ids are millisecond timestamps: two conversations may share one."""
    seen: list[tuple[str, str]] = []
    processor = _processor(sessions, seen)
    same_id = "1733328000123"
    kari = _teams_text("a:kari", same_id, "Kari svarer")
    ola = _teams_text("a:ola", same_id, "Ola svarer")

    first = await processor.record([kari])
    second = await processor.record([ola])  # a separate request, as Teams sends them
    assert len(first) == 1 and len(second) == 1
    processor.submit(first + second)
    await processor.idle()
    assert sorted(seen) == [("a:kari", "Kari svarer"), ("a:ola", "Ola svarer")]

    # In one batch too, and a true redelivery (same conversation and id) is still a no-op.
    both = await processor.record(
        [_teams_text("a:per", "77", "Per"), _teams_text("a:liv", "77", "Liv")]
    )
    assert [event.address for _, event in both] == ["a:per", "a:liv"]
    assert await processor.record([kari]) == []
    async with sessions() as session:
        assert await session.scalar(select(func.count(InboundEvent.id))) == 4


async def test_the_new_key_keeps_every_existing_event(tmp_path: Path) -> None:
    """0004 -> newest with recorded events: every row stays, and the new key applies."""
    from alembic import command

    from storage.migrate import alembic_config

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0004")
    engine = create_engine(url)
    async with engine.begin() as connection:
        for row_id, address, key in ((1, "a:1", "k1"), (2, "a:2", "k2"), (3, "42", "100")):
            await connection.execute(
                text(
                    "INSERT INTO inbound_events (id, channel, update_key, address, payload,"
                    " received_at) VALUES (:id, 'teams', :key, :address, '{}', '2026-12-01 10:00:00')"
                ),
                {"id": row_id, "key": key, "address": address},
            )
    await engine.dispose()
    await prepare_database(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session:
        rows = (await session.execute(select(InboundEvent.id, InboundEvent.address))).all()
    assert sorted(rows) == [(1, "a:1"), (2, "a:2"), (3, "42")]
    seen: list[tuple[str, str]] = []
    recorded = await _processor(sessions, seen).record(
        [_teams_text("a:3", "k1", "ny"), _teams_text("a:1", "k1", "gammel igjen")]
    )
    assert [event.address for _, event in recorded] == ["a:3"]
    await engine.dispose()


def _telegram_text(chat: str, update_id: int, words: str) -> Inbound:
    return Inbound(
        channel="telegram", address=chat, user_id=chat,
        update_key=str(update_id), kind="text", text=words,
    )  # fmt: skip


async def test_a_chats_updates_recorded_out_of_order_are_handled_in_update_order(
    sessions,
) -> None:
    """Parallel webhook connections (or two processes) may record a chat's updates out of
    order; each is handled after the chat's earlier updates, whoever gets which first."""
    seen: list[tuple[str, str]] = []
    one, two = _processor(sessions, seen), _processor(sessions, seen)
    later = await one.record([_telegram_text("5", 1000, "andre")])
    earlier = await two.record([_telegram_text("5", 999, "første")])
    other_chat = await two.record([_telegram_text("6", 998, "annen chat")])
    one.submit(later)  # the later update reaches a processor first
    two.submit(earlier + other_chat)
    await asyncio.gather(one.idle(), two.idle())
    chat_five = [words for address, words in seen if address == "5"]
    assert chat_five == ["første", "andre"]  # each once, in Telegram's order
    assert ("6", "annen chat") in seen
    async with sessions() as session:
        pending = await session.scalar(
            select(func.count(InboundEvent.id)).where(InboundEvent.processed_at.is_(None))
        )
    assert pending == 0

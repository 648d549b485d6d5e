"""End to end: a slow Telegram never gets a member more than two copies of a reply.

The stand-in delivers each sendMessage at once but answers late, as a slow Bot API does.
With an answer after 25 s (the report: one reply reached the member three times), the
real ``lyttepost run`` waits for it and sends once. With answers later than the read
timeout (scaled down here: 5 s against 8 s), the reply goes once more and is then marked
uncertain: two copies, never a third. ``bench/slow_telegram.py`` measures the same at
full scale (25 s and 90 s against the default 75 s).
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tests.e2e_support import Deployment
from tests.telegram_standin import TelegramStandIn

pytestmark = pytest.mark.e2e

CHAT = 626262
ASK_FOR_CODE = "invitasjonskoden"


def outbox_statuses(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [status for (status,) in db.execute("SELECT status FROM outbox ORDER BY id")]


async def settled(database: Path, within: float) -> list[str]:
    """The outbox's statuses once every row has its outcome (sent, uncertain, failed), or
    as they are after ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        statuses = outbox_statuses(database)
        if statuses and not set(statuses) & {"pending", "sending"}:
            return statuses
        await asyncio.sleep(0.5)
    return outbox_statuses(database)


def copies(standin: TelegramStandIn) -> int:
    return sum(1 for m in standin.messages_for(CHAT) if ASK_FOR_CODE in m.text)


async def run_slow(
    tmp_path: Path, answer_after: float, env: dict[str, str]
) -> tuple[TelegramStandIn, Deployment]:
    """The real process against a stand-in that answers sends late; a member says /start."""
    standin = await TelegramStandIn().start()
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url=standin.base_url,
        workdir=tmp_path,
        extra_env=env,
    )
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.start)
    standin.answer_late(answer_after, method="sendMessage")
    standin.user_sends_text(CHAT, "/start")  # one reply: asking for the code
    return standin, deployment


async def test_a_telegram_answering_after_25_s_gets_each_reply_once(tmp_path: Path) -> None:
    standin, deployment = await run_slow(tmp_path, 25.0, {})
    try:
        await standin.wait_for_message(CHAT, timeout=20)  # delivered at once, answered later
        statuses = await settled(tmp_path / "lyttepost.db", within=60)
        await asyncio.sleep(1.0)
    finally:
        await asyncio.to_thread(deployment.stop)
        await standin.stop()
    assert copies(standin) == 1
    assert statuses == ["sent"]


async def test_a_telegram_slower_than_the_timeout_gets_at_most_two_copies(tmp_path: Path) -> None:
    standin, deployment = await run_slow(tmp_path, 8.0, {"TELEGRAM_SEND_TIMEOUT_SECONDS": "5"})
    try:
        statuses = await settled(tmp_path / "lyttepost.db", within=60)
        await asyncio.sleep(8.0)  # time for a third copy, if there were one
        log = deployment.log()
    finally:
        await asyncio.to_thread(deployment.stop)
        await standin.stop()
    assert copies(standin) == 2
    assert statuses == ["uncertain"]
    assert "marked uncertain, not sent again" in log

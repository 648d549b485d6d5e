"""End to end: a broadcast through the real ``lyttepost run`` process, killed halfway.

An admin drafts a broadcast to all members with the CLI and sends it; the bot delivers it
under Telegram's limits (the stand-in answers 429 beyond them). SIGKILL halfway, then a
restart: every recipient gets the message exactly once; a message that was on its way at
the kill may or may not have arrived (Telegram cannot be asked), is never sent again, and
the delivery report lists it as uncertain.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e_support import Deployment, bind_contacts
from tests.telegram_standin import TelegramStandIn

pytestmark = pytest.mark.e2e

TEXT = "KS inviterer til samling om digitalisering 12. mars."


async def test_a_broadcast_killed_halfway_reaches_everyone_once(tmp_path: Path) -> None:
    async with TelegramStandIn() as standin:
        standin.enforce_limits(global_per_second=30, per_chat_per_second=1, per_chat_burst=3)
        database = tmp_path / "lyttepost.db"
        deployment = Deployment(
            database_url=f"sqlite+aiosqlite:///{database}",
            api_base_url=standin.base_url,
            workdir=tmp_path,
        )
        try:
            await asyncio.to_thread(deployment.cli, "db", "upgrade")
            chats = await bind_contacts(deployment.database_url, 150, 800_000)
            await asyncio.to_thread(deployment.start)
            draft = await asyncio.to_thread(
                deployment.cli_json, "broadcast", "create", "--to", "all", "--text", TEXT
            )
            assert draft["recipients"] == 150
            await asyncio.to_thread(
                deployment.cli, "publications", "send", str(draft["id"]), "--yes", "--no-wait"
            )

            def arrived() -> Counter:
                return Counter(c for c in chats for m in standin.messages_for(c) if m.text == TEXT)

            for _ in range(1500):
                if len(arrived()) >= 50:
                    break
                await asyncio.sleep(0.02)
            await asyncio.to_thread(deployment.kill)
            assert len(arrived()) < 150, "killed before the end"
            await asyncio.to_thread(deployment.start)
            for _ in range(600):
                await asyncio.sleep(0.1)
                with sqlite3.connect(database) as db:
                    left = db.execute(
                        "SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND status = 'pending'"
                    ).fetchone()[0]
                if left == 0:
                    break
            await asyncio.sleep(1.0)
            counts = arrived()
            report = await asyncio.to_thread(
                deployment.cli_json, "publications", "report", str(draft["id"])
            )
        finally:
            deployment.stop()
        assert standin.stats.rejected_429 == 0
    assert max(counts.values()) == 1, "nobody gets it twice"
    missing = {c for c in chats if counts[c] == 0}
    assert len(missing) <= 3, missing
    assert report["recipients"] == 150 and report["failed"] == []
    # in flight at the kill: still "sending" (settled a minute later) or uncertain
    assert report["delivered"] + report["pending"] + len(report["uncertain"]) == 150
    assert report["delivered"] >= 147 and report["delivered"] <= sum(counts.values())

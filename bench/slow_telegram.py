"""A slow Telegram: how many copies of one reply does a member get?

Runs the real ``lyttepost run`` process against the Bot API stand-in, which delivers
every sendMessage at once but answers it only after ``--answer-after`` seconds (as a
slow Bot API does: the message is in the chat before the bot hears back). ``--chats``
members each send /start and get one reply. The bench waits until every reply has its
outcome in the outbox (sent, uncertain, failed) or ``--within`` seconds have passed,
then counts the copies each member got. Prints one result per answer time.

    .venv/bin/python bench/slow_telegram.py [--answer-after 25 90] [--chats 5]
    .venv/bin/python bench/slow_telegram.py --env TELEGRAM_SEND_TIMEOUT_SECONDS=20   # a shorter timeout

The read timeout is TELEGRAM_SEND_TIMEOUT_SECONDS (default 75 s): 25 s is within it,
90 s beyond it (one more copy, then the reply is marked uncertain).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e_support import Deployment  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402

FIRST_CHAT = 700_000
REPLY = "invitasjonskoden"  # the reply to /start from a chat that is not registered


def statuses(database: Path) -> Counter[str]:
    with sqlite3.connect(database) as db:
        return Counter(status for (status,) in db.execute("SELECT status FROM outbox"))


async def measure(args: argparse.Namespace, answer_after: float) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-bench-"))
    database = workdir / "bench.db"
    async with TelegramStandIn() as api:
        deployment = Deployment(
            database_url=f"sqlite+aiosqlite:///{database}",
            api_base_url=api.base_url,
            workdir=workdir,
            extra_env={"LOG_LEVEL": "INFO", **dict(kv.split("=", 1) for kv in args.env)},
        )
        await asyncio.to_thread(deployment.cli, "db", "upgrade")
        await asyncio.to_thread(deployment.start)
        try:
            api.answer_late(answer_after, method="sendMessage")
            started = time.monotonic()
            chats = [FIRST_CHAT + i for i in range(args.chats)]
            for chat in chats:
                api.user_sends_text(chat, "/start")
            while time.monotonic() - started < args.within:
                now = statuses(database)
                if sum(now.values()) >= len(chats) and not now.keys() & {"pending", "sending"}:
                    break
                await asyncio.sleep(0.5)
            settled_after = time.monotonic() - started
            await asyncio.sleep(args.grace)  # a copy sent at the last moment is counted too
            outcome = statuses(database)
        finally:
            await asyncio.to_thread(deployment.stop)
    copies = [sum(1 for m in api.messages_for(chat) if REPLY in m.text) for chat in chats]
    return {
        "answer_after_s": answer_after,
        "send_timeout_s": dict(kv.split("=", 1) for kv in args.env).get(
            "TELEGRAM_SEND_TIMEOUT_SECONDS", "75 (default)"
        ),
        "members": len(chats),
        "copies_per_member": dict(sorted(Counter(copies).items())),
        "max_copies": max(copies),
        "outbox": dict(outcome),
        "settled_after_s": round(settled_after, 1),
    }


async def main(args: argparse.Namespace) -> None:
    results = []
    for answer_after in args.answer_after:
        print(f"stand-in answering after {answer_after:g}s ...", file=sys.stderr)
        results.append(await measure(args, answer_after))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--answer-after", type=float, nargs="+", default=[25.0, 90.0])
    parser.add_argument("--chats", type=int, default=5, help="members, one reply each")
    parser.add_argument("--within", type=float, default=300.0, help="seconds to wait at most")
    parser.add_argument("--grace", type=float, default=5.0, help="seconds to wait after settling")
    parser.add_argument(
        "--env", action="append", default=[], help="extra NAME=VALUE for the bot process"
    )
    asyncio.run(main(parser.parse_args()))

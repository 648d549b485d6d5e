"""The annual cycle at full size: applying a year's plan for all 371 members, and opening a round.

1. Applying a plan of four quarterly rounds for all members, timed twice: in-process
   (``apply_plan`` and the commit) and as the CLI an admin runs (``lyttepost plan apply``,
   Python start-up included). Applying it again (nothing changes) is timed too.
2. A round planned to open a few seconds ahead, with the real ``lyttepost run`` process
   against the Telegram stand-in enforcing Telegram's limits (30 messages/s overall,
   1/s per chat with bursts of 3, 429 with retry_after beyond that). Every member has one
   registered contact. Measured from the planned opening time: when the round opened
   (its history), when the first and the last invitation reached the stand-in, 429s,
   and invitations lost or sent twice.

    .venv/bin/python bench/cycle.py [--members 371] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from scheduler.plan import load_plan_text  # noqa: E402
from scheduler.plan_apply import apply_plan  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from tests.e2e_support import Deployment, bind_contacts  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402

OSLO = ZoneInfo("Europe/Oslo")
FIRST_CHAT = 300_000

YEAR_PLAN = """\
defaults: {survey: kvartalsvis-behov, audience: all}
rounds:
  - {key: q1, opens: "2030-01-14 09:00", closes: "2030-02-01"}
  - {key: q2, opens: "2030-04-08 09:00", closes: "2030-04-26"}
  - {key: q3, opens: "2030-09-09 09:00", closes: "2030-09-27"}
  - {key: q4, opens: "2030-11-04 09:00", closes: "2030-11-22"}
"""


async def time_plan_in_process(url: str) -> dict[str, float]:
    plan = load_plan_text(YEAR_PLAN, "bench-plan.yaml", OSLO)
    engine = create_engine(url)
    timings = {}
    for label in ("apply_year_s", "apply_again_s"):
        started = time.perf_counter()
        async with session_factory(engine)() as session, session.begin():
            await apply_plan(session, plan, datetime.now(UTC), OSLO, actor="bench")
        timings[label] = round(time.perf_counter() - started, 3)
    await engine.dispose()
    return timings


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-bench-cycle-"))
    async with TelegramStandIn() as api:
        api.enforce_limits(global_per_second=30, per_chat_per_second=1, per_chat_burst=3)
        url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        deployment = Deployment(
            database_url=url, api_base_url=api.base_url, workdir=workdir,
            extra_env={"LOG_LEVEL": "WARNING", "SCHEDULER_SYNC_SECONDS": "1"},
        )  # fmt: skip
        await asyncio.to_thread(deployment.cli, "db", "upgrade")
        chats = await bind_contacts(url, args.members, FIRST_CHAT)
        print(f"{len(chats)} members with a registered contact", file=sys.stderr)

        in_process = await time_plan_in_process(url)
        plan_file = workdir / "year.yaml"
        plan_file.write_text(YEAR_PLAN.replace("q", "cli-q"), encoding="utf-8")
        started = time.perf_counter()
        await asyncio.to_thread(deployment.cli, "plan", "apply", str(plan_file))
        cli_wall = round(time.perf_counter() - started, 3)

        await asyncio.to_thread(deployment.start)
        opens = (datetime.now(OSLO) + timedelta(seconds=args.lead)).replace(microsecond=0)
        closes = opens + timedelta(days=14)
        round_plan = workdir / "now.yaml"
        round_plan.write_text(
            "rounds:\n  - key: now\n    survey: kvartalsvis-behov\n"
            f"    opens: {opens:%Y-%m-%d %H:%M:%S}\n    closes: {closes:%Y-%m-%d %H:%M:%S}\n"
            "    quiet_hours: 'off'\n    weekends: true\n",
            encoding="utf-8",
        )
        applied = await asyncio.to_thread(deployment.cli_json, "plan", "apply", str(round_plan))
        round_id = applied["rounds"][0]["id"]
        opens_monotonic = time.monotonic() + (opens - datetime.now(OSLO)).total_seconds()
        expected = set(chats)
        deadline = time.monotonic() + args.lead + 300
        while time.monotonic() < deadline:
            arrived = {
                c for c in expected if any("har åpnet" in m.text for m in api.messages_for(c))
            }
            if arrived == expected:
                break
            await asyncio.sleep(0.2)
        invitations = [m for c in expected for m in api.messages_for(c) if "har åpnet" in m.text]
        history = await asyncio.to_thread(deployment.cli_json, "rounds", "history", str(round_id))
        assert deployment.process is not None
        deployment.stop()

    opened = next(e for e in history if e["action"] == "opened")
    per_chat = Counter(m.chat_id for m in invitations)
    times = sorted(m.sent_at for m in invitations)
    result = {
        "members": len(chats),
        "database": url.split(":")[0],
        "plan_of_4_rounds_for_all_members": {
            **in_process,
            "cli_wall_s": cli_wall,
        },
        "opening_a_round": {
            "opened_after_planned_s": round(
                (datetime.fromisoformat(opened["at"]) - opens).total_seconds(), 3
            ),
            "first_invitation_after_planned_s": round(times[0] - opens_monotonic, 2)
            if times
            else None,
            "last_invitation_after_planned_s": round(times[-1] - opens_monotonic, 2)
            if times
            else None,
            "invitations_delivered": len(per_chat),
            "lost": len(expected - set(per_chat)),
            "duplicated": sum(count - 1 for count in per_chat.values()),
            "rate_429": api.stats.rejected_429,
            "messages_per_s": round(len(times) / (times[-1] - times[0]), 1)
            if len(times) > 1
            else None,
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=371)
    parser.add_argument("--lead", type=float, default=8.0, help="seconds until the round opens")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    asyncio.run(main(parser.parse_args()))

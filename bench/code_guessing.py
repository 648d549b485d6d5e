"""Guessing invitation codes: how fast can anyone try them, and does a member get through?

Runs the real ``lyttepost run`` process against the Bot API stand-in. Many throwaway
chats send wrong codes (``--chats`` x ``--tries``, all at once by default, so the bot
works flat out); once ``--member-after`` of them have been checked, a member with a
real code registers. Prints:

- attempts evaluated per second: wrong codes the bot checked (failed attempts recorded),
  over the span between the first and the last. This is the highest rate Lyttepost can
  be made to check codes at, whatever the number of chats;
- the member's registration latency during the flood (their /start CODE until the
  welcome reaches the stand-in);
- the expected time to guess one live code at that rate: 32**10 codes / (live codes x
  rate), for each ``--live`` count (docs/decisions/0004-invitation-codes.md).

    .venv/bin/python bench/code_guessing.py [--chats 3000] [--tries 2] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from services.invites import CODE_ALPHABET, CODE_LENGTH  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.orm import CodeAttempt, InboundEvent  # noqa: E402
from tests.e2e_support import Deployment  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402

SECONDS_PER_YEAR = 365.25 * 24 * 3600
FIRST_ATTACKER = 5_000_000
MEMBER_CHAT = 4_242


def expected_years(rate_per_second: float, live_codes: int) -> float:
    """Expected time until a guesser hits one of ``live_codes`` live codes at this rate."""
    space = len(CODE_ALPHABET) ** CODE_LENGTH
    return space / (live_codes * rate_per_second) / SECONDS_PER_YEAR


def wrong_code(index: int) -> str:
    """A well-formed code that was never issued (the last characters count up)."""
    digits = []
    for _ in range(CODE_LENGTH):
        index, rest = divmod(index, len(CODE_ALPHABET))
        digits.append(CODE_ALPHABET[rest])
    return "".join(reversed(digits))


async def counts(sessions) -> tuple[int, int]:
    """(failed attempts recorded, inbound events processed)."""
    async with sessions() as session:
        attempts = await session.scalar(select(func.count(CodeAttempt.id)))
        processed = await session.scalar(
            select(func.count(InboundEvent.id)).where(InboundEvent.processed_at.is_not(None))
        )
    return int(attempts or 0), int(processed or 0)


async def until(read, done, every: float = 0.2) -> None:
    """Poll the database until ``done(await read())``."""
    while True:
        if done(await read()):
            return
        await asyncio.sleep(every)


async def evaluation_rate(sessions) -> tuple[int, float]:
    """Failed attempts and the seconds between the first and the last, from the database."""
    async with sessions() as session:
        count, first, last = (
            await session.execute(
                select(
                    func.count(CodeAttempt.id),
                    func.min(CodeAttempt.attempted_at),
                    func.max(CodeAttempt.attempted_at),
                )
            )
        ).one()
    span = (last - first).total_seconds() if count > 1 else 0.0
    return int(count), span


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-bench-"))
    total = args.chats * args.tries
    async with TelegramStandIn() as api:
        url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        deployment = Deployment(
            database_url=url,
            api_base_url=api.base_url,
            workdir=workdir,
            extra_env={"LOG_LEVEL": "WARNING", **dict(kv.split("=", 1) for kv in args.env)},
        )
        await asyncio.to_thread(deployment.cli, "db", "upgrade")
        contact = await asyncio.to_thread(
            deployment.cli_json, "contacts", "add", "--org", "3301", "--name", "Kari Nordmann",
            "--role", "kommunedirektor",
        )  # fmt: skip
        invite = await asyncio.to_thread(
            deployment.cli_json, "invites", "create", "--contact", str(contact["id"])
        )
        code = invite[0]["code"]
        engine = create_engine(url)
        sessions = session_factory(engine)
        await asyncio.to_thread(deployment.start)
        try:
            print(f"{args.chats} chats send {total} wrong codes ...", file=sys.stderr)
            started = time.monotonic()
            sent = 0
            for _ in range(args.tries):
                for chat in range(args.chats):
                    api.user_sends_text(FIRST_ATTACKER + chat, f"/start {wrong_code(sent)}")
                    sent += 1
                    if args.rate and sent % 50 == 0:
                        await asyncio.sleep(max(0.0, started + sent / args.rate - time.monotonic()))
            member_at = int(total * args.member_after)
            await until(lambda: counts(sessions), lambda c: c[0] >= member_at)
            evaluated_before, _ = await counts(sessions)
            since = time.monotonic()
            api.user_sends_text(MEMBER_CHAT, f"/start {code}", first_name="Kari")
            await api.wait_for_message(
                MEMBER_CHAT, lambda m: "Velkommen" in m.text, timeout=args.timeout
            )
            latency = time.monotonic() - since
            evaluated_at_welcome, _ = await counts(sessions)
            print(f"member welcomed after {latency:.1f}s; draining the flood ...", file=sys.stderr)
            await until(lambda: counts(sessions), lambda c: c[1] >= total + 1)
            wall = time.monotonic() - started
            evaluated, span = await evaluation_rate(sessions)
        finally:
            await asyncio.to_thread(deployment.stop)
            await engine.dispose()
    rate = (evaluated - 1) / span if span > 0 else float("nan")
    warnings = deployment.log().count("a flood of guesses")
    result = {
        "database": url.split(":")[0],
        "chats": args.chats,
        "tries_per_chat": args.tries,
        "attempts_sent": total,
        "attack_rate_per_s": args.rate or "all at once",
        "attempts_evaluated": evaluated,
        "attempts_refused_unchecked": total - evaluated,
        "evaluation_span_s": round(span, 1),
        "attempts_evaluated_per_s": round(rate, 1),
        "member_sent_after_evaluated": evaluated_before,
        "member_registration_latency_s": round(latency, 2),
        "evaluated_while_member_waited": evaluated_at_welcome - evaluated_before,
        "flood_warnings_logged": warnings,
        "wall_s": round(wall, 1),
        "code_space": f"{len(CODE_ALPHABET)}^{CODE_LENGTH} = {len(CODE_ALPHABET) ** CODE_LENGTH:.3e}",
        "expected_years_to_guess_one_live_code": {
            str(live): round(expected_years(rate, live), 1) for live in args.live
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=3000, help="throwaway chats guessing")
    parser.add_argument("--tries", type=int, default=2, help="wrong codes per chat")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="attempts sent per second (default: all at once)"
    )
    parser.add_argument(
        "--member-after", type=float, default=0.3,
        help="share of the wrong codes checked before the member sends the real one",
    )  # fmt: skip
    parser.add_argument(
        "--live", type=int, nargs="+", default=[1000, 5000], help="live codes to assume"
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds to wait for the welcome"
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--env", action="append", default=[], help="extra NAME=VALUE for the bot process"
    )
    asyncio.run(main(parser.parse_args()))

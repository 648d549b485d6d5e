"""A broadcast to 2,000 recipients under Telegram's flood limits: Lyttepost next to plain PTB.

Both runs send one message to each of N distinct private chats through the Bot API
stand-in from ``tests/``, which enforces Telegram's limits: 30 messages/s overall (a
sliding one-second window), 1/s per chat with bursts of 3, and 429 with
``retry_after=1`` beyond them.

A. Lyttepost: the real ``lyttepost run`` process (``--processes N`` of them on the same
   database, each with its own HTTP_PORT). 371 members get 5-6 contacts each, every
   contact with its own chat, as if they had redeemed their invitation codes; an admin
   drafts ``lyttepost broadcast create --to all`` and sends it with ``lyttepost
   publications send ID --yes --no-wait``; the running bot's paced sender delivers it.
   The bench waits until every recipient has a message or nothing has arrived for 30 s,
   then reads ``lyttepost publications report ID --json``.
B. python-telegram-bot alone: an Application with ``AIORateLimiter()`` (its defaults:
   30/s overall, no per-chat limit for private chats, ``max_retries=0``) sending the
   same text to the same chats at once (``asyncio.gather``) on a fresh stand-in with the
   same limits. A RetryAfter (429) that the rate limiter does not retry is counted as a
   lost message; ``--ptb-retries N`` gives AIORateLimiter ``max_retries=N`` instead.

For both: recipients, messages delivered, messages per second achieved (delivered /
(last arrival - first arrival)) and as a share of 30, 429s, lost (recipients with no
message), duplicated (sum over recipients of count - 1), wall time from the send
command to the last arrival, and the most messages the stand-in accepted in any
one-second window. Progress goes to stderr, one JSON document to stdout.

    .venv/bin/python bench/broadcast.py [--recipients 2000] [--processes 1]
        [--database-url URL] [--only lyttepost|ptb] [--ptb-retries 0]

``--database-url`` must point at an empty database (e.g. a freshly created PostgreSQL
one: ``postgresql+asyncpg://postgres@127.0.0.1:5432/lyttepost_bench_b``); the default is
a fresh SQLite file in a temporary directory, which also holds each process's ``run.log``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e_support import TOKEN, Deployment, bind_contacts  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402

FIRST_CHAT = 500_000
LIMITS = {"global_per_second": 30, "per_chat_per_second": 1, "per_chat_burst": 3, "retry_after": 1}
TELEGRAM_RATE = 30.0
QUIET_SECONDS = 30.0  # stop waiting when nothing has arrived for this long
TEXT = (
    "Hei! Resultatene fra kvartalets behovsundersøkelse er klare. KS presenterer dem på "
    "webinar torsdag kl. 10. Takk til alle som svarte. Hilsen KS"
)
BEGAN = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - BEGAN:7.1f}s] {message}", file=sys.stderr, flush=True)


# --- shared measuring -----------------------------------------------------------------------


async def wait_for_arrivals(
    api: TelegramStandIn, chats: list[int], since: float, limit: float
) -> str:
    """Until every chat has a message, nothing arrived for QUIET_SECONDS, or ``limit`` s
    passed since ``since``; returns which of these ended the wait."""
    last_count, last_change, last_report = -1, time.monotonic(), 0.0
    while True:
        now = time.monotonic()
        reached = sum(1 for chat in chats if api.messages.get(chat))
        sent = api.stats.sent
        if sent != last_count:
            last_count, last_change = sent, now
        if now - last_report >= 5:
            last_report = now
            progress(
                f"  {now - since:5.1f}s after send: {reached}/{len(chats)} recipients reached, "
                f"{sent} messages, {api.stats.rejected_429} x 429"
            )
        if reached == len(chats):
            return "all arrived"
        if now - last_change >= QUIET_SECONDS:
            return f"nothing arrived for {QUIET_SECONDS:.0f} s"
        if now - since >= limit:
            return f"gave up after {limit:.0f} s"
        await asyncio.sleep(0.2)


def figures(api: TelegramStandIn, chats: list[int], started: float) -> dict[str, Any]:
    """What reached the stand-in, for the recipients' chats, measured from ``started``."""
    per_chat = {chat: len(api.messages_for(chat)) for chat in chats}
    times = sorted(m.sent_at for chat in chats for m in api.messages_for(chat))
    other_texts = sum(1 for chat in chats for m in api.messages_for(chat) if m.text != TEXT)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = len(times) / span if span > 0 else None
    failed_calls = Counter(
        f"{call.method} {call.status}"
        for call in api.calls
        if not call.ok and call.status != 429 and call.method.lower() != "getupdates"
    )
    attempts = sorted(call.at for call in api.calls_to("sendMessage"))
    rejected = [call.at - started for call in api.calls_to("sendMessage") if call.status == 429]
    return {
        "recipients": len(chats),
        "messages_delivered": len(times),
        "recipients_reached": sum(1 for n in per_chat.values() if n),
        "messages_per_s": round(rate, 2) if rate else None,
        "share_of_30_per_s": round(rate / TELEGRAM_RATE, 3) if rate else None,
        "rate_429": api.stats.rejected_429,
        "lost": sum(1 for n in per_chat.values() if n == 0),
        "duplicated": sum(n - 1 for n in per_chat.values() if n > 1),
        "wall_s_send_to_last_arrival": round(times[-1] - started, 2) if times else None,
        "first_arrival_after_send_s": round(times[0] - started, 2) if times else None,
        "max_in_any_1s_window": api.stats.max_in_window(1.0),
        "send_calls": len(attempts),
        "max_send_calls_in_any_1s_window": max_in_window(attempts, 1.0),
        "first_429s_after_send_s": [round(at, 2) for at in rejected[:10]],
        "other_failed_calls": dict(failed_calls),
        "unexpected_texts": other_texts,
        "standin_errors": list(api.errors),
    }


def max_in_window(times: list[float], window: float) -> int:
    """The most of ``times`` (sorted) inside any ``window``-second span."""
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


# --- A. Lyttepost ------------------------------------------------------------------------------


async def bind_recipients(url: str, organisations: int, recipients: int) -> list[int]:
    """``recipients`` contacts with their own chat, spread as evenly as possible over the
    members (with 2,000 and 371 members: 145 get 6 contacts, the rest 5)."""
    if recipients <= organisations:
        return list(await bind_contacts(url, recipients, FIRST_CHAT))
    base, extra = divmod(recipients, organisations)
    chats = await bind_contacts(url, organisations, FIRST_CHAT, per_organisation=base)
    if extra:
        chats |= await bind_contacts(url, extra, FIRST_CHAT + len(chats))
    return sorted(chats)


def log_summary(paths: list[Path]) -> dict[str, Any]:
    """Counts of WARNING and worse lines in the bot logs, and the distinct messages (digits
    folded so that the same message about different ids counts once)."""
    levels: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    tracebacks = 0
    pattern = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) (.*)$")
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("Traceback"):
                tracebacks += 1
            match = pattern.match(line)
            if match:
                levels[match.group(1)] += 1
                messages[f"{match.group(1)} {re.sub(r'[0-9]+', 'N', match.group(2))[:200]}"] += 1
    return {
        "files": [str(p) for p in paths],
        "levels": dict(levels),
        "tracebacks": tracebacks,
        "messages": dict(messages.most_common(15)),
    }


async def run_lyttepost(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-bench-broadcast-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    progress(f"A. Lyttepost: workdir {workdir}, database {url.split(':')[0]}")
    deployments: list[Deployment] = []
    async with TelegramStandIn() as api:
        api.enforce_limits(**LIMITS)
        for index in range(args.processes):
            home = workdir if index == 0 else workdir / f"process-{index + 1}"
            home.mkdir(exist_ok=True)
            deployments.append(
                Deployment(
                    database_url=url,
                    api_base_url=api.base_url,
                    workdir=home,
                    extra_env={"LOG_LEVEL": args.log_level},
                )
            )
        admin = deployments[0]
        try:
            await asyncio.to_thread(admin.cli, "db", "upgrade")
            members = await asyncio.to_thread(admin.cli_json, "members", "list")
            chats = await bind_recipients(url, len(members), args.recipients)
            progress(f"{len(chats)} contacts with their own chat in {len(members)} members")
            for index, deployment in enumerate(deployments):
                await asyncio.to_thread(deployment.start)
                progress(
                    f"lyttepost run #{index + 1} up (pid {deployment.process.pid if deployment.process else '?'}, "
                    f"HTTP_PORT {deployment.http_port})"
                )
            draft = await asyncio.to_thread(
                admin.cli_json, "broadcast", "create", "--to", "all", "--text", TEXT
            )
            if draft.get("recipients") != len(chats):
                raise SystemExit(
                    f"the broadcast reaches {draft.get('recipients')} contacts, not {len(chats)}: "
                    "is the database empty? (--database-url must point at a fresh one)"
                )
            progress(
                f"broadcast {draft['id']} drafted for {draft['recipients']} recipients; sending"
            )
            started = time.monotonic()
            await asyncio.to_thread(
                admin.cli_json, "publications", "send", str(draft["id"]), "--yes", "--no-wait"
            )
            send_cli_s = time.monotonic() - started
            progress(f"publications send returned after {send_cli_s:.1f} s")
            ended = await wait_for_arrivals(
                api, chats, started, limit=max(300.0, 3 * len(chats) / TELEGRAM_RATE)
            )
            progress(f"stopped waiting: {ended}")
            report = await settled_report(admin, draft["id"])
            running = [d.process.poll() is None for d in deployments if d.process is not None]
        finally:
            for deployment in deployments:
                await asyncio.to_thread(deployment.stop)
        result = figures(api, chats, started)
    result.update(
        {
            "processes": args.processes,
            "processes_alive_at_end": sum(running),
            "database": url.split(":")[0],
            "send_command_s": round(send_cli_s, 2),
            "waiting_ended": ended,
            "delivery_report": {
                "recipients": report["recipients"],
                "delivered": report["delivered"],
                "pending": report["pending"],
                "unreachable": len(report["unreachable"]),
                "failed": len(report["failed"]),
                "uncertain": len(report["uncertain"]),
                "failed_reasons": dict(Counter(f["reason"][:120] for f in report["failed"])),
            },
            "bot_log": log_summary([d.workdir / "run.log" for d in deployments]),
        }
    )
    return result


async def settled_report(admin: Deployment, publication_id: int) -> dict[str, Any]:
    """The delivery report once nothing is pending (outcomes are recorded just after the
    send), or after 20 s."""
    deadline = time.monotonic() + 20
    while True:
        report = await asyncio.to_thread(
            admin.cli_json, "publications", "report", str(publication_id)
        )
        if report["pending"] == 0 or time.monotonic() > deadline:
            return report
        await asyncio.sleep(1)


# --- B. python-telegram-bot with AIORateLimiter ---------------------------------------------------


async def run_ptb(args: argparse.Namespace, chats: list[int]) -> dict[str, Any]:
    from telegram.error import RetryAfter, TelegramError
    from telegram.ext import AIORateLimiter, ApplicationBuilder

    # AIORateLimiter logs every RetryAfter it gives up on with a traceback; they are counted.
    logging.getLogger("telegram").setLevel(logging.CRITICAL)
    progress(f"B. python-telegram-bot AIORateLimiter(max_retries={args.ptb_retries})")
    errors: Counter[str] = Counter()
    async with TelegramStandIn() as api:
        api.enforce_limits(**LIMITS)
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(api.base_url)
            .rate_limiter(AIORateLimiter(max_retries=args.ptb_retries))
            .job_queue(None)
            .updater(None)
            .build()
        )
        await app.initialize()

        async def send(chat: int) -> None:
            try:
                await app.bot.send_message(chat_id=chat, text=TEXT)
            except RetryAfter:
                errors["RetryAfter (lost)"] += 1
            except TelegramError as error:
                errors[type(error).__name__] += 1

        started = time.monotonic()
        try:
            everything = asyncio.gather(*(send(chat) for chat in chats))
            watcher = asyncio.create_task(
                wait_for_arrivals(
                    api, chats, started, limit=max(300.0, 3 * len(chats) / TELEGRAM_RATE)
                )
            )
            try:
                await asyncio.wait_for(everything, timeout=max(300.0, 3 * len(chats) / 30))
                ended = "every send_message returned or raised"
            except TimeoutError:
                ended = "timed out"
            watcher.cancel()
            progress(f"stopped: {ended}")
        finally:
            await app.shutdown()
        result = figures(api, chats, started)
    result.update(
        {
            "rate_limiter": f"AIORateLimiter(max_retries={args.ptb_retries})",
            "retry_policy": (
                "none: a RetryAfter raised by send_message is counted as lost"
                if args.ptb_retries == 0
                else f"AIORateLimiter retries a 429 up to {args.ptb_retries} times, then lost"
            ),
            "waiting_ended": ended,
            "exceptions": dict(errors),
        }
    )
    return result


# --- main -------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    result: dict[str, Any] = {
        "limits": {**LIMITS, "note": "stand-in answers 429 + retry_after beyond them"},
        "text_characters": len(TEXT),
    }
    chats = list(range(FIRST_CHAT, FIRST_CHAT + args.recipients))
    if args.only in (None, "lyttepost"):
        result["lyttepost"] = await run_lyttepost(args)
    if args.only in (None, "ptb"):
        result["ptb_aioratelimiter"] = await run_ptb(args, chats)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=1, help="lyttepost run processes")
    parser.add_argument(
        "--database-url", default=None, help="an empty database; default: a fresh SQLite file"
    )
    parser.add_argument("--only", choices=("lyttepost", "ptb"), default=None)
    parser.add_argument(
        "--ptb-retries", type=int, default=0, help="AIORateLimiter max_retries (default 0)"
    )
    parser.add_argument("--log-level", default="INFO", help="LOG_LEVEL of the bot processes")
    parsed = parser.parse_args()
    if parsed.recipients < 1 or parsed.processes < 1:
        parser.error("--recipients and --processes must be at least 1")
    asyncio.run(main(parsed))

"""Side by side: Lyttepost and a minimal python-telegram-bot survey bot under the same load.

Issue 16 asks how Lyttepost compares with what PTB alone gives: the reference
(bench/ptb_reference_bot.py) is an ``Application`` with a ``ConversationHandler`` over the
same survey, answers in ``user_data`` and a ``PicklePersistence``. One run measures both,
one after the other, each against a fresh Bot API stand-in with no flood limits (Lyttepost
with its own pace lifted, SEND_RATE_PER_SECOND=1000, as bench/dialog_latency.py is run).
The simulated members are the same code for both (dialog_latency's ``Respondent``, same
seed): N register with their code within ``--arrival`` seconds, get the invitation, and
answer the whole survey with a mean think time of ``--think`` seconds, pressing buttons
where there are buttons and typing text otherwise. Latency is from an update being queued
at the stand-in to the bot's first reply (message or edit); CPU per event is the bot
process's user + system time (from /proc) over the replies measured, registrations and
answers together (each phase also pays for the bot's background work and the invitations).
Prints both sides and the ratios Lyttepost / PTB for p95 and CPU per event.

Not quite alike, on purpose: the reference has no outbox and no pacing at all, where
Lyttepost keeps Telegram's ~1 message/s per chat (bursts of 3) even with the overall pace
lifted. An answer costs two messages (the answer shown, the next question), so with a
think time of a second or two Lyttepost's latency includes that per-chat wait and members
sometimes press the previous question's buttons; at the issue's 10 s it rarely matters.
PTB's persistence writes every ``--ptb-persist-every`` seconds; Lyttepost commits each event.

    .venv/bin/python bench/ptb_reference.py [--respondents 371] [--think 10] [--arrival 10]
        [--ptb-concurrent 1] [--ptb-persist-every 60] [--only lyttepost|ptb]

``--ptb-concurrent N`` lets PTB handle N updates at once (its default handles them one by
one, the safe choice with ConversationHandler); ``--ptb-persist-every`` is PTB's
``update_interval`` in seconds (default 60, PTB's own).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import dialog_latency  # noqa: E402
from bench.dialog_latency import Respondent, cpu_seconds, latency_summary, rss_kib  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402

REFERENCE_BOT = Path(__file__).resolve().parent / "ptb_reference_bot.py"


async def lyttepost(args: argparse.Namespace) -> dict[str, Any]:
    """bench/dialog_latency.py's whole load, reduced to the figures compared here."""
    result = await dialog_latency.run(
        argparse.Namespace(
            respondents=args.respondents, think=args.think, arrival=args.arrival,
            database_url=None, profile=None, cprofile=None, env=["SEND_RATE_PER_SECOND=1000"],
        )
    )  # fmt: skip
    registrations = result["respondents"]
    answers = result["replies_measured"] - registrations
    cpu_ms = (
        result["cpu_ms_per_registration"] * registrations + result["cpu_ms_per_answer"] * answers
    )
    return {
        "respondents": result["respondents"],
        "submitted": result["submitted"],
        "replies_measured": result["replies_measured"],
        "latency_ms": result["latency_ms"],
        "registration_latency_ms": result["registration_latency_ms"],
        "answer_latency_ms": result["answer_latency_ms"],
        "cpu_ms_per_event": round(cpu_ms / max(1, result["replies_measured"]), 2),
        "cpu_ms_per_registration": result["cpu_ms_per_registration"],
        "cpu_ms_per_answer": result["cpu_ms_per_answer"],
        "rss_mib": result["bot_rss_mib"],
        "peak_rss_mib": result["bot_peak_rss_mib"],
        "wall_s": result["wall_s"],
        "database": result["database"],
    }


async def reference(args: argparse.Namespace) -> dict[str, Any]:
    """The same members against the PTB bot, started as its own process."""
    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-ptbref-"))
    codes = {f"KS{i:05d}": f"Kommune {i + 1}" for i in range(args.respondents)}
    (workdir / "codes.json").write_text(json.dumps(codes), encoding="utf-8")
    async with TelegramStandIn() as api:
        with (workdir / "bot.log").open("wb") as log:
            process = subprocess.Popen(  # noqa: ASYNC220 - started once, before the load
                [sys.executable, str(REFERENCE_BOT), "--base-url", api.base_url,
                 "--codes", str(workdir / "codes.json"), "--pickle", str(workdir / "ptb.pickle"),
                 "--persist-every", str(args.ptb_persist_every),
                 "--concurrent", str(args.ptb_concurrent)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        try:
            await api.wait_for_call("getUpdates", timeout=30)
            result = await drive(api, process.pid, list(codes), args)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait, 30)
    if process.returncode not in (0, -signal.SIGTERM):
        print((workdir / "bot.log").read_text(errors="replace")[-3000:], file=sys.stderr)
    result["concurrent_updates"] = args.ptb_concurrent
    result["persistence"] = f"PicklePersistence, update_interval {args.ptb_persist_every:g} s"
    return result


async def drive(
    api: TelegramStandIn, pid: int, codes: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Registrations, then invitations (SIGUSR1 to the bot) and answers, as dialog_latency."""
    rng = random.Random(7)
    respondents = [
        Respondent(api, 100_000 + i, code, args.think, random.Random(rng.random()))
        for i, code in enumerate(codes)
    ]
    await asyncio.sleep(2)  # let start-up work settle before counting CPU
    print(f"PTB: {len(respondents)} respondents registering ...", file=sys.stderr)
    cpu_before = cpu_seconds(pid)
    spacing = args.arrival / max(1, len(respondents))
    await asyncio.gather(*(r.register(i * spacing) for i, r in enumerate(respondents)))
    registration_cpu = cpu_seconds(pid) - cpu_before
    registration_latencies = [value for r in respondents for value in r.latencies]
    for respondent in respondents:
        respondent.latencies = []
    started = time.monotonic()
    cpu_before = cpu_seconds(pid)
    os.kill(pid, signal.SIGUSR1)
    print("PTB: invitations sent; answering ...", file=sys.stderr)
    tasks = [asyncio.create_task(r.answer_survey()) for r in respondents]
    while not all(t.done() for t in tasks):
        await asyncio.wait(tasks, timeout=10)
        print(
            f"  {time.monotonic() - started:5.0f}s: {sum(t.done() for t in tasks)} finished",
            file=sys.stderr,
        )
    finished = [t.result() for t in tasks]
    answering_cpu = cpu_seconds(pid) - cpu_before
    wall = time.monotonic() - started
    memory = rss_kib(pid)
    latencies = [value for r in respondents for value in r.latencies]
    everything = registration_latencies + latencies
    return {
        "respondents": len(respondents),
        "submitted": sum(finished),
        "replies_measured": len(everything),
        "latency_ms": latency_summary(everything),
        "registration_latency_ms": latency_summary(registration_latencies),
        "answer_latency_ms": latency_summary(latencies),
        "cpu_ms_per_event": round((registration_cpu + answering_cpu) * 1000 / len(everything), 2),
        "cpu_ms_per_registration": round(registration_cpu * 1000 / len(registration_latencies), 2),
        "cpu_ms_per_answer": round(answering_cpu * 1000 / max(1, len(latencies)), 2),
        "rss_mib": round(memory.get("VmRSS", 0) / 1024, 1),
        "peak_rss_mib": round(memory.get("VmHWM", 0) / 1024, 1),
        "wall_s": round(wall, 1),
    }


async def main(args: argparse.Namespace) -> None:
    result: dict[str, Any] = {
        "respondents": args.respondents,
        "think_time_mean_s": args.think,
        "arrival_s": args.arrival,
        "cpus": os.cpu_count(),
    }
    if args.only in (None, "lyttepost"):
        print("Lyttepost ...", file=sys.stderr)
        result["lyttepost"] = await lyttepost(args)
    if args.only in (None, "ptb"):
        print("PTB reference ...", file=sys.stderr)
        result["ptb"] = await reference(args)
    if args.only is None:
        ours, theirs = result["lyttepost"], result["ptb"]
        result["lyttepost_to_ptb"] = {
            "p95": round(ours["latency_ms"]["p95"] / theirs["latency_ms"]["p95"], 2),
            "cpu_per_event": round(ours["cpu_ms_per_event"] / theirs["cpu_ms_per_event"], 2),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--respondents", type=int, default=371)
    parser.add_argument("--think", type=float, default=10.0, help="mean seconds between answers")
    parser.add_argument(
        "--arrival", type=float, default=10.0, help="seconds over which registrations arrive"
    )
    parser.add_argument("--ptb-concurrent", type=int, default=1, help="PTB updates at once")
    parser.add_argument(
        "--ptb-persist-every", type=float, default=60.0, help="PTB persistence update_interval"
    )
    parser.add_argument("--only", choices=["lyttepost", "ptb"], default=None)
    asyncio.run(main(parser.parse_args()))

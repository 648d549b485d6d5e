"""Dialog latency: N simulated chief executives answer the survey at once, through Telegram.

Runs the real ``lyttepost run`` process against the Bot API stand-in (no flood limits
on the stand-in: Telegram's own pacing is not counted). Each respondent registers with
its code, presses "Start" on the invitation and answers the whole survey, waiting a
random think time between answers. Latency is from the moment an update is available
in getUpdates to the moment the bot's first reply (message or edit) reaches the
stand-in. Prints p50/p95/p99 for registrations and answers, the bot process's CPU time
per event in each phase (user + system time from /proc over the events handled; the
phase also pays for the bot's background loops and, while answering, the invitations)
and its RSS.

    .venv/bin/python bench/dialog_latency.py [--respondents 371] [--think 1.5] [--arrival 10]
        [--database-url URL] [--profile FILE.svg]

``--arrival S`` spreads the registrations evenly over S seconds (0: all at once).
``--profile`` records the bot process with py-spy (must be installed) while it works.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.console_session import choose_answer  # noqa: E402
from tests.e2e_support import Deployment  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402

NEED = "Vi trenger felles digitale løsninger og mer kapasitet i helse og omsorg."


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (fields 14 and 15 of /proc/pid/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds of the event loop's thread and of all other threads together."""
    main = others = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if task.name == str(pid):
            main += seconds
        else:
            others += seconds
    return {"event_loop": round(main, 1), "other_threads": round(others, 1)}


def rss_kib(pid: int) -> dict[str, int]:
    """Current and peak resident memory of a process, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


class Respondent:
    """One chat answering the survey like a person: buttons where there are buttons."""

    def __init__(
        self, api: TelegramStandIn, chat_id: int, code: str, think: float, rng: random.Random
    ) -> None:
        self.api, self.chat_id, self.code, self.think, self.rng = api, chat_id, code, think, rng
        self.latencies: list[float] = []

    async def act(self, action) -> None:
        since = time.monotonic()
        action()
        replied = await self.api.wait_for_change(self.chat_id, since, within=60)
        self.latencies.append(replied - since)

    def last_with_buttons(self):
        return next(m for m in reversed(self.api.messages_for(self.chat_id)) if m.buttons)

    def press(self, message, data: str):
        return lambda: self.api.user_presses(self.chat_id, message.message_id, data)

    async def register(self, delay: float = 0.0) -> None:
        await asyncio.sleep(delay)
        await self.act(lambda: self.api.user_sends_text(self.chat_id, f"/start {self.code}"))

    async def answer_survey(self) -> bool:
        invitation = await self.api.wait_for_message(
            self.chat_id,
            lambda m: any(d.startswith("r:") for row in m.buttons for _, d in row),
            timeout=120,
        )
        start = next(d for row in invitation.buttons for _, d in row if d.startswith("r:"))
        await self.pause()
        await self.act(self.press(invitation, start))
        for _ in range(60):
            await self.pause()
            message = self.last_with_buttons()
            buttons = [b for row in message.buttons for b in row]
            if any(d == "c:submit" for _, d in buttons):
                await self.act(self.press(message, "c:submit"))
                return True
            payload = choose_answer(buttons, self.rng.choice)
            if payload is None:
                await self.act(lambda: self.api.user_sends_text(self.chat_id, NEED))
            else:
                await self.act(self.press(message, payload))
        return False

    async def pause(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.3 * self.think, 1.7 * self.think))


def latency_summary(latencies: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max in milliseconds, as every latency bench prints them."""
    return {
        "p50": round(percentile(latencies, 0.50) * 1000, 1),
        "p95": round(percentile(latencies, 0.95) * 1000, 1),
        "p99": round(percentile(latencies, 0.99) * 1000, 1),
        "mean": round(statistics.fmean(latencies) * 1000, 1),
        "max": round(max(latencies) * 1000, 1),
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """One whole load against a fresh deployment; the figures as printed (bench/ptb_reference.py
    runs it beside its reference bot)."""
    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-bench-"))
    async with TelegramStandIn() as api:
        url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        deployment = Deployment(
            database_url=url,
            api_base_url=api.base_url,
            workdir=workdir,
            extra_env={"LOG_LEVEL": "WARNING", **dict(kv.split("=", 1) for kv in args.env)},
            command_prefix=[sys.executable, "-m", "cProfile", "-o", args.cprofile]
            if args.cprofile
            else [],
        )
        await asyncio.to_thread(deployment.cli, "db", "upgrade")
        members = await asyncio.to_thread(deployment.cli_json, "members", "list")
        chosen = members[: args.respondents]
        with (workdir / "contacts.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["org", "name", "role", "email"])
            for member in chosen:
                writer.writerow([member["org"], f"Leder {member['org']}", "kommunedirektor", ""])
        await asyncio.to_thread(deployment.cli, "contacts", "import", str(workdir / "contacts.csv"))
        invites = await asyncio.to_thread(deployment.cli_json, "invites", "create", "--all-pending")
        await asyncio.to_thread(deployment.start)
        rng = random.Random(7)
        respondents = [
            Respondent(api, 100_000 + i, invite["code"], args.think, random.Random(rng.random()))
            for i, invite in enumerate(invites)
        ]
        assert deployment.process is not None
        pid = deployment.process.pid
        profiler = None
        if args.profile:
            py_spy = Path(sys.executable).parent / "py-spy"
            profiler = subprocess.Popen(  # noqa: ASYNC220 - started once, before the load
                [str(py_spy) if py_spy.exists() else "py-spy", "record", "--pid", str(pid), "--output", args.profile, "--format",
                 "speedscope" if args.profile.endswith(".json") else "flamegraph", "--rate", "200"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        await asyncio.sleep(2)  # let start-up work settle before counting CPU
        print(f"{len(respondents)} respondents registering ...", file=sys.stderr)
        cpu_before = cpu_seconds(pid)
        spacing = args.arrival / max(1, len(respondents))
        await asyncio.gather(*(r.register(i * spacing) for i, r in enumerate(respondents)))
        registration_cpu = cpu_seconds(pid) - cpu_before
        registration_latencies = [value for r in respondents for value in r.latencies]
        for respondent in respondents:
            respondent.latencies = []
        orgs = ",".join(m["org"] for m in chosen)
        closes = time.strftime("%Y-%m-%d", time.localtime(time.time() + 14 * 86400))
        started = time.monotonic()
        cpu_before = cpu_seconds(pid)
        await asyncio.to_thread(
            deployment.cli,
            "rounds",
            "create",
            "--survey",
            "kvartalsvis-behov",
            "--closes",
            closes,
            "--orgs",
            orgs,
        )
        print("round open; answering ...", file=sys.stderr)
        tasks = [asyncio.create_task(r.answer_survey()) for r in respondents]
        while not all(t.done() for t in tasks):
            await asyncio.sleep(10)
            done = sum(1 for r in respondents if r.latencies and len(r.latencies) > 14)
            print(
                f"  {time.monotonic() - started:5.0f}s: {sum(t.done() for t in tasks)} finished, {done} past question 13",
                file=sys.stderr,
            )
        finished = [t.result() for t in tasks]
        wall = time.monotonic() - started
        answering_cpu = cpu_seconds(pid) - cpu_before
        memory = rss_kib(pid)
        threads = thread_cpu_seconds(pid)
        if profiler is not None:
            profiler.send_signal(2)
            profiler.wait(timeout=60)
        deployment.stop()
    latencies = [value for r in respondents for value in r.latencies]
    everything = registration_latencies + latencies
    result = {
        "respondents": len(respondents),
        "submitted": sum(finished),
        "replies_measured": len(everything),
        "think_time_mean_s": args.think,
        "arrival_s": args.arrival,
        "database": url.split(":")[0],
        "cpus": os.cpu_count(),
        "latency_ms": latency_summary(everything),
        "registration_latency_ms": latency_summary(registration_latencies),
        "answer_latency_ms": latency_summary(latencies),
        "cpu_ms_per_registration": round(registration_cpu * 1000 / len(registration_latencies), 2),
        "cpu_ms_per_answer": round(answering_cpu * 1000 / max(1, len(latencies)), 2),
        "bot_cpu_s_by_thread": threads,
        "bot_rss_mib": round(memory.get("VmRSS", 0) / 1024, 1),
        "bot_peak_rss_mib": round(memory.get("VmHWM", 0) / 1024, 1),
        "wall_s": round(wall, 1),
    }
    return result


async def main(args: argparse.Namespace) -> None:
    print(json.dumps(await run(args), indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--respondents", type=int, default=371)
    parser.add_argument("--think", type=float, default=1.5, help="mean seconds between answers")
    parser.add_argument(
        "--arrival", type=float, default=0.0, help="seconds over which registrations arrive"
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--profile", default=None, help="py-spy output (.svg or .json)")
    parser.add_argument(
        "--cprofile", default=None, help="run the bot under cProfile (its main thread) into FILE"
    )
    parser.add_argument(
        "--env", action="append", default=[], help="extra NAME=VALUE for the bot process"
    )
    asyncio.run(main(parser.parse_args()))

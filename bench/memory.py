"""Memory of the two processes issue 16 puts a ceiling on (200 MB RSS each).

A. ``lyttepost run`` on SQLite against the Telegram stand-in (no flood limits, the
   bot's own pace lifted with SEND_RATE_PER_SECOND so the run stays short): RSS right
   after start, with nothing to do; then with ``--contacts`` contacts (default 5,000,
   spread over the 371 members as ``bench/broadcast.py`` does, each with its own chat as
   if they had redeemed their codes); then while a round opened to all members is
   inviting every one of them (the sender holds the invitations), and once the last
   invitation has arrived. RSS and its peak (VmRSS, VmHWM) come from /proc.
B. ``lyttepost report build`` as its own process for the synthetic round of
   ``bench/report.py`` (371 submitted responses, ``tests/report_fixtures.py``): its peak
   RSS, as the kernel reports it when the process ends (``wait4``'s ``ru_maxrss``), for
   each of ``--report-runs`` builds (the figure varies by some MB from run to run).

    .venv/bin/python bench/memory.py [--contacts 5000] [--only run|report] [--report-runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.broadcast import bind_recipients  # noqa: E402
from bench.dialog_latency import rss_kib  # noqa: E402
from tests.e2e_support import Deployment, lyttepost_command  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402

GOAL_MIB = round(200e6 / 2**20, 1)  # the 200 MB; figures here are in MiB
FIRST_CHAT = 700_000


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def mib(memory: dict[str, int]) -> dict[str, float]:
    return {
        "rss_mib": round(memory.get("VmRSS", 0) / 1024, 1),
        "peak_rss_mib": round(memory.get("VmHWM", 0) / 1024, 1),
    }


async def run_process(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-bench-memory-"))
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    result: dict[str, Any] = {"database": "sqlite", "workdir": str(workdir)}
    async with TelegramStandIn() as api:
        deployment = Deployment(
            database_url=url,
            api_base_url=api.base_url,
            workdir=workdir,
            extra_env={"LOG_LEVEL": "WARNING", "SEND_RATE_PER_SECOND": "1000"},
        )
        await asyncio.to_thread(deployment.cli, "db", "upgrade")
        members = await asyncio.to_thread(deployment.cli_json, "members", "list")
        await asyncio.to_thread(deployment.start)
        assert deployment.process is not None
        pid = deployment.process.pid
        try:
            await asyncio.sleep(args.settle)
            result["idle_after_start"] = mib(rss_kib(pid))
            progress(f"idle: {result['idle_after_start']}")

            chats = await bind_recipients(url, len(members), args.contacts)
            result["contacts"] = len(chats)
            await asyncio.sleep(args.settle)
            result["with_contacts"] = mib(rss_kib(pid))
            progress(f"{len(chats)} contacts: {result['with_contacts']}")

            closes = (date.today() + timedelta(days=14)).isoformat()
            started = time.monotonic()
            await asyncio.to_thread(
                deployment.cli, "rounds", "create", "--survey", "kvartalsvis-behov",
                "--closes", closes,
            )  # fmt: skip
            progress("round open to all; waiting for the invitations ...")
            highest = 0
            sent = quiet_since = 0
            while time.monotonic() - quiet_since < args.quiet or sent == 0:
                await asyncio.sleep(0.5)
                highest = max(highest, rss_kib(pid).get("VmRSS", 0))
                now_sent = len(api.calls_to("sendMessage"))
                if now_sent != sent:
                    sent, quiet_since = now_sent, time.monotonic()
                if time.monotonic() - started > args.timeout:
                    break
            invitations = mib(rss_kib(pid))
            result["invitations"] = {
                "messages_sent": sent,
                "seconds": round(quiet_since - started, 1),
                "highest_sampled_rss_mib": round(highest / 1024, 1),
                "after_last": invitations,
            }
            progress(f"{sent} invitations: {result['invitations']}")
        finally:
            deployment.stop()
    result["within_goal"] = result["invitations"]["after_last"]["peak_rss_mib"] <= GOAL_MIB
    return result


def peak_of(command: list[str], env: dict[str, str], cwd: Path) -> tuple[str, Any]:
    """Run a command to its end; its stdout and its own resource usage (``wait4``: the
    peak RSS of this process alone, not of every child this bench has waited for)."""
    with (cwd / "out.txt").open("w+") as out, (cwd / "err.txt").open("w+") as err:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err,
                                   stdin=subprocess.DEVNULL)  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command[-6:])} failed:\n{out.read()}\n{err.read()}")
        return out.read(), usage


async def report_process(args: argparse.Namespace) -> dict[str, Any]:
    from storage.db import create_engine, session_factory
    from storage.migrate import prepare_database
    from tests.report_fixtures import generate_answers, member_facts, seed_report_round

    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-bench-memory-report-"))
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await prepare_database(url)
    answers = generate_answers([org.code for org in member_facts()])
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            round_id = await seed_report_round(session, answers)
    finally:
        await engine.dispose()
    deployment = Deployment(
        database_url=url, api_base_url="http://127.0.0.1:9", workdir=workdir,
        extra_env={"LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    peaks, seconds, files = [], [], 0
    for run in range(1, args.report_runs + 1):
        progress(f"report build {run} for round {round_id} ({len(answers)} responses) ...")
        started = time.perf_counter()
        command = [*lyttepost_command(), "report", "build", str(round_id), "--out",
                   str(workdir / f"out-{run}"), "--json"]  # fmt: skip
        stdout, usage = await asyncio.to_thread(peak_of, command, deployment.env(), workdir)
        seconds.append(round(time.perf_counter() - started, 2))
        files = len(json.loads(stdout)["files"])
        peaks.append(round(usage.ru_maxrss / 1024, 1))
    return {
        "database": "sqlite",
        "responses_submitted": len(answers),
        "files": files,
        "seconds": seconds,
        "peak_rss_mib": peaks,
        "highest_peak_rss_mib": max(peaks),
        "within_goal": max(peaks) <= GOAL_MIB,
    }


async def main(args: argparse.Namespace) -> None:
    result: dict[str, Any] = {"goal_mib": GOAL_MIB, "cpus": os.cpu_count()}
    if args.only in (None, "run"):
        result["run"] = await run_process(args)
    if args.only in (None, "report"):
        result["report_build"] = await report_process(args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--only", choices=("run", "report"), default=None)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before reading RSS")
    parser.add_argument(
        "--quiet", type=float, default=10.0, help="invitations are done after this long without one"
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--report-runs", type=int, default=3, help="report builds to measure")
    asyncio.run(main(parser.parse_args()))

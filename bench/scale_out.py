"""Scale-out: Telegram webhook mode on PostgreSQL with 1, 2 and 4 ``lyttepost run`` processes.

Why: several processes on one database is how Lyttepost grows past one core, so the bench
asks whether events per second grow with the processes and whether every event is still
processed once and in order per chat when a chat's updates land on different processes.

Per configuration (N processes) the bench creates a fresh PostgreSQL database, imports
one contact per member (371 by default), creates their invitation codes and starts N
``lyttepost run`` processes (each its own HTTP_PORT, Telegram's pace lifted). Telegram
knows one webhook URL only, so every process sets TELEGRAM_WEBHOOK_URL to a small
round-robin proxy in the bench (a load balancer's part), which passes each POST, secret
header and all, to the next process. The Bot API stand-in from ``tests/`` pushes the
updates to that URL as Telegram does (concurrently, retrying on a non-2xx answer).

1. Registration: every chat sends ``/start CODE`` at once.
2. A round opens (``rounds create``); once every chat has its invitation, the saturation
   window starts: every chat presses Start and answers question after question with no
   think time (a closed loop: the next answer goes as soon as the reply to the previous
   one arrived), for ``--seconds``. With 371 chats in flight the processes always have
   more work queued than they can do, so events processed per second is their capacity.
3. Burst: ``--burst-chats`` chats each send ``--burst`` ``/status`` messages back to
   back, without waiting, so one chat's updates are pushed concurrently and the proxy
   hands them to different processes: the case where per-chat order can break.

Then, from the database: every offered update recorded exactly once (``inbound_events``,
keyed by update id), processed (``processed_at`` set, no ``error``), and per chat in
update order. ``processed_at`` is stamped when a process claims the event, so it orders
the processing: of two consecutive updates of a chat, the later one was "in flight
together" with the earlier when it was recorded before the earlier was claimed (only
then can their order break), and is "out of order" when it was claimed first. Counted
for the registration and survey events (sequential per chat, except where a respondent
acts on a reply before all of it arrived) and for the burst separately.

Figures per N: events offered and processed; events/s at saturation (``processed_at``
stamps in the window after ``--warmup`` seconds; also replies per second at the
stand-in); p50/p95/p99 of update→reply latency on the stand-in's clock (update queued →
first message or edit in that chat); duplicates, missing, unprocessed, out of order;
CPU seconds of the bot processes and of this bench (stand-in, proxy and respondents
share the machine), the machine's busy share, and ``os.cpu_count()``. The top-level
``curve`` lists the headline figures per N. Progress goes to stderr, one JSON document
to stdout. Each database is ``lyttepost_bench_<pid>_<N>`` on ``--server``, dropped at
the end unless ``--keep``.

    .venv/bin/python bench/scale_out.py [--processes 1 2 4] [--seconds 60] [--warmup 15] [--respondents 371]
        [--burst-chats 100] [--burst 4] [--server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dialog_latency import Respondent, cpu_seconds, latency_summary  # noqa: E402
from tests.e2e_support import Deployment, free_port  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402

SECRET = "scale_out-bench-secret"
HOOK_PATH = "/telegram/webhook"
FIRST_CHAT = 100_000
SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
LIFTED_PACE = {
    "SEND_RATE_PER_SECOND": "1000",
    "SEND_CHAT_RATE_PER_SECOND": "1000",
    "SEND_CHAT_BURST": "1000",
}
BEGAN = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - BEGAN:7.1f}s] {message}", file=sys.stderr, flush=True)


class Stop(Exception):
    """The saturation window is over: the respondent sends nothing more."""


class LoopRespondent(Respondent):
    """A respondent with no think time that stops at a deadline and remembers what it sent.

    ``answer_survey`` pauses before every action; the pause is where the deadline is
    checked, so an action in flight always gets its reply before the respondent stops.
    """

    def __init__(self, api: TelegramStandIn, chat_id: int, code: str, rng: random.Random) -> None:
        super().__init__(api, chat_id, code, 0.0, rng)
        self.deadline = float("inf")
        self.settle = 0.15  # seconds without a change that end a reply
        self.sent: list[int] = []  # update ids, in the order sent
        self.replies: list[tuple[float, float]] = []  # (sent at, replied at), monotonic
        self.walls: dict[int, tuple[float, float]] = {}  # update id: (sent, replied), epoch s

    async def act(self, action) -> None:  # type: ignore[no-untyped-def]
        since, wall = time.monotonic(), time.time()
        update_id = action()
        self.sent.append(update_id)
        replied = await self.api.wait_for_change(self.chat_id, since, within=120)
        self.latencies.append(replied - since)
        self.replies.append((since, replied))
        self.walls[update_id] = (wall, wall + replied - since)
        # A reply is often an edit and a new question: act on the whole of it, not on its
        # first part (the next answer would then overtake the event still in progress).
        last = replied
        for _ in range(20):
            try:
                last = await self.api.wait_for_change(self.chat_id, last, within=self.settle)
            except TimeoutError:
                break

    async def pause(self) -> None:
        if time.monotonic() >= self.deadline:
            raise Stop
        await asyncio.sleep(0)


class RoundRobinProxy:
    """What a load balancer in front of the processes does: each webhook POST goes to the
    next process in turn, body and secret header unchanged, its answer passed back (a
    process that cannot be reached gives 502, so the stand-in retries like Telegram)."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.turn = 0
        self.forwarded: Counter[int] = Counter()
        self.statuses: Counter[int] = Counter()
        self.port = free_port()
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(HOOK_PATH, self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._client = ClientSession(
            timeout=ClientTimeout(total=60), connector=TCPConnector(limit=0)
        )

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        index = self.turn % len(self.backends)
        self.turn += 1
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() in ("content-type", "x-telegram-bot-api-secret-token")
        }
        try:
            async with self._client.post(
                self.backends[index], data=await request.read(), headers=headers
            ) as answer:
                body, status = await answer.read(), answer.status
        except (ClientError, TimeoutError):
            body, status = b"bad gateway", 502
        self.forwarded[index] += 1
        self.statuses[status] += 1
        return web.Response(status=status, body=body)


# --- the database -------------------------------------------------------------------------


async def admin_sql(server_url: str, statement: str) -> None:
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


Row = tuple[str, int, datetime, datetime | None, str | None]


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


async def inbound_rows(url: str) -> list[Row]:
    """(chat address, update id, received_at, processed_at, error) of every Telegram
    event, times as aware UTC."""
    from sqlalchemy import select

    from storage.db import create_engine
    from storage.orm import InboundEvent

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(
                        InboundEvent.address,
                        InboundEvent.update_key,
                        InboundEvent.received_at,
                        InboundEvent.processed_at,
                        InboundEvent.error,
                    ).where(InboundEvent.channel == "telegram")
                )
            ).all()
    finally:
        await engine.dispose()
    return [
        (address, int(key), _aware(received) or received, _aware(processed), error)
        for address, key, received, processed, error in rows
    ]


async def wait_processed(url: str, offered: int, limit: float = 180.0) -> None:
    """Until every offered update is recorded and processed, or ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while True:
        rows = await inbound_rows(url)
        pending = sum(1 for row in rows if row[3] is None)
        if (len(rows) >= offered and pending == 0) or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.5)


def check(rows: list[Row], offered: dict[int, list[int]]) -> dict[str, Any]:
    """Once, processed, in order: compared with what the bench sent, chat by chat.

    Of two consecutive updates of a chat (by update id), the later one "overlaps" when it
    was recorded before the earlier one was claimed (both in flight at once: only then can
    their order break), and is "out of order" when it was claimed first.
    """
    sent = {(str(chat), key) for chat, keys in offered.items() for key in keys}
    rows = [row for row in rows if (row[0], row[1]) in sent]
    keys = Counter((row[0], row[1]) for row in rows)
    by_chat: dict[str, list[tuple[int, datetime, datetime]]] = defaultdict(list)
    for address, key, received, processed, _ in rows:
        if processed is not None:
            by_chat[address].append((key, received, processed))
    overlapping = out_of_order = chats_out_of_order = 0
    for events in by_chat.values():
        events.sort()
        pairs = list(zip(events, events[1:], strict=False))
        overlapping += sum(1 for earlier, later in pairs if later[1] < earlier[2])
        late = sum(1 for earlier, later in pairs if later[2] < earlier[2])
        out_of_order += late
        chats_out_of_order += bool(late)
    return {
        "offered": len(sent),
        "recorded": len(keys),
        "duplicates": sum(n - 1 for n in keys.values() if n > 1),
        "missing": len(sent - set(keys)),
        "unprocessed": sum(1 for row in rows if row[3] is None),
        "failed": sum(1 for row in rows if row[4]),
        "pairs_in_flight_together": overlapping,
        "out_of_order_pairs": out_of_order,
        "chats_out_of_order": chats_out_of_order,
    }


# --- measuring ----------------------------------------------------------------------------


def postgres_cpu_seconds() -> float:
    """CPU time of the PostgreSQL server so far: every ``postgres`` process's own time plus
    its reaped children's (the postmaster collects the time of backends that have ended,
    so connections opened and closed during the window are counted too). The whole
    server: other databases' work on it is included."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, rest = stat.read_text().rpartition(")")
        except OSError:
            continue  # ended meanwhile
        if head.endswith("(postgres"):
            fields = rest.split()
            ticks += sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def breakdown(respondents: list[LoopRespondent], rows: list[Row]) -> dict[str, float] | None:
    """Median of each leg of update→reply for the events sent in the window: the stand-in's
    push through the proxy until the row is recorded, recorded until a process claims it
    (waiting in a process's queue), and claimed until the first reply reaches the
    stand-in (handling, commit, outbox, send)."""
    by_key = {(row[0], row[1]): row for row in rows}
    legs: dict[str, list[float]] = defaultdict(list)
    for respondent in respondents:
        for update_id, (sent, replied) in respondent.walls.items():
            row = by_key.get((str(respondent.chat_id), update_id))
            if row is None or row[3] is None:
                continue
            legs["to_recorded"].append(row[2].timestamp() - sent)
            legs["recorded_to_claimed"].append((row[3] - row[2]).total_seconds())
            legs["claimed_to_reply"].append(replied - row[3].timestamp())
    if not legs:
        return None
    return {leg: round(statistics.median(values) * 1000, 1) for leg, values in legs.items()}


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def log_problems(paths: list[Path]) -> dict[str, int]:
    """WARNING-and-worse lines of the bot logs, digits folded, most frequent first."""
    found: Counter[str] = Counter()
    pattern = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) (.*)$")
    for path in paths:
        for line in path.read_text(errors="replace").splitlines() if path.exists() else ():
            match = pattern.match(line)
            if match:
                found[f"{match.group(1)} {re.sub(r'[0-9]+', 'N', match.group(2))[:160]}"] += 1
    return dict(found.most_common(10))


async def run_configuration(args: argparse.Namespace, processes: int) -> dict[str, Any]:
    name = f"lyttepost_bench_{os.getpid()}_{processes}"
    server = args.server
    url = re.sub(r"/[^/]*$", f"/{name}", server)
    workdir = Path(tempfile.mkdtemp(prefix=f"lyttepost-bench-scale-{processes}-"))
    await admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin_sql(server, f'CREATE DATABASE "{name}"')
    progress(f"N={processes}: database {name}, workdir {workdir}")
    deployments: list[Deployment] = []
    proxy: RoundRobinProxy | None = None
    try:
        async with TelegramStandIn() as api:
            extra = {
                "LOG_LEVEL": "WARNING",
                **LIFTED_PACE,
                **dict(kv.split("=", 1) for kv in args.env),
            }
            for index in range(processes):
                home = workdir / f"process-{index + 1}"
                home.mkdir()
                deployments.append(
                    Deployment(
                        database_url=url,
                        api_base_url=api.base_url,
                        workdir=home,
                        extra_env=dict(extra),
                    )
                )
            proxy = RoundRobinProxy(
                [f"http://127.0.0.1:{d.http_port}{HOOK_PATH}" for d in deployments]
            )
            await proxy.start()
            for deployment in deployments:
                deployment.extra_env.update(
                    TELEGRAM_WEBHOOK_URL=proxy.url, TELEGRAM_WEBHOOK_SECRET=SECRET
                )
            admin = deployments[0]
            await asyncio.to_thread(admin.cli, "db", "upgrade")
            members = await asyncio.to_thread(admin.cli_json, "members", "list")
            chosen = members[: args.respondents]
            with (workdir / "contacts.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["org", "name", "role", "email"])
                for member in chosen:
                    writer.writerow(
                        [member["org"], f"Leder {member['org']}", "kommunedirektor", ""]
                    )
            await asyncio.to_thread(admin.cli, "contacts", "import", str(workdir / "contacts.csv"))
            invites = await asyncio.to_thread(admin.cli_json, "invites", "create", "--all-pending")
            for deployment in deployments:
                await asyncio.to_thread(deployment.start)
            await api.wait_until(lambda: api.webhook_url == proxy.url, timeout=30)
            pids = [d.process.pid for d in deployments if d.process is not None]
            progress(f"N={processes}: {len(pids)} processes up behind {proxy.url}")
            rng = random.Random(7)
            respondents = [
                LoopRespondent(api, FIRST_CHAT + i, invite["code"], random.Random(rng.random()))
                for i, invite in enumerate(invites)
            ]

            # 1. Registration, all at once.
            started = time.monotonic()
            await asyncio.gather(*(r.register() for r in respondents))
            registration_s = time.monotonic() - started
            registration = [value for r in respondents for value in r.latencies]
            progress(f"N={processes}: {len(respondents)} registered in {registration_s:.1f} s")

            # 2. Saturation: answering in a closed loop without think time.
            closes = time.strftime("%Y-%m-%d", time.localtime(time.time() + 14 * 86400))
            orgs = ",".join(m["org"] for m in chosen)
            await asyncio.to_thread(
                admin.cli, "rounds", "create", "--survey", args.survey, "--closes", closes,
                "--orgs", orgs,
            )  # fmt: skip
            await asyncio.gather(
                *(
                    api.wait_for_message(
                        r.chat_id,
                        lambda m: any(d.startswith("r:") for row in m.buttons for _, d in row),
                        timeout=120,
                    )
                    for r in respondents
                )
            )
            progress(f"N={processes}: invitations in; answering for {args.seconds:.0f} s")
            await asyncio.sleep(1)  # let the invitations' bookkeeping settle
            for r in respondents:
                r.latencies, r.replies, r.walls = [], [], {}
            cpu_before = {pid: cpu_seconds(pid) for pid in pids}
            db_cpu_before = postgres_cpu_seconds()
            bench_cpu_before = cpu_seconds(os.getpid())
            ticks_before = machine_ticks()
            window_start = time.monotonic()
            wall_start = datetime.now(UTC)
            deadline = window_start + args.seconds
            for r in respondents:
                r.deadline = deadline

            async def answer(respondent: LoopRespondent) -> str:
                try:
                    return "submitted" if await respondent.answer_survey() else "gave up"
                except Stop:
                    return "stopped"
                except TimeoutError:
                    return "no reply"

            tasks = [asyncio.create_task(answer(r)) for r in respondents]
            while time.monotonic() < deadline:
                await asyncio.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
                done = sum(len(r.replies) for r in respondents)
                progress(f"  {time.monotonic() - window_start:5.1f}s: {done} replies")
            window_end = time.monotonic()
            wall_end = datetime.now(UTC)
            cpu = {pid: cpu_seconds(pid) - cpu_before[pid] for pid in pids}
            db_cpu = postgres_cpu_seconds() - db_cpu_before
            bench_cpu = cpu_seconds(os.getpid()) - bench_cpu_before
            ticks_after = machine_ticks()
            outcomes = Counter(await asyncio.gather(*tasks))
            survey_offered = sum(len(r.sent) for r in respondents) - len(respondents)

            # 3. Burst: one chat's updates in flight together.
            burst_chats = respondents[: args.burst_chats]
            burst_ids: dict[int, list[int]] = {
                r.chat_id: [api.user_sends_text(r.chat_id, "/status") for _ in range(args.burst)]
                for r in burst_chats
            }
            offered: dict[int, list[int]] = {
                r.chat_id: r.sent + burst_ids.get(r.chat_id, []) for r in respondents
            }
            total = sum(len(v) for v in offered.values())
            progress(f"N={processes}: burst sent; waiting until {total} events are processed")
            await wait_processed(url, total)
            rows = await inbound_rows(url)
            alive = sum(1 for d in deployments if d.process and d.process.poll() is None)
    finally:
        for deployment in deployments:
            await asyncio.to_thread(deployment.stop)
        if proxy is not None:
            await proxy.stop()
        if not args.keep:
            await admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    measured = window_end - window_start - args.warmup
    counted_from = window_start + args.warmup
    replies_in_window = sum(
        1 for r in respondents for _, at in r.replies if counted_from <= at <= window_end
    )
    wall_from = wall_start.timestamp() + args.warmup
    stamped_in_window = sum(
        1
        for row in rows
        if row[3] is not None and wall_from <= row[3].timestamp() <= wall_end.timestamp()
    )
    stamped_whole_window = sum(
        1 for row in rows if row[3] is not None and wall_start <= row[3] <= wall_end
    )
    in_window = [
        value
        for r in respondents
        for (sent, _), value in zip(r.replies, r.latencies, strict=True)
        if sent <= window_end
    ]
    busy = ticks_after[0] - ticks_before[0]
    all_ticks = ticks_after[1] - ticks_before[1]
    survey_ids = {r.chat_id: r.sent for r in respondents}
    bot_cpu = sum(cpu.values())
    return {
        "processes": processes,
        "processes_alive_at_end": alive,
        "chats": len(respondents),
        "registration": {
            "events": len(registration),
            "wall_s": round(registration_s, 2),
            "events_per_s": round(len(registration) / registration_s, 1),
            "latency_ms": latency_summary(registration),
        },
        "saturation": {
            "window_s": round(window_end - window_start, 1),
            "warmup_s": args.warmup,
            "events_offered": survey_offered,
            "processed_in_window": stamped_in_window,
            "events_per_s": round(stamped_in_window / measured, 1),
            "replies_in_window": replies_in_window,
            "replies_per_s": round(replies_in_window / measured, 1),
            "latency_ms": latency_summary(in_window) if in_window else None,
            "chats_ended": dict(outcomes),
            "bot_cpu_s": round(bot_cpu, 1),
            "bot_cpu_s_per_process": [round(v, 1) for v in cpu.values()],
            "bot_cpu_ms_per_event": round(bot_cpu * 1000 / max(1, stamped_whole_window), 2),
            "postgres_cpu_s": round(db_cpu, 1),
            "postgres_cpu_ms_per_event": round(db_cpu * 1000 / max(1, stamped_whole_window), 2),
            "bench_cpu_s": round(bench_cpu, 1),
            "where_latency_goes_p50_ms": breakdown(respondents, rows),
            "machine_busy_share": round(busy / all_ticks, 3) if all_ticks else None,
        },
        "correctness": {
            "all_events": check(rows, offered),
            "registration_and_survey": check(rows, survey_ids),
            "burst": {
                "chats": len(burst_ids),
                "updates_per_chat": args.burst,
                **check(rows, burst_ids),
            },
        },
        "proxy": {
            "forwarded_per_process": [proxy.forwarded[i] for i in range(processes)]
            if proxy
            else [],
            "statuses": {str(k): v for k, v in (proxy.statuses if proxy else {}).items()},
        },
        "bot_log_problems": log_problems([d.workdir / "run.log" for d in deployments]),
        "database": url.rsplit("/", 1)[0] + "/" + name,
    }


async def main(args: argparse.Namespace) -> None:
    curve = []
    for processes in args.processes:
        curve.append(await run_configuration(args, processes))
        figures = curve[-1]["saturation"]
        progress(
            f"N={processes}: {figures['events_per_s']} events/s, "
            f"p95 {figures['latency_ms'] and figures['latency_ms']['p95']} ms"
        )
    result = {
        "cpus": os.cpu_count(),
        "mode": "telegram webhook via a round-robin proxy, PostgreSQL",
        "pace": LIFTED_PACE,
        "survey": args.survey,
        "seconds": args.seconds,
        "curve": [
            {
                "processes": c["processes"],
                "events_offered": c["correctness"]["all_events"]["offered"],
                "events_processed": c["correctness"]["all_events"]["recorded"]
                - c["correctness"]["all_events"]["unprocessed"],
                "events_per_s": c["saturation"]["events_per_s"],
                "replies_per_s": c["saturation"]["replies_per_s"],
                "p50_ms": c["saturation"]["latency_ms"] and c["saturation"]["latency_ms"]["p50"],
                "p95_ms": c["saturation"]["latency_ms"] and c["saturation"]["latency_ms"]["p95"],
                "duplicates": c["correctness"]["all_events"]["duplicates"],
                "missing": c["correctness"]["all_events"]["missing"],
                "unprocessed": c["correctness"]["all_events"]["unprocessed"],
                "out_of_order": c["correctness"]["all_events"]["out_of_order_pairs"],
                "out_of_order_in_survey": c["correctness"]["registration_and_survey"][
                    "out_of_order_pairs"
                ],
                "out_of_order_in_burst": c["correctness"]["burst"]["out_of_order_pairs"],
                "bot_cpu_ms_per_event": c["saturation"]["bot_cpu_ms_per_event"],
                "machine_busy_share": c["saturation"]["machine_busy_share"],
            }
            for c in curve
        ],
        "configurations": curve,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=60.0, help="saturation window")
    parser.add_argument(
        "--warmup", type=float, default=15.0, help="first seconds of the window not counted"
    )
    parser.add_argument("--respondents", type=int, default=371)
    parser.add_argument("--survey", default="kvartalsvis-behov")
    parser.add_argument("--burst-chats", type=int, default=100)
    parser.add_argument("--burst", type=int, default=4, help="/status messages per burst chat")
    parser.add_argument("--server", default=SERVER_URL, help="PostgreSQL server (any database)")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument(
        "--env", action="append", default=[], help="extra NAME=VALUE for the bot processes"
    )
    parsed = parser.parse_args()
    if min(parsed.processes) < 1 or parsed.seconds <= parsed.warmup:
        parser.error("--processes must be at least 1 and --seconds longer than --warmup")
    asyncio.run(main(parsed))

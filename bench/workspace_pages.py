"""Time per workspace page and per API call at full size, as a browser and Power BI see it.

The database is filled as ``bench/workspace_queries.py`` fills it (371 organisations, 900
contacts, 10 rounds, 3,000 needs, publications, tags); then the real ``lyttepost run``
(SQLite, no chat channel, no scheduler) serves it, an admin signs in through a single-use
link, and each page and API call is fetched ``--runs`` times over loopback, one after the
other. The time is from sending the request to the last byte of the answer: the server's
work (queries, templates) plus loopback, which is well under a millisecond here.

    .venv/bin/python bench/workspace_pages.py [--runs 30]

A table goes to stderr, one JSON document to stdout. The goal (issue 12): p95 ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.workspace_queries import GOAL_MS, percentile, seed, tag_some  # noqa: E402
from services import staff_access  # noqa: E402
from services.staff import add_staff  # noqa: E402
from services.surveys import SurveyCatalog  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.migrate import prepare_database  # noqa: E402
from tests.e2e_support import free_port, lyttepost_command  # noqa: E402


async def prepare(url: str, base: str) -> tuple[dict[str, Any], str, str]:
    """Seed the database; an admin's login link and an API token."""
    await prepare_database(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        facts = await seed(session, random.Random(2031))
    facts["needs"] = await tag_some(sessions, SurveyCatalog(), random.Random(2031))
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        admin = await add_staff(session, "Bench Admin", "bench@ks.no", "admin", now)
        link, _ = await staff_access.issue_login_link(session, admin, now, base)
        token = await staff_access.issue(session, admin, "api", now, ttl=None)
    await engine.dispose()
    return facts, link, token.secret


def sign_in(client: httpx.Client, link: str) -> None:
    page = client.get(link)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no login form"
    answer = client.post(link, data={"csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.text


def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-bench-pages-"))
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    facts, link, api_token = asyncio.run(prepare(url, base))
    print(f"seeded in {time.perf_counter() - started:.1f} s: {facts}", file=sys.stderr)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TEAMS_"))}
    env.update(
        DATABASE_URL=url, HTTP_PORT=str(port), SCHEDULER_ENABLED="false", LOG_LEVEL="WARNING"
    )
    log = (workdir / "run.log").open("wb")
    server = subprocess.Popen([*lyttepost_command(), "run"], env=env, cwd=workdir,
                              stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(200):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            sign_in(client, link)
            open_round, closed = facts["open_round"], facts["closed_round"]
            pages = extra_pages(open_round, closed) + [
                "/?ar=2031", "/runder", f"/runder/{open_round}",
                f"/runder/{open_round}?tilstand=unreachable", f"/runder/{closed}",
                "/publiseringer", "/undersokelser", "/arsplan", "/ansatte", "/logg",
            ]  # fmt: skip
            api = [
                "/api/v1/rounds", f"/api/v1/rounds/{open_round}/progress",
                f"/api/v1/rounds/{closed}/responses", f"/api/v1/rounds/{closed}/summary",
            ]  # fmt: skip
            results: dict[str, dict[str, float]] = {}
            for path in pages + api:
                headers = (
                    {"Authorization": f"Bearer {api_token}"} if path.startswith("/api/") else {}
                )
                times = []
                for run in range(args.runs + 1):
                    began = time.perf_counter()
                    answer = client.get(path, headers=headers)
                    elapsed = (time.perf_counter() - began) * 1000
                    if answer.status_code != 200:
                        raise SystemExit(f"{path}: {answer.status_code}")
                    if run:
                        times.append(elapsed)
                results[path] = {
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(percentile(times, 0.95), 1),
                    "max_ms": round(max(times), 1),
                    "kb": round(len(answer.content) / 1024, 1),
                }
                print(f"{path:<48} p50 {results[path]['p50_ms']:>7.1f} ms   p95 "
                      f"{results[path]['p95_ms']:>7.1f} ms   {results[path]['kb']:>7.1f} kB",
                      file=sys.stderr)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    worst = max(r["p95_ms"] for r in results.values())
    print(json.dumps({
        "database": "sqlite", "runs": args.runs, "data": facts, "goal_p95_ms": GOAL_MS,
        "worst_p95_ms": worst, "within_goal": worst <= GOAL_MS, "pages": results,
    }, indent=2, ensure_ascii=False))  # fmt: skip


def extra_pages(open_round: int, closed: int) -> list[str]:
    """Pages added as the workspace grows (results, members)."""
    return [
        "/resultater",
        f"/resultater/{closed}",
        f"/resultater/{closed}/behov",
        f"/resultater/{closed}/behov?omrade=okonomi&haster=4",
        "/resultater/behov",
        "/resultater/behov?sok=kompetanse",
        "/medlemmer",
        "/medlemmer?fylke=46",
        "/medlemmer?uten=1",
        "/medlemmer/4601",
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    main(parser.parse_args())

"""Dialog latency on Microsoft Teams: N simulated chief executives answer the survey at once.

The Teams counterpart of ``bench/dialog_latency.py``: the real ``lyttepost run`` process
(Teams in local mode) against the Bot Connector stand-in from ``tests/``, with no limits
on the stand-in (Teams' own throttling is not counted; the bot still paces itself per
conversation). Each respondent opens the app, registers with its code, presses "Start"
on the invitation card and answers the whole survey on Adaptive Cards, waiting a random
think time between answers. Latency is from the moment the member's activity is posted
to the bot to the moment the bot's first reply (new message or card update) reaches the
stand-in. Prints p50/p95/p99 (all replies, the survey answers alone, and registration:
two steps per member here, all 371 at once) and the bot process's RSS.

Teams limits a bot's overall rate per app and tenant, and each member organisation is a
tenant of its own, so by default every respondent is in its own tenant; ``--tenants 1``
puts them all in one, where the bot's 30/s per tenant binds.

    .venv/bin/python bench/teams_latency.py [--respondents 371] [--think 10] [--arrival 10] [--tenants N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dialog_latency import latency_summary, rss_kib  # noqa: E402
from bot.console_session import choose_answer  # noqa: E402
from tests.e2e_support import Deployment  # noqa: E402
from tests.teams_standin import TeamsStandIn  # noqa: E402

NEED = "Vi trenger felles digitale løsninger og mer kapasitet i helse og omsorg."


class Respondent:
    """One Teams user answering like a person: card buttons where there are buttons."""

    def __init__(
        self, teams: TeamsStandIn, index: int, code: str, think: float, rng: random.Random
    ) -> None:
        self.teams, self.code, self.think, self.rng = teams, code, think, rng
        self.conversation = f"a:bench-{index}"
        self.user = f"29:bench-{index}"
        self.latencies: list[float] = []
        self.registration: list[float] = []  # opening the app and typing the code

    async def act(self, post, into: list[float] | None = None) -> None:
        since = time.monotonic()
        await post()
        replied = await self.teams.wait_for_change(self.conversation, since, within=120)
        (self.latencies if into is None else into).append(replied - since)

    def last_card(self):
        return next(m for m in reversed(self.teams.messages_for(self.conversation)) if m.actions)

    async def register(self, delay: float = 0.0) -> None:
        await asyncio.sleep(delay)
        await self.act(
            lambda: self.teams.install(self.conversation, user_id=self.user, name="Leder"),
            self.registration,
        )
        await self.act(
            lambda: self.teams.user_sends_text(self.conversation, self.code, user_id=self.user),
            self.registration,
        )

    async def answer_survey(self) -> bool:
        invitation = await self.teams.wait_for_activity(
            self.conversation, lambda m: any("Start" in t for t, _ in m.actions), timeout=300
        )
        await self.pause()
        start = invitation.action_data("Start")
        await self.act(lambda: self.teams.user_submits(self.conversation, start, user_id=self.user))
        for _ in range(60):
            await self.pause()
            pairs = [(title, data["payload"]) for title, data in self.last_card().actions]
            if any(p == "c:submit" for _, p in pairs):
                await self.act(
                    lambda: self.teams.user_submits(
                        self.conversation, {"payload": "c:submit"}, user_id=self.user
                    )
                )
                return True
            payload = choose_answer(pairs, self.rng.choice)
            if payload is None:
                await self.act(
                    lambda: self.teams.user_sends_text(self.conversation, NEED, user_id=self.user)
                )
            else:
                await self.act(
                    lambda p=payload: self.teams.user_submits(
                        self.conversation, {"payload": p}, user_id=self.user
                    )
                )
        return False

    async def pause(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.3 * self.think, 1.7 * self.think))


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-bench-teams-"))
    async with TeamsStandIn() as teams:
        url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        deployment = Deployment(
            database_url=url, api_base_url="http://127.0.0.1:9/bot", workdir=workdir,
            extra_env={"LOG_LEVEL": "WARNING", "TEAMS_ENABLED": "true", "TELEGRAM_BOT_TOKEN": "",
                       **dict(kv.split("=", 1) for kv in args.env)},
        )  # fmt: skip
        teams.bot_endpoint = f"http://127.0.0.1:{deployment.http_port}/api/messages"
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
            Respondent(teams, i, invite["code"], args.think, random.Random(rng.random()))
            for i, invite in enumerate(invites)
        ]
        tenants = args.tenants or len(respondents)
        for i, respondent in enumerate(respondents):  # each organisation its own tenant
            teams.set_tenant(respondent.conversation, f"tenant-{i % tenants}")
        print(f"{len(respondents)} respondents registering in Teams ...", file=sys.stderr)
        spacing = args.arrival / max(1, len(respondents))
        await asyncio.gather(*(r.register(i * spacing) for i, r in enumerate(respondents)))
        closes = time.strftime("%Y-%m-%d", time.localtime(time.time() + 14 * 86400))
        started = time.monotonic()
        orgs = ",".join(m["org"] for m in chosen)
        await asyncio.to_thread(
            deployment.cli, "rounds", "create", "--survey", "kvartalsvis-behov",
            "--closes", closes, "--orgs", orgs,
        )  # fmt: skip
        print("round open; answering ...", file=sys.stderr)
        tasks = [asyncio.create_task(r.answer_survey()) for r in respondents]
        while not all(t.done() for t in tasks):
            await asyncio.sleep(10)
            print(f"  {time.monotonic() - started:5.0f}s: {sum(t.done() for t in tasks)} finished",
                  file=sys.stderr)  # fmt: skip
        finished = [t.result() for t in tasks]
        wall = time.monotonic() - started
        assert deployment.process is not None
        memory = rss_kib(deployment.process.pid)
        deployment.stop()
    answers = [value for r in respondents for value in r.latencies]
    registration = [value for r in respondents for value in r.registration]
    latencies = answers + registration
    result = {
        "channel": "teams (local mode, Bot Connector stand-in)",
        "respondents": len(respondents),
        "submitted": sum(finished),
        "replies_measured": len(latencies),
        "think_time_mean_s": args.think,
        "arrival_s": args.arrival,
        "database": url.split(":")[0],
        "tenants": tenants,
        "latency_ms": latency_summary(latencies),
        "answers_only_latency_ms": latency_summary(answers),
        "registration_latency_ms": latency_summary(registration),
        "bot_rss_mib": round(memory.get("VmRSS", 0) / 1024, 1),
        "bot_peak_rss_mib": round(memory.get("VmHWM", 0) / 1024, 1),
        "wall_s": round(wall, 1),
        "duplicates_at_standin": len(teams.duplicates()),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--respondents", type=int, default=371)
    parser.add_argument("--think", type=float, default=10.0, help="mean seconds between answers")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--tenants", type=int, default=0,
        help="Entra tenants the respondents belong to (default 0: one per organisation, as "
        "for KS's members; 1: everyone in one tenant, so Teams' per-tenant limit binds)",
    )  # fmt: skip
    parser.add_argument("--env", action="append", default=[], help="extra NAME=VALUE for the bot")
    parser.add_argument(
        "--arrival", type=float, default=0.0, help="seconds over which registrations arrive"
    )
    asyncio.run(main(parser.parse_args()))

"""What a slow or silent Microsoft sign-in service costs everyone else.

The real ``lyttepost run`` process with Teams credentials, its OpenID metadata, key set
and token endpoint pointed at the sign-in stand-in from ``tests/``, which answers after
``--delay`` seconds (default 5) or, with ``--silent``, never. For ``--seconds`` it
measures, side by side: ``/healthz`` every 100 ms, a registered Telegram member typing
``/hjelp`` every 1.1 s (from the message to the bot's reply reaching the stand-in; a
chat is paced to about one message a second, so faster would measure the pacing), and
a Teams activity with a valid token every 300 ms (503 until the keys are in, then 201).
Prints the count, median and maximum of each, and the Teams statuses.

    .venv/bin/python bench/teams_outage.py [--delay 5 | --silent] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e_support import Deployment, bind_contacts  # noqa: E402
from tests.login_standin import LoginStandIn  # noqa: E402
from tests.teams_standin import TeamsStandIn  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402

CHAT = 880001


async def measure(delay: float, silent: bool, seconds: float) -> None:
    async with LoginStandIn() as login, TeamsStandIn(bot_app_id=login.app_id) as teams:
        async with TelegramStandIn() as telegram:
            workdir = Path(tempfile.mkdtemp(prefix="lyttepost-outage-"))
            deployment = Deployment(
                database_url=f"sqlite+aiosqlite:///{workdir / 'lyttepost.db'}",
                api_base_url=telegram.base_url,
                workdir=workdir,
                extra_env=login.bot_env(),
            )
            await asyncio.to_thread(deployment.cli, "db", "upgrade")
            await bind_contacts(deployment.database_url, 1, CHAT)
            if silent:
                login.hang()
            else:
                login.delay(delay)
            await asyncio.to_thread(deployment.start)
            try:
                await run(deployment, login, teams, telegram, seconds, silent, delay)
            finally:
                deployment.stop()


async def run(deployment, login, teams, telegram, seconds, silent, delay) -> None:
    warm = time.monotonic()  # the first reply pays for warming up: not measured
    telegram.user_sends_text(CHAT, "/hjelp")
    await telegram.wait_for_change(CHAT, warm, within=60)
    await asyncio.sleep(1.1)
    url = f"http://127.0.0.1:{deployment.http_port}"
    authorization = login.authorization(login.app_id, teams.service_url)
    samples: dict[str, list[float]] = {"healthz": [], "telegram member": [], "teams request": []}
    statuses: dict[str, int] = {}
    end = time.monotonic() + seconds

    async def healthz(client: aiohttp.ClientSession) -> None:
        while time.monotonic() < end:
            started = time.monotonic()
            async with client.get(f"{url}/healthz") as response:
                await response.read()
            samples["healthz"].append((time.monotonic() - started) * 1000)
            await asyncio.sleep(0.1)

    async def member() -> None:
        while time.monotonic() < end:
            started = time.monotonic()
            telegram.user_sends_text(CHAT, "/hjelp")
            changed = await telegram.wait_for_change(CHAT, started, within=120)
            samples["telegram member"].append((changed - started) * 1000)
            await asyncio.sleep(max(0.0, 1.1 - (time.monotonic() - started)))

    async def teams_requests(client: aiohttp.ClientSession) -> None:
        while time.monotonic() < end:
            activity = teams.activity_from_user("a:someone", "typing")
            started = time.monotonic()
            async with client.post(
                f"{url}/api/messages", json=activity, headers={"Authorization": authorization}
            ) as response:
                await response.read()
                key = str(response.status)
            statuses[key] = statuses.get(key, 0) + 1
            samples["teams request"].append((time.monotonic() - started) * 1000)
            await asyncio.sleep(0.3)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as client:
        await asyncio.gather(healthz(client), member(), teams_requests(client))
    outage = "never answers" if silent else f"answers after {delay:g} s"
    print(f"Microsoft sign-in {outage}, {seconds:g} s measured:")
    for what, values in samples.items():
        print(
            f"  {what:16} n={len(values):4}  median {statistics.median(values):7.1f} ms"
            f"  max {max(values):8.1f} ms"
        )
    print(f"  teams statuses   {statuses}")
    print(f"  tracebacks in the bot's log: {deployment.log().count('Traceback')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--delay", type=float, default=5.0)
    parser.add_argument("--silent", action="store_true", help="never answer")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    asyncio.run(measure(args.delay, args.silent, args.seconds))


if __name__ == "__main__":
    main()

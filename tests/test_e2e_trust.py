"""End to end: the real ``lyttepost run`` process, with Teams credentials, stays up for
everyone whatever Microsoft or the Internet sends it.

* A slow or silent Microsoft sign-in service (metadata and keys answering after 5 s, or
  never) freezes nothing: ``/healthz`` and a registered Telegram member are answered
  in < 200 ms throughout, Teams gets 503 (it retries) until the keys are in, and then
  Teams members are served, the bot's own token fetched from the slow endpoint too.
* Real-world payloads of many kinds (tests/fixtures: shapes from the Bot API and Bot
  Framework documentation), through the Telegram webhook and ``/api/messages``: every
  one answered 2xx, none 500, no traceback; the members are answered afterwards.
* Teams without credentials on a public interface refuses to start, in one line.

The freeze test prints its figures (run with ``-s`` to see them).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e_support import Deployment, bind_contacts, free_port
from tests.login_standin import LoginStandIn
from tests.teams_standin import TeamsStandIn
from tests.telegram_standin import TelegramStandIn

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TELEGRAM_CHAT = 880001  # bind_contacts: "Leder 0301"
SECRET = "trust-webhook-secret"
LIMIT_MS = 200.0  # the bar for /healthz and a Telegram member during an outage


@pytest.fixture
async def stand_ins() -> AsyncIterator[tuple[LoginStandIn, TeamsStandIn, TelegramStandIn]]:
    async with LoginStandIn() as login, TeamsStandIn(bot_app_id=login.app_id) as teams:
        async with TelegramStandIn() as telegram:
            teams.bot_authorization = login.authorization(login.app_id, teams.service_url)
            yield login, teams, telegram


def _deployment(tmp_path: Path, login: LoginStandIn, telegram: TelegramStandIn, **env: str):
    return Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url=telegram.base_url,
        workdir=tmp_path,
        extra_env={
            **login.bot_env(),
            "TEAMS_CHAT_BURST": "20",
            "TEAMS_CHAT_RATE_PER_SECOND": "20",
            **env,
        },
    )


async def _prepare(deployment: Deployment) -> None:
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    chats = await bind_contacts(deployment.database_url, 1, TELEGRAM_CHAT)
    assert chats == {TELEGRAM_CHAT: "0301"}


async def _health(client: aiohttp.ClientSession, deployment: Deployment) -> dict:
    async with client.get(f"http://127.0.0.1:{deployment.http_port}/healthz") as response:
        assert response.status == 200
        return await response.json()


async def _register_on_teams(deployment: Deployment, teams: TeamsStandIn, conversation: str) -> str:
    """A contact redeems their code in Teams; returns their name."""
    name = "Kari Nordmann"
    contact = await asyncio.to_thread(
        deployment.cli_json, "contacts", "add", "--org", "4601", "--name", name, "--role", "radmann"
    )
    code = (await asyncio.to_thread(deployment.cli_json, "invites", "create", "--contact", str(contact["id"])))[0]["code"]  # fmt: skip
    assert (await teams.install(conversation, events=("conversationUpdate",)))[0] == 201
    await teams.wait_for_activity(
        conversation, lambda m: "invitasjonskoden" in (m.text or ""), timeout=15
    )
    assert await teams.user_sends_text(conversation, code) == 201
    await teams.wait_for_activity(
        conversation, lambda m: f"Velkommen, {name}" in (m.text or ""), timeout=15
    )
    return name


class Figures:
    """Latencies in milliseconds, by what was measured."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.statuses: dict[int, int] = {}

    def add(self, what: str, started: float) -> None:
        self.samples.setdefault(what, []).append((time.monotonic() - started) * 1000)

    def line(self, what: str) -> str:
        values = self.samples.get(what, [])
        if not values:
            return f"{what}: none"
        return (
            f"{what}: n={len(values)} median={statistics.median(values):.1f} ms "
            f"max={max(values):.1f} ms"
        )


async def _measure(
    deployment: Deployment,
    teams: TeamsStandIn,
    telegram: TelegramStandIn,
    until: asyncio.Event,
    figures: Figures,
) -> None:
    """/healthz every 100 ms, a Telegram member every 1.1 s (Telegram's pace per chat is 1
    message a second: faster, and the measure would be the pacing), a Teams request every 300 ms."""
    url = f"http://127.0.0.1:{deployment.http_port}"

    async def healthz(client: aiohttp.ClientSession) -> None:
        while not until.is_set():
            started = time.monotonic()
            async with client.get(f"{url}/healthz") as response:
                assert response.status == 200
                await response.read()
            figures.add("healthz", started)
            await asyncio.sleep(0.1)

    async def telegram_member() -> None:
        while not until.is_set():
            started = time.monotonic()
            telegram.user_sends_text(TELEGRAM_CHAT, "/hjelp")
            changed = await telegram.wait_for_change(TELEGRAM_CHAT, started, within=30)
            figures.samples.setdefault("telegram member", []).append((changed - started) * 1000)
            await asyncio.sleep(max(0.0, 1.1 - (time.monotonic() - started)))

    async def teams_requests(client: aiohttp.ClientSession) -> None:
        while not until.is_set():
            activity = teams.activity_from_user("a:someone", "typing")
            started = time.monotonic()
            async with client.post(
                f"{url}/api/messages", json=activity,
                headers={"Authorization": teams.bot_authorization or ""},
            ) as response:  # fmt: skip
                await response.read()
                if response.status == 503:
                    assert response.headers["Retry-After"] == "5"
                figures.statuses[response.status] = figures.statuses.get(response.status, 0) + 1
            figures.add("teams request", started)
            await asyncio.sleep(0.3)

    async with aiohttp.ClientSession() as client:
        await asyncio.gather(healthz(client), telegram_member(), teams_requests(client))


@pytest.mark.parametrize("outage", ["answers after 5 s", "never answers"])
async def test_a_slow_or_silent_microsoft_freezes_nothing(
    tmp_path: Path, stand_ins, outage: str
) -> None:
    login, teams, telegram = stand_ins
    if outage == "never answers":
        login.hang()  # metadata, keys and the token endpoint alike
    else:
        login.delay(5)
    deployment = _deployment(tmp_path, login, telegram)
    teams.bot_endpoint = f"http://127.0.0.1:{deployment.http_port}/api/messages"
    await _prepare(deployment)
    figures = Figures()
    done = asyncio.Event()
    try:
        await asyncio.to_thread(deployment.start)
        # One exchange first: the process's first reply pays for warming up (imports,
        # connections), which is not what this measures.
        warm = time.monotonic()
        telegram.user_sends_text(TELEGRAM_CHAT, "/hjelp")
        await telegram.wait_for_change(TELEGRAM_CHAT, warm, within=30)
        await asyncio.sleep(1.1)
        began = time.monotonic()
        measuring = asyncio.create_task(_measure(deployment, teams, telegram, done, figures))
        async with aiohttp.ClientSession() as client:
            if outage == "never answers":
                # Past the 10 s timeout of the first attempts, into the retries.
                await asyncio.sleep(12)
                assert (await _health(client, deployment))["teams_keys"] is False
            else:
                # 5 s for the metadata, 5 s for the keys: then Teams is served.
                while not (await _health(client, deployment))["teams_keys"]:
                    assert time.monotonic() - began < 25, "keys never arrived"
                    await asyncio.sleep(0.2)
                await asyncio.sleep(1.0)
        done.set()
        await measuring
        print(
            f"\n[{outage}] over {time.monotonic() - began:.1f} s: "
            f"{figures.line('healthz')}; {figures.line('telegram member')}; "
            f"{figures.line('teams request')}; teams statuses {figures.statuses}"
        )
        assert max(figures.samples["healthz"]) < LIMIT_MS
        assert max(figures.samples["telegram member"]) < LIMIT_MS
        assert max(figures.samples["teams request"]) < LIMIT_MS
        assert figures.statuses.get(503, 0) >= 3 and set(figures.statuses) <= {201, 503}
        assert len(figures.samples["telegram member"]) >= 8
        if outage == "answers after 5 s":
            assert figures.statuses.get(201, 0) >= 1  # after the keys came, Teams is served
            name = await _register_on_teams(deployment, teams, "a:1kari")
            reply = next(m for m in teams.messages_for("a:1kari") if name in (m.text or ""))
            assert reply.authorization == f"Bearer {login.issued[-1]}"  # fetched 5 s late
        log = deployment.log()
        assert "Traceback" not in log
        assert "cannot fetch the Bot Framework signing keys" in log or outage != "never answers"
    finally:
        done.set()
        deployment.stop()


def _fixtures(channel: str) -> list[tuple[str, dict]]:
    return [
        (path.stem, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted((FIXTURES / channel).glob("*.json"))
    ]


async def test_real_world_payloads_are_answered_and_members_still_served(
    tmp_path: Path, stand_ins
) -> None:
    login, teams, telegram = stand_ins
    port = free_port()
    webhook = f"http://127.0.0.1:{port}/telegram/webhook"
    deployment = _deployment(
        tmp_path, login, telegram, TELEGRAM_WEBHOOK_URL=webhook,
        TELEGRAM_WEBHOOK_SECRET=SECRET, LOG_LEVEL="DEBUG",
    )  # fmt: skip
    deployment.http_port = port
    teams.bot_endpoint = f"http://127.0.0.1:{port}/api/messages"
    await _prepare(deployment)
    telegram_payloads, teams_payloads = _fixtures("telegram"), _fixtures("teams")
    assert len(telegram_payloads) >= 30 and len(teams_payloads) >= 30
    try:
        await asyncio.to_thread(deployment.start)
        answers: dict[str, int] = {}
        async with aiohttp.ClientSession() as client:
            for _ in range(100):
                if (await _health(client, deployment)).get("teams_keys"):
                    break
                await asyncio.sleep(0.1)
            for name, update in telegram_payloads:
                async with client.post(
                    webhook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                ) as response:
                    answers[f"telegram/{name}"] = response.status
            api = f"http://127.0.0.1:{port}/api/messages"
            authorization = login.authorization(login.app_id, teams.service_url)
            for name, activity in teams_payloads:
                activity["serviceUrl"] = teams.service_url  # the token vouches for this one
                async with client.post(
                    api, json=activity, headers={"Authorization": authorization}
                ) as response:
                    answers[f"teams/{name}"] = response.status
                    if activity["type"] == "invoke":
                        assert response.status == 200 and isinstance(await response.json(), dict)
            health = await _health(client, deployment)
        refused = {name: status for name, status in answers.items() if not 200 <= status < 300}
        assert refused == {}, refused
        ignored = health["ignored"]
        assert ignored["telegram"]["edited_message"] == 1 and ignored["telegram"]["poll"] == 1
        assert ignored["teams"]["messageReaction"] == 2 and ignored["teams"]["typing"] == 1
        assert ignored["teams"]["message in groupChat"] == 1

        # Registered members on both channels are answered afterwards.
        await asyncio.sleep(1.0)  # let replies to the payloads settle
        telegram.user_sends_text(TELEGRAM_CHAT, "/start")  # pushed through the webhook
        reply = await telegram.wait_for_message(
            TELEGRAM_CHAT, lambda m: "Leder 0301" in m.text, timeout=15
        )
        assert "registrert" in reply.text
        name = await _register_on_teams(deployment, teams, "a:1member")
        assert any(name in (m.text or "") for m in teams.messages_for("a:1member"))
        log = deployment.log()
        assert "Traceback" not in log and " 500 " not in log
        assert "teams: ignored typing" in log and "telegram: ignored poll" in log
    finally:
        deployment.stop()


async def test_teams_without_credentials_on_a_public_interface_refuses_to_start(
    tmp_path: Path,
) -> None:
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=tmp_path,
        extra_env={
            "TEAMS_ENABLED": "true",
            "MICROSOFT_APP_ID": "",
            "HTTP_HOST": "0.0.0.0",
            "TELEGRAM_BOT_TOKEN": "",
        },  # fmt: skip
    )
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    refused = await asyncio.to_thread(deployment.cli, "run", check=False)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "MICROSOFT_APP_ID" in lines[0] and "TEAMS_LOCAL_TEST" in lines[0]
    assert "Traceback" not in refused.stderr

    # Said on purpose: it starts (and warns loudly).
    deployment.extra_env["TEAMS_LOCAL_TEST"] = "true"
    try:
        await asyncio.to_thread(deployment.start)
        assert "LOCAL MODE" in deployment.log()
    finally:
        deployment.stop()

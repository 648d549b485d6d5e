"""End to end on Microsoft Teams: the real ``lyttepost run`` process against a Bot Connector
stand-in (local mode, as with the Bot Framework Emulator), next to the Telegram stand-in.

A chief executive opens the app, registers with the invitation code, gets the round's
invitation proactively, answers the whole survey on Adaptive Cards (a card answered once
cannot be answered again), submits and gets the receipt. A broadcast reaches a mixed
audience on Teams and Telegram; Teams' throttling is honoured; removing the app makes the
chat unreachable; with credentials configured, unauthenticated requests are refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.console_session import choose_answer, middle
from tests.e2e_support import Deployment
from tests.teams_standin import TeamsStandIn
from tests.telegram_standin import TelegramStandIn

pytestmark = pytest.mark.e2e

CONV = "a:1kari-teams"
TELEGRAM_CHAT = 515151


@pytest.fixture
async def stand_ins() -> AsyncIterator[tuple[TeamsStandIn, TelegramStandIn]]:
    async with TeamsStandIn() as teams, TelegramStandIn() as telegram:
        yield teams, telegram


@pytest.fixture
def deployment(tmp_path: Path, stand_ins) -> Deployment:
    teams, telegram = stand_ins
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url=telegram.base_url,
        workdir=tmp_path,
        extra_env={
            "TEAMS_ENABLED": "true",
            "TEAMS_CHAT_BURST": "20",
            "TEAMS_CHAT_RATE_PER_SECOND": "20",
        },
    )
    teams.bot_endpoint = f"http://127.0.0.1:{deployment.http_port}/api/messages"
    yield deployment
    deployment.stop()


async def cli(deployment: Deployment, *args: str):
    return await asyncio.to_thread(deployment.cli_json, *args)


async def act(teams: TeamsStandIn, action) -> None:
    """Do something as the member and wait until the bot has sent or edited something."""
    since = time.monotonic()
    status = await action()
    assert status in (200, 201, 202), status
    await teams.wait_for_change(CONV, since, within=15)
    await asyncio.sleep(0.3)  # let a multi-message reply finish


def last_card(teams: TeamsStandIn):
    return next(m for m in reversed(teams.messages_for(CONV)) if m.actions)


def payloads(message) -> list[tuple[str, str]]:
    return [(title, data["payload"]) for title, data in message.actions]


async def register(teams: TeamsStandIn, deployment: Deployment, org: str, name: str) -> int:
    contact = await cli(
        deployment, "contacts", "add", "--org", org, "--name", name, "--role", "radmann"
    )
    code = (await cli(deployment, "invites", "create", "--contact", str(contact["id"])))[0]["code"]
    await act(teams, lambda: _first(teams.install(CONV, user_id="29:kari", name=name)))
    assert "invitasjonskoden" in teams.messages_for(CONV)[-1].text
    await act(teams, lambda: teams.user_sends_text(CONV, code))
    assert any("Velkommen" in (m.text or "") for m in teams.messages_for(CONV))
    return int(contact["id"])


async def _first(statuses):
    return (await statuses)[0]


async def test_a_chief_executive_answers_the_survey_in_teams(deployment, stand_ins) -> None:
    teams, _ = stand_ins
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.start)
    assert "LOCAL MODE" in deployment.log()
    await register(teams, deployment, "3301", "Kari Nordmann")
    assert len([m for m in teams.messages_for(CONV) if "invitasjonskoden" in (m.text or "")]) == 1

    created = await cli(deployment, "rounds", "create", "--survey", "kvartalsvis-behov",
                        "--closes", "2099-12-31", "--orgs", "3301")  # fmt: skip
    invitation = await teams.wait_for_activity(
        CONV, lambda m: any("Start" in t for t, _ in m.actions), timeout=15
    )
    assert "Svarfrist" in " ".join(invitation.card_texts)
    start = invitation.action_data("Start")
    await act(teams, lambda: teams.user_submits(CONV, start))
    first_question = last_card(teams)
    first_payloads = payloads(first_question)

    for _ in range(60):
        card = last_card(teams)
        pairs = payloads(card)
        if any(p == "c:submit" for _, p in pairs):
            break
        choice = choose_answer(pairs, middle)
        if choice is None:
            await act(teams, lambda: teams.user_sends_text(CONV, "Felles digitale løsninger."))
        else:
            await act(teams, lambda c=choice: teams.user_submits(CONV, {"payload": c}))
    else:
        raise AssertionError("never reached the review")

    # An old card pressed again changes nothing: the engine says it belongs to an earlier question.
    stale = next(p for _, p in first_payloads if p.startswith("t:"))
    await act(teams, lambda: teams.user_submits(CONV, {"payload": stale}))
    assert "tidligere spørsmål" in " ".join(
        teams.messages_for(CONV)[-1].card_texts + [teams.messages_for(CONV)[-1].text or ""]
    )

    await act(teams, lambda: teams.user_submits(CONV, {"payload": "c:submit"}))
    receipt = teams.messages_for(CONV)[-1]
    assert "Takk" in (receipt.text or "") + " ".join(receipt.card_texts)
    exported = await cli(deployment, "rounds", "status", str(created["id"]))
    assert exported["submitted"] == 1
    assert teams.duplicates() == [] and teams.errors == []


async def test_a_broadcast_reaches_teams_and_telegram_and_removal_is_honoured(
    deployment, stand_ins
) -> None:
    teams, telegram = stand_ins
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.start)
    await register(teams, deployment, "3301", "Kari Nordmann")
    ola = await cli(
        deployment, "contacts", "add", "--org", "4601", "--name", "Ola", "--role", "radmann"
    )
    code = (await cli(deployment, "invites", "create", "--contact", str(ola["id"])))[0]["code"]
    telegram.user_sends_text(TELEGRAM_CHAT, f"/start {code}")
    await telegram.wait_for_message(TELEGRAM_CHAT, lambda m: "Velkommen" in m.text, timeout=15)

    teams.fail_next(1, 429, retry_after=1)  # Teams throttles the first send: retried, once
    draft = await cli(
        deployment, "broadcast", "create", "--to", "all", "--text", "Samling i Bergen 12. mars."
    )
    assert draft["recipients"] == 2
    await asyncio.to_thread(
        deployment.cli, "publications", "send", str(draft["id"]), "--yes", "--no-wait"
    )
    await teams.wait_for_activity(CONV, lambda m: (m.text or "").startswith("Samling"), timeout=20)
    await telegram.wait_for_message(
        TELEGRAM_CHAT, lambda m: m.text.startswith("Samling"), timeout=20
    )
    assert sum((m.text or "").startswith("Samling") for m in teams.messages_for(CONV)) == 1
    assert teams.stats.rejected_429 >= 1

    await teams.uninstall(CONV)
    second = await cli(deployment, "broadcast", "create", "--to", "all", "--text", "Andre melding.")
    assert second["recipients"] == 1 and second["unreachable"] == 1  # Teams chat is gone


async def test_with_credentials_unauthenticated_requests_are_refused(tmp_path: Path) -> None:
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=tmp_path,
        extra_env={
            "TEAMS_ENABLED": "true",
            "MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001",
            "MICROSOFT_APP_PASSWORD": "not-a-real-secret",
            "TELEGRAM_BOT_TOKEN": "",
        },
    )
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    try:
        await asyncio.to_thread(deployment.start)
        assert "LOCAL MODE" not in deployment.log()
        url = f"http://127.0.0.1:{deployment.http_port}/api/messages"
        body = {"type": "message", "id": "1", "text": "/hjelp", "channelId": "msteams",
                "serviceUrl": "http://127.0.0.1:9/", "conversation": {"id": "a:x"},
                "from": {"id": "29:u"}, "recipient": {"id": "28:b"}}  # fmt: skip
        async with aiohttp.ClientSession() as client:
            async with client.post(url, json=body) as response:
                assert response.status == 401
            async with client.post(
                url, json=body, headers={"Authorization": "Bearer not.a.jwt"}
            ) as response:
                assert response.status == 401
            async with client.post(
                url, data=b"{}", headers={"Content-Type": "text/plain"}
            ) as response:
                assert response.status == 415
        assert "Traceback" not in deployment.log()
    finally:
        deployment.stop()

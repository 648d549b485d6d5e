"""End to end: a ranking and a matrix answered by buttons and by text, in Telegram and in
Teams, against the real ``lyttepost run`` process and the channel stand-ins.

The survey is registered from tests/fixtures/surveys with ``lyttepost surveys add``; the
matrix is one Telegram message with one keyboard row per area (label + 1..5), edited in
place as cells are pressed, and one Adaptive Card in Teams with each area as a heading.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.e2e_support import Deployment
from tests.teams_standin import TeamsStandIn
from tests.telegram_standin import TelegramStandIn
from tests.test_e2e_teams import act, last_card, last_words, payloads, register
from tests.test_e2e_telegram import last_with_buttons, press, reply_to, say
from tests.type_fixtures import RANKING_AND_MATRIX

pytestmark = pytest.mark.e2e

CHAT = 424242  # the chat tests.test_e2e_telegram's helpers talk in
CONV = "a:1kari-teams"


async def cli(deployment: Deployment, *args: str):
    return await asyncio.to_thread(deployment.cli_json, *args)


def exported_answers(deployment: Deployment, round_id: int) -> dict:
    rows = json.loads(deployment.cli("export", "--round", str(round_id), "--format", "json").stdout)
    assert len(rows) == 1 and rows[0]["status"] == "submitted"
    return {a["question"]: a["value"] for a in rows[0]["answers"]}


# -- Telegram ----------------------------------------------------------------------------


@pytest.fixture
async def standin() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn() as server:
        yield server


@pytest.fixture
def telegram_deployment(tmp_path: Path, standin: TelegramStandIn) -> Deployment:
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url=standin.base_url,
        workdir=tmp_path,
    )
    yield deployment
    deployment.stop()


async def test_ranking_and_matrix_by_buttons_and_by_text_in_telegram(
    telegram_deployment: Deployment, standin: TelegramStandIn
) -> None:
    deployment = telegram_deployment
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.cli, "surveys", "add", str(RANKING_AND_MATRIX))
    contact = await cli(deployment, "contacts", "add", "--org", "3301", "--name", "Kari Nordmann",
                        "--role", "kommunedirektor")  # fmt: skip
    code = (await cli(deployment, "invites", "create", "--contact", str(contact["id"])))[0]["code"]
    await asyncio.to_thread(deployment.start)
    await reply_to(standin, say(standin, f"/start {code}"))
    closes = (date.today() + timedelta(days=14)).isoformat()
    count = len(standin.messages_for(CHAT))
    created = await cli(deployment, "rounds", "create", "--survey", "rangering-og-matrise",
                        "--closes", closes, "--orgs", "3301")  # fmt: skip
    invitation = await standin.wait_for_message(
        CHAT, lambda m: "Svarfrist" in m.text, timeout=15, after_count=count
    )
    start = next(data for row in invitation.buttons for _, data in row if data.startswith("r:"))
    await reply_to(standin, press(standin, invitation, start))

    areas = last_with_buttons(standin)
    for area in ("digitalisering", "klima", "helse"):
        await reply_to(standin, press(standin, areas, f"t:omrader:{area}"))
    await reply_to(standin, press(standin, areas, "n:omrader"))

    # The ranking by buttons: two presses place all three; the message is edited in place.
    ranking = last_with_buttons(standin)
    assert "Rekkefølge så langt: ingen valgt ennå." in ranking.text
    await reply_to(standin, press(standin, ranking, "r:rekkefolge:helse"))
    await reply_to(standin, press(standin, ranking, "r:rekkefolge:klima"))
    edited = standin.find_message(CHAT, ranking.message_id)
    assert edited is not None
    assert "1. Helse og omsorg, 2. Klima og miljø, 3. Digitalisering" in edited.text
    await reply_to(standin, press(standin, ranking, "n:rekkefolge"))

    # The matrix: ONE message, one keyboard row per area (label + 1..5), at most 8 buttons.
    matrix = last_with_buttons(standin)
    assert [label for label, _ in matrix.buttons[0]] == ["Digitalisering", "1", "2", "3", "4", "5"]
    assert all(len(row) <= 8 for row in matrix.buttons)
    assert all(len(data.encode()) <= 64 for row in matrix.buttons for _, data in row)
    await reply_to(standin, press(standin, matrix, "m:hast:digitalisering:4"))
    await reply_to(standin, press(standin, matrix, "m:hast:klima:2"))
    # Neste too early: answered inside the question, keyboard and all.
    await reply_to(standin, press(standin, matrix, "n:hast"))
    reply = standin.messages_for(CHAT)[-1]
    assert reply.text.startswith("Mangler svar for: Helse og omsorg.")
    assert any(data == "m:hast:helse:5" for row in reply.buttons for _, data in row)
    await reply_to(standin, press(standin, reply, "m:hast:helse:5"))
    await reply_to(standin, press(standin, reply, "n:hast"))

    # The top-2 ranking by text, then the first ranking and the matrix again by text.
    await reply_to(standin, say(standin, "3 1"))
    review = last_with_buttons(standin)
    assert "Kanaler: 1. Møte, 2. Chat" in review.text
    await reply_to(standin, press(standin, review, "e:rekkefolge"))
    messages = await reply_to(
        standin, say(standin, "Digitalisering, Helse og omsorg, Klima og miljø")
    )
    review = last_with_buttons(standin)
    assert "Rekkefølge: 1. Digitalisering, 2. Helse og omsorg, 3. Klima og miljø" in review.text
    await reply_to(standin, press(standin, review, "e:hast"))
    messages = await reply_to(standin, say(standin, "5 9 1"))
    assert messages[-1].text.startswith("Skriv 3 tall fra 1 til 5")
    assert any(data == "m:hast:klima:3" for row in messages[-1].buttons for _, data in row)
    await reply_to(standin, say(standin, "5 3 1"))
    review = last_with_buttons(standin)
    assert "Hast: Digitalisering: 5; Klima og miljø: 3; Helse og omsorg: 1" in review.text
    await reply_to(standin, press(standin, review, "c:submit"))

    answers = await asyncio.to_thread(exported_answers, deployment, created["id"])
    assert answers["rekkefolge"] == ["digitalisering", "helse", "klima"]
    assert answers["hast"] == {"digitalisering": 5, "klima": 3, "helse": 1}
    assert answers["kanaler"] == ["mote", "chat"]


# -- Teams -------------------------------------------------------------------------------


@pytest.fixture
async def stand_ins() -> AsyncIterator[tuple[TeamsStandIn, TelegramStandIn]]:
    async with TeamsStandIn() as teams, TelegramStandIn() as telegram:
        yield teams, telegram


@pytest.fixture
def teams_deployment(tmp_path: Path, stand_ins) -> Deployment:
    teams, telegram = stand_ins
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url=telegram.base_url,
        workdir=tmp_path,
        extra_env={"TEAMS_ENABLED": "true", "TEAMS_CHAT_BURST": "20",
                   "TEAMS_CHAT_RATE_PER_SECOND": "20"},
    )  # fmt: skip
    teams.bot_endpoint = f"http://127.0.0.1:{deployment.http_port}/api/messages"
    yield deployment
    deployment.stop()


async def submit(teams: TeamsStandIn, payload: str) -> None:
    await act(teams, lambda: teams.user_submits(CONV, {"payload": payload}))


async def test_ranking_and_matrix_by_buttons_and_by_text_in_teams(
    teams_deployment: Deployment, stand_ins
) -> None:
    deployment = teams_deployment
    teams, _ = stand_ins
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.cli, "surveys", "add", str(RANKING_AND_MATRIX))
    await asyncio.to_thread(deployment.start)
    await register(teams, deployment, "3301", "Kari Nordmann")
    created = await cli(deployment, "rounds", "create", "--survey", "rangering-og-matrise",
                        "--closes", "2099-12-31", "--orgs", "3301")  # fmt: skip
    invitation = await teams.wait_for_activity(
        CONV, lambda m: any("Start" in t for t, _ in m.actions), timeout=15
    )
    await act(teams, lambda: teams.user_submits(CONV, invitation.action_data("Start")))
    for area in ("digitalisering", "klima", "helse"):
        await submit(teams, f"t:omrader:{area}")
    await submit(teams, "n:omrader")

    # The ranking by text, with a mistake first (answered on the card with its buttons).
    await act(teams, lambda: teams.user_sends_text(CONV, "1 1 2"))
    assert "Skriv alle alternativene i rekkefølge" in last_words(teams, CONV)
    assert ("▫️ Helse og omsorg", "r:rekkefolge:helse") in payloads(last_card(teams))
    await act(teams, lambda: teams.user_sends_text(CONV, "2 3 1"))

    # The matrix by buttons: ONE card, each area a heading over its five numbers.
    card = last_card(teams)
    texts = card.card_texts
    assert "Digitalisering" in texts and "Klima og miljø" in texts and "Helse og omsorg" in texts
    titles = [title for title, _ in payloads(card)]
    assert "Digitalisering" not in titles  # a heading, not a button
    assert [p for _, p in payloads(card)][:5] == [f"m:hast:digitalisering:{n}" for n in range(1, 6)]
    for cell in ("digitalisering:1", "klima:2", "helse:3"):
        await submit(teams, f"m:hast:{cell}")
    assert "• Helse og omsorg: 3" in last_words(teams, CONV)
    await submit(teams, "n:hast")

    # The top-2 ranking by buttons, then the matrix again by a button and by text.
    await submit(teams, "r:kanaler:epost")
    await submit(teams, "r:kanaler:chat")
    await submit(teams, "n:kanaler")
    assert "Kanaler: 1. E-post, 2. Chat" in last_words(teams, CONV)
    await submit(teams, "e:hast")
    await submit(teams, "m:hast:klima:4")
    assert "• Klima og miljø: 4" in last_words(teams, CONV)
    # Written rows that complete the matrix (the rest kept from before) are recorded at once.
    await act(teams, lambda: teams.user_sends_text(CONV, "Helse og omsorg 5"))
    assert "Hast: Digitalisering: 1; Klima og miljø: 4; Helse og omsorg: 5" in last_words(
        teams, CONV
    )
    await submit(teams, "c:submit")
    assert "Takk" in last_words(teams, CONV)

    answers = await asyncio.to_thread(exported_answers, deployment, created["id"])
    assert answers["rekkefolge"] == ["klima", "helse", "digitalisering"]
    assert answers["hast"] == {"digitalisering": 1, "klima": 4, "helse": 5}
    assert answers["kanaler"] == ["epost", "chat"]
    assert teams.errors == []

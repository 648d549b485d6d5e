"""End to end: the chat app's language reaches the conversation through the real
``lyttepost run`` process. A Telegram app in nynorsk (``language_code`` "nn") and a Teams
client in nordsamisk (``locale`` "se-NO") each register in a bokmål organisation, get the
welcome and then ONE suggestion in their app's language; nothing switches until the button
is pressed, and the answer to it comes in the language chosen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bokmal_words import bokmal_words
from tests.e2e_support import Deployment
from tests.teams_standin import TeamsStandIn
from tests.telegram_standin import TelegramStandIn

pytestmark = pytest.mark.e2e

CHAT = 616161
CONV = "a:1maret-teams"


@pytest.fixture
async def stand_ins() -> AsyncIterator[tuple[TeamsStandIn, TelegramStandIn]]:
    async with TeamsStandIn(locale="se-NO") as teams, TelegramStandIn() as telegram:
        yield teams, telegram


@pytest.fixture
def deployment(tmp_path: Path, stand_ins) -> Deployment:
    teams, telegram = stand_ins
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url=telegram.base_url,
        workdir=tmp_path,
        extra_env={"TEAMS_ENABLED": "true"},
    )
    teams.bot_endpoint = f"http://127.0.0.1:{deployment.http_port}/api/messages"
    yield deployment
    deployment.stop()


async def code_for(deployment: Deployment, name: str) -> str:
    contact = await asyncio.to_thread(
        deployment.cli_json, "contacts", "add", "--org", "3301", "--name", name, "--role", "radmann"
    )
    invites = await asyncio.to_thread(
        deployment.cli_json, "invites", "create", "--contact", str(contact["id"])
    )
    return str(invites[0]["code"])


async def test_the_app_language_is_suggested_once_on_both_channels(deployment, stand_ins) -> None:
    teams, telegram = stand_ins
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.start)

    # Telegram, app in nynorsk: welcome (bokmål, the organisation's), then the suggestion.
    telegram.user_sends_text(
        CHAT, f"/start {await code_for(deployment, 'Kari Nordmann')}", language_code="nn"
    )
    offer = await telegram.wait_for_message(
        CHAT, lambda m: m.text.startswith("Vil du lese Lyttepost på nynorsk?"), timeout=15
    )
    assert bokmal_words(offer.text) == []
    assert offer.labels == ["Nynorsk", "Behald bokmål"]
    assert any("Velkommen, Kari Nordmann" in m.text for m in telegram.messages_for(CHAT))
    await asyncio.sleep(0.5)
    assert [m.text for m in telegram.messages_for(CHAT)].count(offer.text) == 1
    telegram.user_presses(CHAT, offer.message_id, telegram.button(offer, "Nynorsk"))
    done = await telegram.wait_for_message(
        CHAT, lambda m: m.text.startswith("No les du Lyttepost på nynorsk."), timeout=15
    )
    assert bokmal_words(done.text) == []

    # Teams, client in nordsamisk: the suggestion in nordsamisk, nothing switched.
    await teams.install(CONV, user_id="29:maret", name="Máret Sara")
    await teams.wait_for_activity(CONV, lambda m: "invitasjonskoden" in (m.text or ""), timeout=15)
    await teams.user_sends_text(CONV, await code_for(deployment, "Máret Sara"))
    suggestion = await teams.wait_for_activity(
        CONV, lambda m: "Davvisámegiella" in [title for title, _ in m.actions], timeout=15
    )
    shown = " ".join([suggestion.text or "", *suggestion.card_texts])
    assert "Háliidatgo ahte Lyttepost-giella dutnje lea davvisámegiella?" in shown
    assert [data["payload"] for _, data in suggestion.actions] == ["lang:se", "lang:keep"]
    await teams.user_submits(CONV, suggestion.action_data("Doala"))
    await teams.wait_for_activity(
        CONV, lambda m: "du leser fortsatt Lyttepost på bokmål" in (m.text or ""), timeout=15
    )
    assert telegram.duplicates() == [] and teams.duplicates() == [] and teams.errors == []

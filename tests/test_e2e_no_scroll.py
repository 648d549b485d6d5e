# ruff: noqa: F811  (stand_ins and deployment are fixtures, imported)
"""End to end, in Telegram and in Teams at once: a chat that never makes anyone scroll.

A code pasted without /start registers; text the bot cannot use on a question is answered
in a new message that carries the question and its buttons again; writing an answer while
paused resumes the survey there and takes it as the answer. Each member acts only on the
newest message in their chat.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e_support import Deployment
from tests.teams_standin import TeamsStandIn
from tests.telegram_standin import TelegramStandIn
from tests.test_e2e_organisation import (  # noqa: F401  (fixtures)
    TeamsMember,
    TelegramMember,
    cli,
    deployment,
    stand_ins,
    words,
)

pytestmark = pytest.mark.e2e

COMPLAINT = "Jeg forstod ikke valget ditt"
NEED = "Helse og omsorg: Hva er det viktigste behovet"


async def two_codes(deployment: Deployment) -> tuple[str, str]:
    """Kari (Drammen) and Siri (Bergen), each with a code, and a round open to both."""
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    codes = []
    for org, name in (("3301", "Kari Nordmann"), ("4601", "Siri Berg")):
        contact = await cli(deployment, "contacts", "add", "--org", org, "--name", name,
                            "--role", "kommunedirektor")  # fmt: skip
        codes.append(
            (await cli(deployment, "invites", "create", "--contact", str(contact["id"])))[0]["code"]
        )
    await asyncio.to_thread(deployment.start)
    await cli(deployment, "rounds", "create", "--survey", "kvartalsvis-behov",
              "--closes", "2099-12-31", "--orgs", "3301,4601")  # fmt: skip
    return codes[0], codes[1]


async def test_no_scrolling_in_telegram_and_in_teams(
    deployment: Deployment, stand_ins: tuple[TeamsStandIn, TelegramStandIn]
) -> None:
    teams, telegram = stand_ins
    code_kari, code_siri = await two_codes(deployment)

    # Telegram: the code alone registers; the offer's button starts the round.
    kari = TelegramMember(telegram, 8101, "Kari")
    await kari.say(code_kari, "Velkommen, Kari Nordmann")
    offer = await kari.expect(lambda m: bool(m.buttons), 0)
    question = await kari.press(offer, offer.buttons[0][0][0], "Spørsmål 1")
    assert question.buttons
    # Text the bot cannot use: the newest message is the complaint with the question and
    # every one of its buttons, so nothing further up is needed.
    newest = await kari.say("kanskje noe med penger", COMPLAINT)
    assert "Spørsmål 1" in newest.text and newest.buttons == question.buttons
    assert telegram.messages_for(kari.chat)[-1].message_id == newest.message_id
    await kari.say("/pause", "vi tar en pause")
    # Writing the answer while paused resumes and answers: the next question follows.
    await kari.say("Helse og omsorg", NEED)

    # Teams: the same, with cards.
    siri = TeamsMember(teams, "a:1siri-teams", "29:siri", "Siri Berg")
    await siri.install()
    await siri.say(code_siri, "Velkommen, Siri Berg")
    offer_card = await teams.wait_for_activity(
        siri.conversation, lambda m: bool(m.actions), timeout=20
    )
    first = await siri.press(offer_card, offer_card.actions[0][0], "Spørsmål 1")
    since = time.monotonic()
    await teams.user_sends_text(siri.conversation, "kanskje noe med penger")
    again = await siri.expect(COMPLAINT, since)
    assert "Spørsmål 1" in words(again)
    assert [title for title, _ in again.actions] == [title for title, _ in first.actions]
    await siri.say("/pause", "vi tar en pause")
    await siri.say("Helse og omsorg", NEED)
    assert telegram.duplicates() == [] and teams.errors == []

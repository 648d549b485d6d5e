# ruff: noqa: F811  (stand_ins and deployment are fixtures, imported)
"""End to end, the organisation as respondent (ADR 20), with the real ``lyttepost run``
process serving the Telegram and the Teams stand-ins at once.

A rådmann in Telegram gives a colleague a delegate's code with /deleger; the colleague
registers in Teams and answers "på vegne av" the municipality; the rådmann is told, and
takes the response over from Telegram (the delegate is told in Teams). Then the other
way round: a rådmann links Teams to her Telegram contact with /kobling and continues
there where she left off; a delegate in Telegram carries on with her response, and she
takes it back over in Teams. Last, a handover with ``lyttepost contacts replace``: the old
rådmann's Telegram chat is told and unbound, and the new one continues in Teams. And a
round that requires approval: a delegate's answer in Telegram counts only once the
rådmann approves it in Teams.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from bot.console_session import choose_answer, middle
from tests.e2e_support import Deployment
from tests.teams_standin import SentActivity, TeamsStandIn
from tests.telegram_standin import SentMessage, TelegramStandIn
from tests.test_e2e_teams import cli, deployment, stand_ins  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def words(message: SentActivity) -> str:
    return " ".join([message.text or "", *message.card_texts])


def code_in(text: str) -> str:
    return text.split(": ", 1)[1].split()[0]


class TelegramMember:
    """A Telegram chat: acts, then waits for the reply that matches."""

    def __init__(self, telegram: TelegramStandIn, chat: int, name: str) -> None:
        self.telegram, self.chat, self.name = telegram, chat, name

    async def expect(self, predicate: Callable[[SentMessage], bool], after: int) -> SentMessage:
        return await self.telegram.wait_for_message(
            self.chat, predicate, timeout=20, after_count=after
        )

    def count(self) -> int:
        return len(self.telegram.messages_for(self.chat))

    async def say(self, text: str, expected: str) -> SentMessage:
        before = self.count()
        self.telegram.user_sends_text(self.chat, text, first_name=self.name)
        return await self.expect(lambda m: expected in m.text, before)

    async def press(self, message: SentMessage, label: str, expected: str) -> SentMessage:
        before = self.count()
        self.telegram.user_presses(
            self.chat, message.message_id, TelegramStandIn.button(message, label)
        )
        return await self.expect(lambda m: expected in m.text, before)


class TeamsMember:
    """A Teams 1:1 conversation."""

    def __init__(self, teams: TeamsStandIn, conversation: str, user: str, name: str) -> None:
        self.teams, self.conversation, self.user, self.name = teams, conversation, user, name

    async def expect(self, expected: str, since: float) -> SentActivity:
        return await self.teams.wait_for_activity(
            self.conversation,
            lambda m: expected in words(m) and m.changed_at > since,
            timeout=20,
        )

    async def install(self) -> None:
        since = time.monotonic()
        await self.teams.install(self.conversation, user_id=self.user, name=self.name)
        await self.expect("invitasjonskoden", since)

    async def say(self, text: str, expected: str) -> SentActivity:
        since = time.monotonic()
        await self.teams.user_sends_text(self.conversation, text)
        return await self.expect(expected, since)

    async def press(self, message: SentActivity, title: str, expected: str) -> SentActivity:
        since = time.monotonic()
        await self.teams.user_submits(self.conversation, message.action_data(title))
        return await self.expect(expected, since)


async def setup(deployment: Deployment) -> tuple[str, int]:
    """Kari (contact, with a code) at Drammen and an open round; returns her code and the round."""
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    kari = await cli(deployment, "contacts", "add", "--org", "3301", "--name", "Kari Nordmann",
                     "--role", "radmann")  # fmt: skip
    code = (await cli(deployment, "invites", "create", "--contact", str(kari["id"])))[0]["code"]
    await asyncio.to_thread(deployment.start)
    created = await cli(deployment, "rounds", "create", "--survey", "kvartalsvis-behov",
                        "--closes", "2099-12-31", "--orgs", "3301")  # fmt: skip
    return code, int(created["id"])


async def test_a_delegate_in_teams_and_a_takeover_in_telegram(deployment, stand_ins) -> None:
    teams, telegram = stand_ins
    code, _ = await setup(deployment)
    kari = TelegramMember(telegram, 7001, "Kari")
    await kari.say(f"/start {code}", "Velkommen, Kari Nordmann")

    issued = await kari.say("/deleger Ola Delegat", "Her er koden til Ola Delegat")
    ola = TeamsMember(teams, "a:1ola-teams", "29:ola", "Ola Delegat")
    await ola.install()
    welcome = await ola.say(code_in(issued.text), "på vegne av Drammen")
    assert "Velkommen, Ola Delegat" in " ".join(
        words(m) for m in teams.messages_for(ola.conversation)
    )
    offer = await teams.wait_for_activity(ola.conversation, lambda m: bool(m.actions), timeout=20)
    assert welcome is not None and offer.actions[0][0].startswith("▶️")
    before = kari.count()
    started = await ola.press(offer, offer.actions[0][0], "Du svarer på vegne av Drammen")
    assert started is not None
    await kari.expect(lambda m: "Ola Delegat har begynt å svare" in m.text, before)

    # Kari meets Ola's response: a takeover button, pressed in Telegram; Ola is told in Teams.
    refusal = await kari.say("/svar", "Ola Delegat har allerede begynt")
    since = time.monotonic()
    before = kari.count()
    taken = await kari.press(refusal, "Ta over svaret", "Du har tatt over svaret etter Ola Delegat")
    assert taken is not None
    await ola.expect("Kari Nordmann har tatt over svaret for Drammen", since)
    await kari.expect(lambda m: bool(m.buttons), before)  # the question, where Ola left it
    assert telegram.duplicates() == [] and teams.errors == []


async def test_kobling_from_telegram_to_teams_and_a_delegate_in_telegram(
    deployment, stand_ins
) -> None:
    teams, telegram = stand_ins
    code, _ = await setup(deployment)
    kari = TelegramMember(telegram, 7002, "Kari")
    offer = await kari.say(f"/start {code}", "er åpen")
    before = kari.count()
    telegram.user_presses(kari.chat, offer.message_id, TelegramStandIn.button(offer, "▶️"))
    first = await kari.expect(lambda m: any(d.startswith("t:") for d in m.callback_data), before)
    toggle = next(data for data in first.callback_data if data.startswith("t:"))
    since = time.monotonic()
    telegram.user_presses(kari.chat, first.message_id, toggle)
    await telegram.wait_for_change(kari.chat, since, within=20)
    await asyncio.sleep(0.3)
    toggled = telegram.find_message(kari.chat, first.message_id)
    assert toggled is not None
    confirm = next(data for data in toggled.callback_data if data.startswith("n:"))
    before = kari.count()
    telegram.user_presses(kari.chat, toggled.message_id, confirm)
    await kari.expect(lambda m: "viktigste behovet" in m.text, before)

    # /kobling in Telegram; the code in Teams: the same contact, where she left off.
    issued = await kari.say("/kobling", "Koden for å koble en annen chat til deg")
    in_teams = TeamsMember(teams, "a:1kari-teams", "29:kari", "Kari Nordmann")
    await in_teams.install()
    linked = await in_teams.say(code_in(issued.text), "koblet til deg, Kari Nordmann")
    resumed = await in_teams.press(linked, "Fortsett", "viktigste behovet")
    assert resumed.actions  # the question's buttons (Back, Skip, Pause)
    answered = await in_teams.say("Flere sykepleiere", "Hvor mye haster")
    assert answered.actions

    # A delegate in Telegram carries on with Kari's response; Kari takes it back in Teams.
    issued = await in_teams.say("/deleger Ola Delegat", "Her er koden til Ola Delegat")
    ola = TelegramMember(telegram, 7003, "Ola")
    await ola.say(code_in(words(issued)), "på vegne av Drammen")
    since = time.monotonic()
    carried = await ola.say("/svar", "Hvor mye haster")
    assert carried.buttons
    assert any("Du svarer på vegne av Drammen" in m.text for m in telegram.messages_for(ola.chat))
    await in_teams.expect("Ola Delegat har begynt å svare", since)
    refusal = await in_teams.say("/svar", "Ola Delegat har allerede begynt")
    before = ola.count()
    await in_teams.press(refusal, "Ta over svaret", "Hvor mye haster")
    await ola.expect(lambda m: "Kari Nordmann har tatt over svaret" in m.text, before)
    assert telegram.duplicates() == [] and teams.errors == []


async def test_handover_from_telegram_to_a_new_radmann_in_teams(deployment, stand_ins) -> None:
    teams, telegram = stand_ins
    code, round_id = await setup(deployment)
    kari = TelegramMember(telegram, 7004, "Kari")
    offer = await kari.say(f"/start {code}", "er åpen")
    before = kari.count()
    telegram.user_presses(kari.chat, offer.message_id, TelegramStandIn.button(offer, "▶️"))
    first = await kari.expect(lambda m: any(d.startswith("t:") for d in m.callback_data), before)
    toggle = next(data for data in first.callback_data if data.startswith("t:"))
    since = time.monotonic()
    telegram.user_presses(kari.chat, first.message_id, toggle)
    await telegram.wait_for_change(kari.chat, since, within=20)
    await asyncio.sleep(0.3)
    toggled = telegram.find_message(kari.chat, first.message_id)
    assert toggled is not None
    confirm = next(data for data in toggled.callback_data if data.startswith("n:"))
    before = kari.count()
    telegram.user_presses(kari.chat, toggled.message_id, confirm)
    await kari.expect(lambda m: "viktigste behovet" in m.text, before)

    contacts = await cli(deployment, "contacts", "list", "--org", "3301")
    kari_id = next(c["id"] for c in contacts if c["name"] == "Kari Nordmann")
    before = kari.count()
    done = await cli(deployment, "contacts", "replace", str(kari_id), "--by", "Nina Ny")
    assert done["responses_moved"] and done["code"]
    await kari.expect(lambda m: "Nina Ny som ny kontaktperson for Drammen" in m.text, before)
    assert "ikke registrert" in (await kari.say("/svar", "ikke registrert")).text

    nina = TeamsMember(teams, "a:1nina-teams", "29:nina", "Nina Ny")
    await nina.install()
    await nina.say(done["code"], "Velkommen, Nina Ny")
    offer_card = await teams.wait_for_activity(
        nina.conversation, lambda m: bool(m.actions), timeout=20
    )
    resumed = await nina.press(offer_card, "▶️", "viktigste behovet")  # where Kari left off
    assert resumed.actions
    history = await cli(deployment, "rounds", "history", str(round_id))
    assert any("response.moved" in str(event) for event in history)
    assert telegram.duplicates() == [] and teams.errors == []


async def answer_until_review(member: TelegramMember) -> SentMessage:
    """Answer whatever is on screen, as a member would, until the overview with "Send inn"."""
    telegram = member.telegram
    for _ in range(60):
        message = next(m for m in reversed(telegram.messages_for(member.chat)) if m.buttons)
        if "c:submit" in message.callback_data:
            return message
        choice = choose_answer([b for row in message.buttons for b in row], middle)
        since = time.monotonic()
        before = member.count()
        if choice is None:
            telegram.user_sends_text(member.chat, "Flere sykepleiere", first_name=member.name)
        else:
            telegram.user_presses(member.chat, message.message_id, choice)
        await telegram.wait_for_change(member.chat, since, within=20)
        if choice is None or not choice.startswith(("t:", "r:", "m:")):  # not a toggle
            # The answered question is edited first; the next one follows at the chat's pace.
            await member.expect(lambda m: bool(m.buttons), before)
    raise AssertionError("never reached the review")


async def test_a_delegates_answer_in_telegram_is_approved_in_teams(deployment, stand_ins) -> None:
    teams, telegram = stand_ins
    code, round_id = await setup(deployment)
    await cli(deployment, "rounds", "approval", str(round_id), "--on")
    kari = TeamsMember(teams, "a:1kari-approves", "29:kari", "Kari Nordmann")
    await kari.install()
    await kari.say(code, "Velkommen, Kari Nordmann")
    issued = await kari.say("/deleger Ola Delegat", "Her er koden til Ola Delegat")

    ola = TelegramMember(telegram, 7005, "Ola")
    offer = await ola.say(code_in(words(issued)), "er åpen")
    before = ola.count()
    telegram.user_presses(ola.chat, offer.message_id, TelegramStandIn.button(offer, "▶️"))
    await ola.expect(lambda m: bool(m.buttons), before)
    review = await answer_until_review(ola)
    since = time.monotonic()
    before = ola.count()
    telegram.user_presses(ola.chat, review.message_id, "c:submit")
    await ola.expect(lambda m: "venter nå på godkjenning fra Kari Nordmann" in m.text, before)
    status = await cli(deployment, "rounds", "status", str(round_id))
    assert (status["started"], status["submitted"]) == (1, 0)  # not in until approved

    request = await kari.expect("ber deg godkjenne", since)
    assert [title for title, _ in request.actions] == ["✅ Godkjenn og send inn", "↩️ Send tilbake"]
    before = ola.count()
    await kari.press(request, "Godkjenn", "godkjent og sendt inn")
    await ola.expect(lambda m: "Kari Nordmann har godkjent svaret" in m.text, before)
    status = await cli(deployment, "rounds", "status", str(round_id))
    assert status["submitted"] == 1
    assert telegram.duplicates() == [] and teams.errors == []

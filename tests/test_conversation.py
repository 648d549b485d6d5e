"""The conversation use case on both databases: registration, commands, the survey, idempotency.

Events go through the real InboundProcessor (record, then process in one transaction);
replies are read from the outbox, exactly as a channel would receive them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dialogs.messages import OutgoingMessage
from services import lifecycle
from services.contacts import add_contact
from services.conversation import Conversation
from services.inbound import Inbound, InboundProcessor
from services.invites import issue_code
from services.lifecycle import open_round
from services.response_rate import progress_lines, round_progress
from services.rounds import Audience, create_round
from services.surveys import SurveyCatalog, latest_version, register_shipped_surveys
from storage.orm import Answer, InboundEvent, Organisation, OutboxMessage, Response, utcnow
from tests.bokmal_words import bokmal_words

ZONE = ZoneInfo("Europe/Oslo")
_keys = count(1)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


class Member:
    """A chat, typing and pressing; ``inbox`` is what the bot queued for it."""

    def __init__(self, harness: Harness, address: str) -> None:
        self.harness = harness
        self.address = address

    async def say(self, text: str) -> list[OutgoingMessage]:
        return await self.harness.send(
            Inbound(
                channel="telegram",
                address=self.address,
                user_id=self.address,
                update_key=str(next(_keys)),
                kind="text",
                text=text,
            )
        )

    async def press(self, payload: str) -> list[OutgoingMessage]:
        return await self.harness.send(
            Inbound(
                channel="telegram",
                address=self.address,
                user_id=self.address,
                update_key=str(next(_keys)),
                kind="press",
                payload=payload,
            )
        )

    def buttons(self) -> list[str]:
        last = next(m for m in reversed(self.harness.sent[self.address]) if m.buttons)
        return [b.payload for b in last.all_buttons()]


class Harness:
    def __init__(self, sessions) -> None:
        self.sessions = sessions
        self.clock = Clock()
        self.conversation = Conversation(catalog=SurveyCatalog(), zone=ZONE, clock=self.clock)
        self.processor = InboundProcessor(
            sessions, self.conversation.handle, self.conversation.apologise, lambda: None
        )
        self.sent: dict[str, list[OutgoingMessage]] = {}
        self.seen_outbox = 0

    async def send(self, event: Inbound) -> list[OutgoingMessage]:
        for row_id, _ in await self.processor.record([event]):
            await self.processor.process(row_id)
        return await self.collect(event.address)

    async def collect(self, address: str) -> list[OutgoingMessage]:
        async with self.sessions() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.id > self.seen_outbox)
                    .order_by(OutboxMessage.id)
                )
            ).all()
        new: list[OutgoingMessage] = []
        for row in rows:
            self.seen_outbox = row.id
            message = OutgoingMessage.model_validate(row.payload)
            self.sent.setdefault(row.address, []).append(message)
            if row.address == address:
                new.append(message)
        return new


@pytest.fixture
async def world(sessions):
    harness = Harness(sessions)
    async with sessions() as session, session.begin():
        await register_shipped_surveys(session)
        kari = await add_contact(session, "3301", "Kari Nordmann", "kommunedirektor", None)
        per = await add_contact(session, "3301", "Per Hansen", "assistent", None)
        code_kari = (await issue_code(session, kari.id, harness.clock.now, timedelta(days=60))).code
        code_per = (await issue_code(session, per.id, harness.clock.now, timedelta(days=60))).code
    return harness, code_kari, code_per


async def open_new_round(
    harness: Harness, days: int = 14, orgs: tuple[str, ...] = ("3301",), *, edits: bool = True
) -> int:
    async with harness.sessions() as session, session.begin():
        version = await latest_version(session, "kvartalsvis-behov")
        round_ = await create_round(
            session,
            survey_version_id=version.id,
            title="Behov Q4",
            audience=Audience(org_codes=orgs),
            opens_at=harness.clock.now,
            closes_at=harness.clock.now + timedelta(days=days),
            allow_edit_after_submit=edits,
        )
        await open_round(session, round_, harness.clock.now, ZONE, actor="test")
        return round_.id


def text_of(messages: list[OutgoingMessage]) -> str:
    return "\n".join(m.text for m in messages)


async def test_registration_by_deep_link_and_by_typing_the_code(world) -> None:
    harness, code_kari, code_per = world
    kari = Member(harness, "100")
    replies = await kari.say(f"/start {code_kari}")
    assert "Velkommen, Kari Nordmann" in text_of(replies) and "Drammen" in text_of(replies)
    assert "ingen åpne undersøkelser" in text_of(replies)
    per = Member(harness, "200")
    assert "invitasjonskoden" in text_of(await per.say("/start"))
    assert "Velkommen, Per Hansen" in text_of(await per.say(code_per.lower()))


async def test_a_code_typed_in_a_new_chat_registers_it_without_start(world) -> None:
    """A member who pastes the code from the letter, and never pressed /start, is in."""
    harness, code_kari, _ = world
    kari = Member(harness, "300")
    spaced = f"{code_kari[:5].lower()} - {code_kari[5:]}"
    assert "Velkommen, Kari Nordmann" in text_of(await kari.say(spaced))
    stranger = Member(harness, "301")
    wrong = text_of(await stranger.say("ABCDEFGHJK"))  # code-shaped: checked, and refused
    assert "kjenner jeg ikke igjen" in wrong
    assert "ikke registrert" in text_of(await stranger.say("Hei, jeg vil svare"))


async def test_unregistered_chats_get_guidance_not_errors(world) -> None:
    harness, *_ = world
    stranger = Member(harness, "999")
    assert "ikke registrert" in text_of(await stranger.say("hei"))
    assert "ikke registrert" in text_of(await stranger.press("a:omrader:x"))
    assert "ikke registrert" in text_of(await stranger.say("/svar"))
    assert "kjenner jeg ikke igjen" in text_of(await stranger.say("/start NOPE"))


async def test_during_a_flood_of_wrong_codes_a_member_still_registers(world) -> None:
    """Many throwaway chats guessing codes: the member with a real code is welcomed at
    once, and someone who mistypes hears why they get fewer tries than usual."""
    from services.invites import FLOOD_FAILURES_PER_MINUTE

    harness, code_kari, code_per = world
    for index in range(FLOOD_FAILURES_PER_MINUTE + 10):
        await Member(harness, f"9{index:04d}").say(f"/start GUESS{index:05d}")
    kari = Member(harness, "100")
    assert "Velkommen, Kari Nordmann" in text_of(await kari.say(f"/start {code_kari}"))

    per = Member(harness, "200")
    first = text_of(await per.say("/start ABCDEFGHJK"))
    assert "kjenner jeg ikke igjen" in first and "strengere enn vanlig" in first
    assert "ett forsøk igjen" in first
    second = text_of(await per.say("/start ABCDEFGHJK"))
    assert "Vent 15 minutter" in second
    locked = text_of(await per.say(f"/start {code_per}"))
    assert "For mange feil forsøk" in locked and "ta kontakt med KS" in locked
    assert await per.say(f"/start {code_per}") == []  # told once; the flood is not answered twice
    async with harness.sessions() as session:
        priorities = dict(
            (
                await session.execute(
                    select(OutboxMessage.address, OutboxMessage.priority).where(
                        OutboxMessage.address.in_(["100", "200", "90000"])
                    )
                )
            ).all()
        )
    # Refusals wait behind everything else; the welcome does not wait behind them.
    assert priorities["100"] > priorities["200"]
    assert priorities["90000"] == priorities["100"]  # before the flood: an ordinary reply


async def test_invitation_start_answer_and_submit(world) -> None:
    harness, code_kari, _ = world
    kari = Member(harness, "100")
    await kari.say(f"/start {code_kari}")
    round_id = await open_new_round(harness)
    invitation = text_of(await harness.collect("100"))
    assert "Behov Q4" in invitation and "Svarfrist" in invitation
    replies = await kari.press(f"r:{round_id}")
    assert "Hei, Kari Nordmann" in replies[0].text
    opening = " ".join(replies[0].text.split())
    assert "omtrent fem minutter" in opening
    assert "slettes 24 måneder etter at runden er stengt" in opening  # the round's retention
    assert replies[-1].text.startswith("Spørsmål 1 · om lag 14 igjen\n")
    await kari.press("t:omrader:helse")
    answered, first_need = await kari.press("n:omrader")
    # The answered question's message is edited to show the answer, without buttons,
    # before the next question; the counter moves on by one and the estimate drops.
    assert answered.replaces == "q:omrader" and answered.edit_only and not answered.buttons
    assert answered.text.endswith("✓ Svar: Helse og omsorg")
    assert first_need.text.startswith("Spørsmål 2 · om lag 7 igjen\n")
    typed = await kari.say("Flere sykepleiere")
    assert typed[0].replaces == "q:omrader.helse.behov" and typed[0].edit_only
    assert typed[0].text.endswith("✓ Svar: Flere sykepleiere")
    await kari.press("a:omrader.helse.haster:5")
    await kari.press("a:omrader.helse.losning:alene")
    await kari.press("t:fra_ks:kunnskap")
    await kari.press("n:fra_ks")
    await kari.press("a:fornoyd:4")
    await kari.press("a:kontakt:ja")
    await kari.press("a:navngi:nei")
    review = await kari.press("c:skip")
    assert "c:submit" in kari.buttons(), text_of(review)
    sent_in = await kari.press("c:submit")
    assert sent_in[0].replaces == "review" and sent_in[0].edit_only and not sent_in[0].buttons
    receipt = text_of(sent_in)
    assert "Takk, Kari Nordmann" in receipt
    async with harness.sessions() as session:
        response = await session.scalar(select(Response))
        answers = {a.question_id: a.value for a in await session.scalars(select(Answer))}
    assert response.status == "submitted" and response.submitted_at is not None
    assert answers["omrader"] == ["helse"] and answers["omrader.helse.behov"] == "Flere sykepleiere"
    assert answers["annet"] is None
    status = text_of(await kari.say("/status"))
    assert "Sendt inn" in status and "Flere sykepleiere" in status
    assert "du kan endre det til" in text_of(await kari.say("/svar"))


async def test_a_redelivered_update_changes_nothing(world) -> None:
    harness, code_kari, _ = world
    event = Inbound(
        channel="telegram",
        address="100",
        user_id="100",
        update_key="77",
        kind="text",
        text=f"/start {code_kari}",
    )
    first = await harness.send(event)
    second = await harness.send(event)
    assert first and second == []
    async with harness.sessions() as session:
        assert len((await session.scalars(select(InboundEvent))).all()) == 1


async def test_one_response_per_organisation(world) -> None:
    harness, code_kari, code_per = world
    kari, per = Member(harness, "100"), Member(harness, "200")
    await kari.say(f"/start {code_kari}")
    await per.say(f"/start {code_per}")
    round_id = await open_new_round(harness)
    await kari.press(f"r:{round_id}")
    assert "Kari Nordmann har allerede begynt" in text_of(await per.press(f"r:{round_id}"))


async def test_pause_and_resume_days_later_where_they_left_off(world) -> None:
    harness, code_kari, _ = world
    kari = Member(harness, "100")
    await kari.say(f"/start {code_kari}")
    await kari.press(f"r:{await open_new_round(harness)}")
    await kari.press("t:omrader:okonomi")
    await kari.press("n:omrader")
    assert "lagret" in text_of(await kari.say("/pause"))
    harness.clock.now += timedelta(days=3)
    resumed = text_of(await kari.say("/svar"))
    assert "Økonomi og handlingsrom: Hva er det viktigste behovet" in resumed


async def test_the_deadline_closes_an_unfinished_response(world) -> None:
    harness, code_kari, _ = world
    kari = Member(harness, "100")
    await kari.say(f"/start {code_kari}")
    await kari.press(f"r:{await open_new_round(harness, days=1)}")
    await kari.press("t:omrader:okonomi")
    harness.clock.now += timedelta(days=2)
    replies = text_of(await kari.press("n:omrader"))
    assert "stengt" in replies
    async with harness.sessions() as session:
        response = await session.scalar(select(Response))
    assert response.status == "incomplete"


async def test_unknown_commands_other_content_and_bad_payloads(world) -> None:
    harness, code_kari, _ = world
    kari = Member(harness, "100")
    await kari.say(f"/start {code_kari}")
    assert "kjenner ikke kommandoen /foo" in text_of(await kari.say("/foo"))
    assert "ikke midt i en undersøkelse" in text_of(await kari.say("bare tekst"))
    assert text_of(await kari.press("zzz" * 100))
    photo = await harness.send(
        Inbound(channel="telegram", address="100", user_id="100", update_key="p1", kind="other")
    )
    assert "tekst og knapper" in text_of(photo)
    assert "/svar" in text_of(await kari.say("/hjelp"))


async def test_a_handler_failure_is_logged_and_apologised_for(world, monkeypatch) -> None:
    harness, *_ = world

    async def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(harness.processor, "_handler", broken)
    replies = await Member(harness, "100").say("hei")
    assert "noe gikk galt" in text_of(replies)
    async with harness.sessions() as session:
        row = await session.scalar(select(InboundEvent))
    assert row.processed_at is not None and row.error


async def submit_shortest_path(member: Member, round_id: int) -> str:
    """Start a round and send in the shortest complete answer; returns the receipt."""
    await member.press(f"r:{round_id}")
    for payload in ("t:omrader:helse", "n:omrader"):
        await member.press(payload)
    await member.say("Flere sykepleiere")
    for payload in ("a:omrader.helse.haster:5", "a:omrader.helse.losning:alene", "t:fra_ks:kunnskap",
                    "n:fra_ks", "a:fornoyd:4", "a:kontakt:ja", "a:navngi:nei", "c:skip"):  # fmt: skip
        await member.press(payload)
    return text_of(await member.press("c:submit"))


async def test_svar_after_submitting_says_who_sent_it_when_and_until_when_it_is_open(
    world,
) -> None:
    harness, code_kari, code_per = world
    kari, per = Member(harness, "100"), Member(harness, "200")
    await kari.say(f"/start {code_kari}")
    await per.say(f"/start {code_per}")
    round_id = await open_new_round(harness, edits=False)  # changes: test_conversation_reuse
    assert "Takk, Kari Nordmann" in await submit_shortest_path(kari, round_id)
    harness.clock.now += timedelta(hours=2)

    (own,) = await kari.say("/svar")
    assert "Drammen har allerede sendt inn svaret på «Behov Q4»" in own.text
    assert "kan svaret ikke endres" in own.text and not own.buttons
    assert "Du sendte det inn" in own.text and "Runden er åpen til" in own.text
    assert "/status" in own.text and "ingen åpne undersøkelser" not in own.text
    (colleague,) = await per.say("/svar")
    assert "Kari Nordmann sendte det inn" in colleague.text and "åpen til" in colleague.text
    # The invitation's start button, pressed after the colleague sent the answer in.
    (pressed,) = await per.press(f"r:{round_id}")
    assert pressed.text == colleague.text and "har allerede begynt" not in pressed.text


async def test_contacts_who_register_after_the_round_opened_count_as_invited(world) -> None:
    harness, *_ = world
    orgs = ("3301", "0301", "4601", "5001", "1103")
    round_id = await open_new_round(harness, orgs=orgs)  # nobody has a chat yet
    codes = []
    async with harness.sessions() as session, session.begin():
        for number, org in enumerate(orgs):
            contact = await add_contact(session, org, f"Sen Registrert {number}", "radmann", None)
            codes.append(
                (await issue_code(session, contact.id, harness.clock.now, timedelta(days=9))).code
            )
    for number, code in enumerate(codes):
        member = Member(harness, f"late-{number}")
        welcome = await member.say(f"/start {code}")
        assert f"r:{round_id}" in member.buttons(), text_of(welcome)  # offered in chat
        if number < 4:
            await member.press(f"r:{round_id}")
    async with harness.sessions() as session:
        progress = await round_progress(session, round_id)
    assert (progress.total.invited, progress.total.started) == (5, 4)
    assert "Invitert: 5 av 5 · påbegynt: 4 · sendt inn: 0 (0%)" in progress_lines(progress)

    async with harness.sessions() as session, session.begin():  # they hear it is off, too
        round_ = await lifecycle.load_round(session, round_id)
        result = await lifecycle.cancel_round(session, round_, harness.clock.now, actor="test")
    assert result.notified == 5
    await harness.collect("late-4")
    assert "har avlyst «Behov Q4»" in harness.sent["late-4"][-1].text


async def test_an_organisation_that_writes_nynorsk_reads_the_survey_in_nynorsk(world) -> None:
    """The survey's own texts (intro, questions, options, follow-ups with their option,
    short labels in the review, receipt) come in the organisation's language; the answers
    stored are the same option values as in bokmål."""
    harness, code_kari, _ = world
    async with harness.sessions() as session, session.begin():
        organisation = await session.scalar(select(Organisation).where(Organisation.code == "3301"))
        organisation.language = "nn"
        name = organisation.name
    kari = Member(harness, "100")
    await kari.say(f"/start {code_kari}")
    round_id = await open_new_round(harness)
    await harness.collect("100")
    replies = await kari.press(f"r:{round_id}")
    intro, first = replies[0].text, replies[-1]
    assert f"KS vil vite kva {name} treng mest akkurat no" in intro and "Hei, Kari" in intro
    assert "Hvem ser svarene" not in intro and bokmal_words(intro) == []
    question = first.text.splitlines()[1]
    assert question == (
        f"Kva område er viktigast for {name} å få hjelp med no? Vel eitt til tre. "
        "Står ikkje området her, vel «Anna»."
    )
    labels = [b.label for b in first.all_buttons()]
    assert "☐ Arbeidsgivarpolitikk, rekruttering og leiing" in labels
    assert "☐ Anna (noko som ikkje står her)" in labels
    await kari.press("t:omrader:helse")
    answered, first_need = await kari.press("n:omrader")
    assert answered.text.endswith("Svar: Helse og omsorg")
    need = first_need.text.splitlines()[1:3]
    assert need == [
        "Helse og omsorg: Kva er det viktigaste behovet de har her? Skildre det med eigne ord.",
        "Skriv ikkje personopplysningar eller teiepliktig informasjon.",
    ]
    await kari.say("Fleire sjukepleiarar")
    await kari.press("a:omrader.helse.haster:5")
    solution = (await kari.press("a:omrader.helse.losning:alene"))[0]
    assert solution.text.startswith(f"Helse og omsorg: Kven treng {name} for å løyse dette?")
    await kari.press("t:fra_ks:kunnskap")
    await kari.press("n:fra_ks")
    await kari.press("a:fornoyd:4")
    await kari.press("a:kontakt:ja")
    await kari.press("a:navngi:nei")
    review = text_of(await kari.press("c:skip"))
    answers = [line for line in review.splitlines() if line[:1].isdigit()]
    assert answers[0] == "1. Viktigaste område: Helse og omsorg"
    assert "4. Kven som trengst: Helse og omsorg: Vi kan løyse det åleine" in answers
    assert "8. Kan visast med namn: Nei" in answers
    for text in (question, *labels[:7], *need, *(line.split(":")[0] for line in answers)):
        assert bokmal_words(text) == [], text
    receipt = text_of(await kari.press("c:submit"))
    assert f"Takk, Kari Nordmann! Svaret frå {name} er sendt inn." in receipt
    assert "KS samanstiller svara frå alle medlemmene" in receipt
    async with harness.sessions() as session:
        stored = {a.question_id: a.value for a in await session.scalars(select(Answer))}
    assert stored["omrader"] == ["helse"] and stored["omrader.helse.losning"] == "alene"

"""The annual cycle speaks each recipient's language (issue 15).

One run of the cycle on a fake clock, with a nynorsk organisation, a second nynorsk one,
a bokmål one, and a bokmål organisation whose contact chose English: the invitations,
reminders, closing notice, action notice, ``/status``, ``/arshjul`` and ``/tiltak`` each
come out in the contact's language, and nothing meant as nynorsk has a bokmål-only word
(``tests/bokmal_words.py``). The pure texts are checked in nordsamisk and English too.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from dialogs import cycle_texts
from dialogs.action_texts import MemberAction, NeedQuote, action_notice, actions_message
from dialogs.criteria import CRITERIA, RATINGS, criterion_name, rating_name
from dialogs.dissemination_texts import dissemination_notice
from dialogs.i18n import speaking
from dialogs.wheel import WheelAction, WheelRound, wheel_message
from services import action_plans, actions
from services.audit import CLI
from services.rounds import Audience
from services.views_needs import NeedKey
from storage.orm import ActionCriterion, Answer, Contact, Organisation, Response
from tests.action_plans_support import staff_member
from tests.bokmal_words import bokmal_words
from tests.cycle_support import World, oslo

NN_STARTED, NN_LATE, NB, EN = "4602", "1505", "3301", "4601"
OPENS, CLOSES = "2027-01-11 09:00", "2027-01-29 16:00"
OSLO = ZoneInfo("Europe/Oslo")


MEMBERS_OWN_WORDS = "Vi trenger bedre samarbeid om digitalisering."  # cycle_support's answer


def nynorsk(text: str) -> str:
    """``text``, after checking it has no bokmål-only word (the need the member wrote, in
    bokmål, is quoted back as written: it is theirs, not Lyttepost's)."""
    assert bokmal_words(text.replace(MEMBERS_OWN_WORDS, "")) == [], text
    return text


async def last_text(world: World, code: str) -> str:
    return (await world.messages(code))[-1].message.text


async def one(world: World, kind: str, code: str, round_id: int | None = None) -> str:
    (sent,) = [s for s in await world.of_kind(kind, round_id) if s.address == f"chat-{code}"]
    return sent.message.text + "\n" + " ".join(b.label for b in sent.message.all_buttons())


async def choose_languages(world: World) -> None:
    async with world.sessions() as session, session.begin():
        await session.execute(
            update(Organisation)
            .where(Organisation.code.in_([NN_STARTED, NN_LATE]))
            .values(language="nn")
        )
        await session.execute(
            update(Contact).where(Contact.id == world.contacts[EN]).values(language="en")
        )


async def need_of(world: World, code: str, round_id: int) -> NeedKey:
    """The first written need of the organisation's response."""
    async with world.sessions() as session:
        response_id, question_id = (
            await session.execute(
                select(Answer.response_id, Answer.question_id)
                .join(Response, Response.id == Answer.response_id)
                .join(Organisation, Organisation.id == Response.organisation_id)
                .where(
                    Organisation.code == code,
                    Response.round_id == round_id,
                    Answer.question_id.like("omrader.%.behov"),
                )
                .order_by(Answer.question_id)
                .limit(1)
            )
        ).one()
    return NeedKey(response_id, question_id)


async def test_a_round_speaks_nynorsk_to_nynorsk_members_and_bokmal_to_the_rest(sessions) -> None:
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup([NN_STARTED, NN_LATE, NB, EN])
    await choose_languages(world)
    round_id = await world.make_round(
        "Behov vår 2027", OPENS, CLOSES, audience=Audience(org_codes=(NN_STARTED, NN_LATE, NB, EN))
    )

    # The round opens: one invitation each, in the contact's language.
    await world.run_until(oslo(OPENS) + timedelta(minutes=5))
    invited = nynorsk(await one(world, "invitation", NN_STARTED, round_id))
    assert "Vi vil gjerne høyre kva de treng" in invited and "▶️ Start undersøkinga" in invited
    assert "Svarfrist: 29. januar 2027 kl. 16.00" in invited
    bokmal = await one(world, "invitation", NB, round_id)
    assert "Vi vil gjerne høre hva dere trenger" in bokmal and "▶️ Start undersøkelsen" in bokmal
    english = await one(world, "invitation", EN, round_id)
    assert "We would like to hear what you need" in english
    assert "Deadline: 29 January 2027 at 16:00" in english

    # Kinn begins; the first reminder tells it to carry on and the others to begin.
    await world.answer(NN_STARTED, round_id, questions=3)
    first_reminder = min(
        t.at
        for t in await world.cycle.triggers()
        if t.job_id.startswith(f"round:{round_id}:remind")
    )
    await world.run_until(first_reminder + timedelta(minutes=1))
    carry_on = nynorsk(await one(world, "reminder", NN_STARTED, round_id))
    assert "Ei påminning" in carry_on and "er påbyrja, men ikkje sendt inn enno" in carry_on
    assert "▶️ Hald fram" in carry_on
    begin = nynorsk(await one(world, "reminder", NN_LATE, round_id))
    assert "KS har ikkje fått svar frå" in begin and "▶️ Svar no" in begin
    assert "KS har ikke fått svar fra" in await one(world, "reminder", NB, round_id)

    # /status and /arshjul, in the middle of the round.
    await world.say(NN_STARTED, "/status")
    status = nynorsk(await last_text(world, NN_STARTED))
    assert "– open, frist 29. januar 2027 kl. 16.00" in status
    assert re.search(
        r"Påbyrja: \d+ av \d+ spørsmål svart på\. Skriv /svar for å halde fram\.", status
    )
    await world.say(NB, "/status")
    assert "Ikke startet. Skriv /svar for å begynne." in await last_text(world, NB)
    await world.say(NN_LATE, "/arshjul")
    wheel = nynorsk(await last_text(world, NN_LATE))
    assert "Open no:" in wheel and "De har ikkje svart enno. Skriv /svar for å byrje." in wheel
    await world.say(NB, "/arshjul")
    assert "Dere har ikke svart ennå." in await last_text(world, NB)

    # Kinn and Drammen send in; Kristiansund begins and never finishes.
    await world.answer(NN_STARTED, round_id)
    await world.answer(NB, round_id)
    await world.answer(NN_LATE, round_id, questions=2)
    await world.run_until(oslo(CLOSES) + timedelta(days=4))
    closed = nynorsk(await one(world, "round_closed", NN_LATE, round_id))
    assert "vart ikkje sendt inn før fristen" in closed and "samandraget" in closed

    # KS starts an action on both organisations' needs: each hears it in their language.
    async with world.sessions() as session, session.begin():
        action, told = await actions.create_action(
            session, world.catalog, title="Digitalt samarbeid", status="in_progress",
            responsible_unit="KS Digitalisering",
            starts_on=date(2027, 3, 1), ends_on=date(2027, 12, 31),
            needs=[await need_of(world, NN_STARTED, round_id), await need_of(world, NB, round_id)],
            actor=CLI, now=world.clock.now,
        )  # fmt: skip
        session.add_all([
            ActionCriterion(action_id=action.id, criterion=3, rating="met", reasoning="",
                            assessed_by="test"),
            ActionCriterion(action_id=action.id, criterion=6, rating="partly", reasoning="",
                            assessed_by="test"),
        ])  # fmt: skip
    assert told == 2
    notice = nynorsk(await one(world, "action_notice", NN_STARTED))
    assert (
        "melde de behov om" in notice and "KS har starta eit tiltak som svarar på dette" in notice
    )
    assert "KS har startet et tiltak som svarer på dette" in await one(world, "action_notice", NB)

    await world.say(NN_STARTED, "/tiltak")
    listing = nynorsk(await last_text(world, NN_STARTED))
    assert "Tiltak frå KS som svarar på behov" in listing
    assert "Ansvarleg i KS: KS Digitalisering · 1. mars 2027–31. desember 2027" in listing
    assert "✓ Speglar behova i sektoren" in listing
    assert "◐ Gjeld område med stor økonomisk tyding (delvis oppfylt)" in listing
    assert "KS fortel dykk her når eit tiltak startar eller er gjennomført." in listing
    await world.say(NB, "/tiltak")
    assert f"✓ {CRITERIA[2]}" in await last_text(world, NB)

    await world.say(NN_STARTED, "/arshjul")
    held = nynorsk(await last_text(world, NN_STARTED))
    assert "Gjennomført:\n• «Behov vår 2027» – stengde 29. januar 2027: de svara" in held
    assert "Dette gjer KS med innspela:\n  – «Digitalt samarbeid» (i gang)" in held
    await world.say(NB, "/arshjul")
    assert "Dette gjør KS med innspillene:" in await last_text(world, NB)

    # KS shares the results: its own words, framed in each organisation's language.
    async with world.sessions() as session, session.begin():
        kari = await staff_member(session, "Kari Rådgiver", "kari@ks.no")
        step = await action_plans.add_step(
            session, action.id, staff_id=kari, channel="nyheitsbrev",
            due_on=world.clock.now.date(), actor=CLI, now=world.clock.now,
        )  # fmt: skip
        await action_plans.send_dissemination_notice(
            session, step.id, "Rapporten ligg på ks.no.", actor=CLI, now=world.clock.now
        )
    shared = [s.message.text for s in await world.messages(NN_STARTED)][-1]
    assert nynorsk(shared).startswith("Nytt frå KS om «Digitalt samarbeid», eit tiltak som")
    assert (await last_text(world, NB)).startswith("Nytt fra KS om «Digitalt samarbeid»")


def test_the_cycle_texts_in_nordsamisk_and_english() -> None:
    moment = datetime(2027, 1, 29, 15, 0, tzinfo=UTC)
    with speaking("se"):
        reminder = cycle_texts.reminder(
            contact_name="Ánde", org_name="Kárášjoga gielda", title="Dárbbut 2027",
            closes="29. januar 2027", round_id=7, started=False,
        )  # fmt: skip
        assert reminder.text.startswith("Bures, Ánde! Muittuhus:")
        assert reminder.buttons[0][0].label == "▶️ Vástit dál"
    with speaking("en"):
        wheel = wheel_message(
            "Bergen",
            [WheelRound("Needs 2027", "closed", moment - timedelta(days=20), moment, "no",
                        actions=(WheelAction("Shared records", "done"),))],
            moment + timedelta(days=1), OSLO,
        ).text  # fmt: skip
        assert "• «Needs 2027» – closed 29 January 2027: you did not answer" in wheel
        assert "  – «Shared records» (done)" in wheel
        assert "Type /tiltak to see the actions" in wheel
        assert dissemination_notice(action_title="A", text="B").text.startswith("News from KS")
    with speaking("nn"):
        closed = cycle_texts.round_closed(
            org_name="Kinn", title="Q1", closes="1. mars", was_due="8. mars"
        )  # fmt: skip
        nynorsk(closed.text)
        assert "før den opphavlege fristen 8. mars" in closed.text
        nynorsk(cycle_texts.round_cancelled(org_name="Kinn", title="Q1").text)
        nynorsk(
            cycle_texts.deadline_changed(org_name="Kinn", title="Q1", closes="x", round_id=1).text
        )
        quote = NeedQuote("Q1", "Helse", "")
        for status in ("planned", "in_progress", "done", "dropped"):
            nynorsk(action_notice(title="T", status=status, needs=[quote, quote], first=False).text)
        nynorsk(actions_message("Kinn", []).text)
        nynorsk(
            actions_message(
                "Kinn", [MemberAction("T", "dropped", "", "", date(2027, 1, 1), None, (quote,))]
            ).text
        )
        for number in range(1, 11):
            nynorsk(criterion_name(number))
        nynorsk(rating_name("not"))


def test_members_read_the_same_criteria_in_bokmal_as_staff() -> None:
    """The workspace's bokmål names and the catalogue's are the same words."""
    with speaking("nb"):
        assert [criterion_name(n) for n in range(1, 11)] == list(CRITERIA)
        assert {key: rating_name(key) for key in RATINGS} == RATINGS

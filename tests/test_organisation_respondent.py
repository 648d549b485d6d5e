# ruff: noqa: F811  (world is the conversation tests' fixture, imported)
"""The organisation as respondent (ADR 20), on both databases: delegates and approval,
taking over a colleague's response, handover when the contact changes, and one person
linking a second chat. Through the real InboundProcessor, replies read from the outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dialogs import texts
from services import organisation
from services.lifecycle import waiting_contacts
from services.organisation import NewPerson, replace_contact, set_require_approval
from services.privacy import erase_contact
from services.response_rate import round_progress
from storage.orm import Chat, Contact, Invitation, Response, ResponseVersion, Round, RoundEvent
from tests.test_conversation import (  # noqa: F401  (world is a fixture)
    Harness,
    Member,
    open_new_round,
    submit_shortest_path,
    text_of,
    world,
)


def code_in(text: str) -> str:
    """The code a reply shows (the word after «koden ...: »)."""
    return text.split(": ", 1)[1].split()[0]


async def registered(harness: Harness, address: str, code: str) -> Member:
    member = Member(harness, address)
    await member.say(f"/start {code}")
    return member


async def response_row(harness: Harness) -> Response:
    async with harness.sessions() as session:
        response = await session.scalar(select(Response))
    assert response is not None
    return response


async def test_a_delegate_registers_answers_on_behalf_and_the_radmann_is_told(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, "100", code_kari)
    round_id = await open_new_round(harness)
    assert "navnet" in text_of(await kari.say("/deleger"))
    (issued,) = await kari.say("/deleger Ola Delegat")
    assert "Her er koden til Ola Delegat" in issued.text and "én gang" in issued.text
    code = code_in(issued.text)
    async with harness.sessions() as session:
        stored = await session.scalar(select(Invitation).where(Invitation.kind == "delegate"))
        assert stored is not None and code not in stored.code_hash  # only the hash
        delegate = await session.get(Contact, stored.contact_id)
        assert (
            delegate is not None and delegate.delegate_for_contact_id == stored.issued_by_contact_id
        )

    ola = Member(harness, "300")
    welcome = text_of(await ola.say(code))  # the code pasted alone registers too
    assert "Velkommen, Ola Delegat" in welcome and "på vegne av Drammen" in welcome
    assert f"r:{round_id}" in ola.buttons()
    started = await ola.press(f"r:{round_id}")
    assert "Du svarer på vegne av Drammen" in text_of(started) and started[-1].buttons
    told = await harness.collect("100")
    assert "Ola Delegat har begynt å svare på «Behov Q4»" in text_of(harness.sent["100"])
    assert told == [] or all("begynt" in m.text for m in told)
    await ola.press(f"r:{round_id}")  # resuming does not tell Kari twice
    assert text_of(harness.sent["100"]).count("har begynt å svare") == 1

    # Kari's /svar meets the delegate's response: a takeover, not a second response.
    (offer,) = await kari.say("/svar")
    assert "Ola Delegat har allerede begynt" in offer.text and offer.buttons
    await kari.press(offer.all_buttons()[0].payload)
    assert "Kari Nordmann har tatt over svaret" in harness.sent["300"][-1].text
    # Ola carries on again (a delegate needs no button for the one they answer for);
    # Kari is told that, once more.
    assert (await ola.say("/svar"))[-1].buttons
    await harness.collect("100")
    assert "Ola Delegat har tatt over svaret for Drammen" in harness.sent["100"][-1].text

    receipt = await submit_shortest_path(ola, round_id)
    assert "Takk" in receipt
    assert (await response_row(harness)).status == "submitted"
    assert "Ola Delegat har sendt inn svaret" in text_of(harness.sent["100"])
    # A delegate cannot hand the task on.
    assert "kan ikke gi tilgangen videre" in text_of(await ola.say("/deleger Noen Andre"))


async def test_a_delegates_answer_waits_for_approval_when_the_round_requires_it(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, "100", code_kari)
    round_id = await open_new_round(harness)
    async with harness.sessions() as session, session.begin():
        await set_require_approval(session, round_id, True, harness.clock.now, "test")
    ola = Member(harness, "300")
    await ola.say(f"/start {code_in((await kari.say('/deleger Ola Delegat'))[-1].text)}")

    receipt = await submit_shortest_path(ola, round_id)
    assert "venter nå på godkjenning fra Kari Nordmann" in receipt
    response = await response_row(harness)
    assert response.status == "awaiting_approval" and response.submitted_at is None
    async with harness.sessions() as session:
        progress = await round_progress(session, round_id)
    assert (progress.total.started, progress.total.submitted) == (1, 0)  # not in yet
    request = harness.sent["100"][-1]
    assert "ber deg godkjenne" in request.text and "Flere sykepleiere" in request.text
    payloads = [b.payload for b in request.all_buttons()]
    assert payloads == [f"org:approve:{response.id}", f"org:return:{response.id}"]
    # Meanwhile: the delegate hears it waits; Kari's /svar shows the summary again.
    assert "venter nå på godkjenning" in text_of(await ola.say("/svar"))
    assert "venter nå på godkjenning" in text_of(await ola.say("noe tekst"))
    status = text_of(await ola.say("/status"))
    assert "venter på godkjenning" in status and "Flere sykepleiere" in status
    (again,) = await kari.say("/svar")
    assert [b.payload for b in again.all_buttons()] == payloads
    # Reminders now reach only Kari, who has the approval left to do (not Ola, who is done).
    async with harness.sessions() as session:
        round_ = await session.get(Round, round_id)
        assert round_ is not None
        assert await waiting_contacts(session, round_) == (1, 1)
    # Only Kari may approve.
    assert "venter ikke lenger" in text_of(await ola.press(payloads[0]))

    # Sent back: the delegate is at the overview, with every answer kept.
    assert "sendt tilbake til Ola Delegat" in text_of(await kari.press(payloads[1]))
    back = harness.sent["300"][-1]
    assert "sendt svaret på «Behov Q4» tilbake" in back.text and back.buttons
    assert (await response_row(harness)).status == "in_progress"
    review = text_of(await ola.press(f"r:{round_id}"))
    assert "Flere sykepleiere" in review
    assert "venter nå på godkjenning" in text_of(await ola.press("c:submit"))

    assert "godkjent og sendt inn" in text_of(await kari.press(payloads[0]))
    response = await response_row(harness)
    assert response.status == "submitted" and response.submitted_at is not None
    async with harness.sessions() as session:
        delegate = await session.scalar(select(Contact).where(Contact.role == "delegat"))
        assert delegate is not None and response.contact_id == delegate.id  # the author stays
        kari_id = delegate.delegate_for_contact_id
    assert response.approved_by_contact_id == kari_id
    assert "har godkjent svaret" in harness.sent["300"][-1].text
    assert "Kari Nordmann har godkjent" in harness.sent["300"][-1].text

    # Ola changes the approved answer: it is not held again (it stays in force), Kari is told.
    assert "c:submit" in [b.payload for b in (await ola.say("/svar"))[-1].all_buttons()]
    assert texts.CHANGES_SUBMITTED in (await ola.press("c:submit"))[-1].text
    assert (await response_row(harness)).status == "submitted"
    await harness.collect("100")
    assert "Ola Delegat har sendt inn svaret" in harness.sent["100"][-1].text

    # Erasing Kari unlinks her approval and her delegate from her.
    async with harness.sessions() as session, session.begin():
        assert kari_id is not None
        await erase_contact(
            session, harness.conversation.catalog, kari_id, harness.clock.now, actor="test"
        )
    async with harness.sessions() as session:
        response = await session.get(Response, response.id)
        delegate = await session.scalar(select(Contact).where(Contact.role == "delegat"))
    assert response is not None and response.approved_by_contact_id is None
    assert delegate is not None and delegate.delegate_for_contact_id is None


async def test_a_colleague_takes_over_a_started_response_and_nothing_is_lost(world) -> None:
    harness, code_kari, code_per = world
    kari = await registered(harness, "100", code_kari)
    per = await registered(harness, "200", code_per)
    round_id = await open_new_round(harness)
    await kari.press(f"r:{round_id}")
    await kari.press("t:omrader:helse")
    await kari.press("n:omrader")

    (refusal,) = await per.press(f"r:{round_id}")
    assert "Kari Nordmann har allerede begynt" in refusal.text
    take = refusal.all_buttons()[0]
    assert take.label == "🔄 Ta over svaret"
    taken = await per.press(take.payload)
    assert "Du har tatt over svaret etter Kari Nordmann" in taken[0].text
    assert "Helse" in text_of(taken) and taken[-1].buttons  # on the question Kari reached
    told = harness.sent["100"][-1].text
    assert "Per Hansen har tatt over svaret for Drammen" in told and "tatt vare på" in told

    response = await response_row(harness)
    async with harness.sessions() as session:
        per_id = await session.scalar(select(Contact.id).where(Contact.name == "Per Hansen"))
        kari_chat = await session.scalar(select(Chat).where(Chat.address == "100"))
        moved = await session.scalar(
            select(RoundEvent).where(RoundEvent.action == "response.moved")
        )
    assert response.contact_id == per_id and "omrader" in response.state["answers"]
    assert kari_chat is not None and kari_chat.active_response_id is None
    assert moved is not None and moved.detail["to_contact"] == per_id
    # Kari's old buttons no longer answer for the organisation.
    assert "ikke midt i en undersøkelse" in text_of(await kari.press("c:back"))
    assert "Per Hansen har allerede begynt" in text_of(await kari.say("/svar"))


async def test_handover_moves_the_started_response_and_unbinds_the_old_chat(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, "100", code_kari)
    round_id = await open_new_round(harness)
    await kari.press(f"r:{round_id}")
    await kari.press("t:omrader:helse")
    await kari.press("n:omrader")
    async with harness.sessions() as session, session.begin():
        kari_id = await session.scalar(select(Contact.id).where(Contact.name == "Kari Nordmann"))
        assert kari_id is not None
        done = await replace_contact(
            session, kari_id, NewPerson("Nina Ny", None, "nina@drammen.kommune.no"),
            harness.clock.now, timedelta(days=60), "test",
        )  # fmt: skip
    assert done.code and done.responses_moved and done.chats_unbound == 1
    await harness.collect("100")
    farewell = harness.sent["100"][-1].text
    assert "Nina Ny som ny kontaktperson for Drammen" in farewell
    assert "ikke registrert" in text_of(await kari.say("/svar"))

    nina = Member(harness, "400")
    welcome = await nina.say(f"/start {done.code}")
    assert "Velkommen, Nina Ny" in text_of(welcome)
    resumed = text_of(await nina.press(f"r:{round_id}"))
    assert "Helse" in resumed  # where Kari left off
    async with harness.sessions() as session:
        kari = await session.get(Contact, kari_id)
        nina_contact = await session.get(Contact, done.new_id)
        assert kari is not None and not kari.active
        assert nina_contact is not None and nina_contact.role == "kommunedirektor"
        events = list(await session.scalars(select(RoundEvent.detail).where(
            RoundEvent.action == "response.moved")))  # fmt: skip
    assert events[0]["from_contact"] == kari_id and events[0]["why"] == "handover"


async def test_handover_keeps_the_author_of_a_submitted_answer(world) -> None:
    harness, code_kari, code_per = world
    kari = await registered(harness, "100", code_kari)
    await registered(harness, "200", code_per)
    round_id = await open_new_round(harness)
    await submit_shortest_path(kari, round_id)
    async with harness.sessions() as session, session.begin():
        kari_id = await session.scalar(select(Contact.id).where(Contact.name == "Kari Nordmann"))
        per_id = await session.scalar(select(Contact.id).where(Contact.name == "Per Hansen"))
        assert kari_id is not None and per_id is not None
        done = await replace_contact(
            session, kari_id, per_id, harness.clock.now, timedelta(days=60), "test"
        )
    assert done.responses_moved == [] and done.code is None  # Per has a chat already
    assert (await response_row(harness)).contact_id == kari_id
    await harness.collect("200")
    assert "Du har tatt over som kontaktperson for Drammen etter Kari Nordmann" in (
        harness.sent["200"][-1].text
    )


async def test_link_code_lets_the_same_contact_continue_in_another_chat(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, "100", code_kari)
    round_id = await open_new_round(harness)
    await kari.press(f"r:{round_id}")
    await kari.press("t:omrader:helse")
    await kari.press("n:omrader")
    (issued,) = await kari.say("/kobling")
    assert "den andre kanalen" in issued.text
    code = code_in(issued.text)

    other = Member(harness, "500")
    (linked,) = await other.say(code)
    assert "koblet til deg, Kari Nordmann" in linked.text
    assert [b.payload for b in linked.all_buttons()] == [f"r:{round_id}"]
    # Answering straight away continues the same response.
    replies = await other.say("Flere sykepleiere")
    assert replies[-1].buttons
    async with harness.sessions() as session:
        chats = list(await session.scalars(select(Chat).order_by(Chat.id)))
        response = await session.scalar(select(Response))
    assert {c.contact_id for c in chats if c.address in ("100", "500")} == {response.contact_id}
    assert response.state["answers"]["omrader.helse.behov"] == "Flere sykepleiere"
    # The code was single use.
    assert "allerede brukt" in text_of(await Member(harness, "501").say(code))


async def test_help_lists_deleger_and_kobling(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, "100", code_kari)
    help_text = text_of(await kari.say("/hjelp"))
    assert "/deleger NAVN" in help_text and "/kobling" in help_text


async def test_payload_parsing_refuses_anything_else() -> None:
    assert organisation.parse_payload("org:take:12") == ("take", 12)
    assert organisation.parse_payload("org:steal:12") is None
    assert organisation.parse_payload("org:take:x") is None
    assert organisation.parse_payload("r:1") is None


async def test_a_colleague_changes_the_submitted_answer_with_a_deliberate_press(world) -> None:
    """The organisation answers: a colleague may change what Kari sent in, but only by
    pressing «Endre» after being told who sent it; Kari is told, and the history keeps
    both versions with their authors."""
    harness, code_kari, code_per = world
    kari = await registered(harness, "100", code_kari)
    per = await registered(harness, "200", code_per)
    round_id = await open_new_round(harness)
    assert "Takk" in await submit_shortest_path(kari, round_id)

    (notice,) = await per.say("/svar")
    assert (
        "Kari Nordmann sendte det inn" in notice.text and "Kari Nordmann får beskjed" in notice.text
    )
    response = await response_row(harness)
    change = f"org:change:{response.id}"
    assert [b.payload for b in notice.all_buttons()] == [change]
    assert response.status == "submitted"  # nothing moved yet
    # The old invitation's start button only says who sent it in, again: no accident.
    assert "Kari Nordmann sendte det inn" in text_of(await per.press(f"r:{round_id}"))
    assert (await response_row(harness)).contact_id == response.contact_id

    reopened = await per.press(change)
    assert "c:submit" in [b.payload for b in reopened[-1].all_buttons()]
    await harness.collect("100")
    assert "Per Hansen har åpnet svaret fra Drammen" in harness.sent["100"][-1].text
    await per.press("e:fornoyd")
    await per.press("a:fornoyd:5")
    assert texts.CHANGES_SUBMITTED in (await per.press("c:submit"))[-1].text

    response = await response_row(harness)
    assert response.status == "submitted" and response.state["answers"]["fornoyd"] == 5
    async with harness.sessions() as session:
        ids = dict((await session.execute(select(Contact.name, Contact.id))).all())
        authors = list(
            await session.scalars(
                select(ResponseVersion.contact_id).order_by(ResponseVersion.number)
            )
        )
    assert response.contact_id == ids["Per Hansen"]
    assert authors == [ids["Kari Nordmann"], ids["Per Hansen"]]

# ruff: noqa: F811  (world is the conversation tests' fixture, imported)
"""Member notices follow the reader's language (issue 15), through the real pipeline.

A contact of a nynorsk organisation is welcomed, helped and refused in nynorsk; before
a code binds the chat, the chat has no contact and speaks bokmål (that is right: we do
not know who it is yet). A message to someone other than the chat of the turn (the
colleague who delegated, the approver, the one whose answer was taken over, a replaced
contact) is written in that person's language, not the sender's.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dialogs import notices
from dialogs.i18n import speaking
from dialogs.messages import OutgoingMessage
from dialogs.privacy import PrivacyTerms, privacy_notice
from services.inbound import Inbound
from services.organisation import replace_contact, set_require_approval
from storage.orm import Contact, Organisation
from tests.bokmal_words import bokmal_words
from tests.test_conversation import (  # noqa: F401  (world is a fixture)
    Harness,
    Member,
    open_new_round,
    submit_shortest_path,
    text_of,
    world,
)


async def set_org_language(harness: Harness, code: str, language: str) -> None:
    async with harness.sessions() as session, session.begin():
        organisation = await session.scalar(select(Organisation).where(Organisation.code == code))
        assert organisation is not None
        organisation.language = language


async def set_contact_language(harness: Harness, name: str, language: str | None) -> int:
    async with harness.sessions() as session, session.begin():
        contact = await session.scalar(select(Contact).where(Contact.name == name))
        assert contact is not None
        contact.language = language
        return contact.id


def nynorsk(messages: list[OutgoingMessage]) -> str:
    """The messages' text and button labels, asserting no bokmål-only word is in them."""
    text = "\n".join(
        [m.text for m in messages] + [b.label for m in messages for b in m.all_buttons()]
    )
    assert text, "no message"
    assert bokmal_words(text) == [], text
    return text


def code_in(text: str) -> str:
    """The code a reply shows (the word after the first «: »)."""
    return text.split(": ", 1)[1].split()[0]


async def other_kind(harness: Harness, address: str) -> list[OutgoingMessage]:
    """A sticker or photo: neither text nor a button."""
    return await harness.send(
        Inbound(channel="telegram", address=address, user_id=address,
                update_key=f"other-{address}", kind="other")
    )  # fmt: skip


async def test_a_nynorsk_organisation_is_welcomed_helped_and_refused_in_nynorsk(world) -> None:
    harness, code_kari, _ = world
    await set_org_language(harness, "3301", "nn")
    kari = Member(harness, "100")

    # Before a code the chat belongs to nobody, so it speaks bokmål: that is right.
    asked = text_of(await kari.say("/start"))
    assert "Velkommen til Lyttepost" in asked and bokmal_words(asked)
    wrong = text_of(await kari.say("ABCDEFGHJK"))
    assert "Den koden kjenner jeg ikke igjen" in wrong

    # The code binds the chat to Kari of a nynorsk organisation: the welcome in this very
    # turn is already hers, in nynorsk.
    welcome = nynorsk(await kari.say(code_kari))
    assert "Velkomen, Kari Nordmann! Du er registrert som kontaktperson for Drammen" in welcome
    assert "Meldingar til botar i Telegram er ikkje ende-til-ende-krypterte" in welcome
    assert "Svara blir lesne av KS" in welcome
    assert "Det er ingen opne undersøkingar akkurat no" in welcome

    help_text = nynorsk(await kari.say("/hjelp"))
    assert help_text.startswith("Dette kan du gjere:") and "/deleger NAMN" in help_text
    assert "/personvern – kven som ser svara" in help_text
    privacy = nynorsk(await kari.say("/personvern"))
    assert (
        "KS er behandlingsansvarleg" in privacy
        and "24 månader etter at runden er stengd" in privacy
    )
    assert "etter 30 dagar" in privacy and "– kontakt KS." in privacy
    unknown = nynorsk(await kari.say("/finst"))
    assert "Eg kjenner ikkje kommandoen /finst. Skriv /hjelp" in unknown
    assert "Eg forstår berre tekst og knappar." in nynorsk(await other_kind(harness, "100"))
    assert "Du er ikkje midt i ei undersøking no" in nynorsk(await kari.press("c:back"))
    assert "Du er alt registrert som Kari Nordmann" in nynorsk(
        await kari.say(f"/start {code_kari}")
    )

    round_id = await open_new_round(harness)
    offer = (await kari.say("/start"))[-1]
    offered = nynorsk([offer])
    assert "«Behov Q4» er open. Svarfrist:" in offered
    assert [b.payload for b in offer.all_buttons()] == [f"r:{round_id}"]


async def test_the_wrong_code_texts_are_nynorsk_when_spoken_in_nynorsk() -> None:
    """A chat with no contact hears them in bokmål (above); the catalogue has them in
    nynorsk all the same, e.g. for a chat whose language a hint settles later."""
    with speaking("nn"):
        texts = [
            notices.code_unknown(2),
            notices.code_unknown(1, flood=True),
            notices.code_unknown(0, flood=True, wait_minutes=15),
            notices.code_locked(1, flood=True),
            notices.code_locked(3),
            notices.code_expired(),
            notices.code_used(),
            notices.not_registered(),
            notices.ask_for_code(),
            privacy_notice(PrivacyTerms(contact="personvern@ks.no", retention_months=(12, 36))),
        ]
        joined = nynorsk(texts)
    assert "Du har eitt forsøk att" in joined and "Vent 15 minutt før du prøver på nytt" in joined
    assert "Vent 1 minutt før" in joined and "12–36 månader" in joined


async def test_se_and_en_readers_get_their_own_catalogue(world) -> None:
    harness, code_kari, code_per = world
    kari, per = Member(harness, "100"), Member(harness, "200")
    await kari.say(f"/start {code_kari}")
    await per.say(f"/start {code_per}")
    await set_contact_language(harness, "Kari Nordmann", "se")
    await set_contact_language(harness, "Per Hansen", "en")
    assert text_of(await kari.say("/hjelp")).startswith("Dán sáhtát dahkat:")
    english = text_of(await per.say("/hjelp"))
    assert english.startswith("This is what you can do:") and "/deleger NAME" in english
    assert "I do not know the command /nope" in text_of(await per.say("/nope"))


async def test_a_delegate_of_a_nynorsk_organisation_and_the_one_who_delegated(world) -> None:
    """Both read nynorsk: the code, the delegate's welcome, whose answer it is, word to
    the colleague that the delegate has begun, the wait for approval and its outcome."""
    harness, code_kari, _ = world
    await set_org_language(harness, "3301", "nn")
    kari = Member(harness, "100")
    await kari.say(f"/start {code_kari}")
    round_id = await open_new_round(harness)
    await harness.collect("100")  # the invitation (services.lifecycle's, tested there)
    async with harness.sessions() as session, session.begin():
        await set_require_approval(session, round_id, True, harness.clock.now, "test")

    assert "namnet til kollegaen" in nynorsk(await kari.say("/deleger"))
    (issued,) = await kari.say("/deleger Ola Delegat")
    assert "Her er koden til Ola Delegat:" in nynorsk([issued])
    ola = Member(harness, "300")
    welcome = nynorsk(await ola.say(code_in(issued.text)))
    assert "Velkomen, Ola Delegat! Kari Nordmann har gitt deg tilgang" in welcome
    assert "på vegner av Drammen" in welcome

    started = await ola.press(f"r:{round_id}")
    assert nynorsk(started[:1]) == "Du svarar på vegner av Drammen."
    await harness.collect("100")
    told = nynorsk(harness.sent["100"][-1:])
    assert told == "Ola Delegat har byrja å svare på «Behov Q4» på vegner av Drammen."
    assert "kan ikkje gi tilgangen vidare" in nynorsk(await ola.say("/deleger Nokon Annan"))

    receipt = await submit_shortest_path(ola, round_id)
    assert "Svaret på «Behov Q4» ventar no på godkjenning frå Kari Nordmann" in receipt
    await harness.collect("100")
    request = harness.sent["100"][-1]
    head = request.text.split("\n\n", 1)[0]
    assert bokmal_words(head) == [] and "før det blir sendt inn til KS:" in head
    assert [b.label for b in request.all_buttons()] == ["✅ Godkjenn og send inn", "↩️ Send tilbake"]
    back = nynorsk(await kari.press(request.all_buttons()[1].payload))
    assert "Du får det til godkjenning på nytt" in back
    await harness.collect("300")
    sent_back = nynorsk(harness.sent["300"][-1:])
    assert "Svara dine er tekne vare på" in sent_back and "▶️ Hald fram" in sent_back


async def test_word_to_another_person_is_in_that_persons_language(world) -> None:
    """Kari chose English for herself; her organisation (and so Ola, her delegate, and
    Per) reads nynorsk. Each message is in its reader's language, whoever caused it."""
    harness, code_kari, code_per = world
    await set_org_language(harness, "3301", "nn")
    kari, per = Member(harness, "100"), Member(harness, "200")
    await kari.say(f"/start {code_kari}")
    await per.say(f"/start {code_per}")
    kari_id = await set_contact_language(harness, "Kari Nordmann", "en")
    round_id = await open_new_round(harness)
    await harness.collect("100")  # the invitations (services.lifecycle's, tested there)

    (issued,) = await kari.say("/deleger Ola Delegat")
    assert issued.text.startswith("Here is the code for Ola Delegat:")
    ola = Member(harness, "300")
    await ola.say(code_in(issued.text))
    assert (await ola.press(f"r:{round_id}"))[0].text == "Du svarar på vegner av Drammen."
    await harness.collect("100")
    assert harness.sent["100"][-1].text == (
        "Ola Delegat has begun answering «Behov Q4» on behalf of Drammen."
    )

    # Kari (English) takes the answer over; Ola hears of it in nynorsk.
    (offer,) = await kari.say("/svar")
    assert offer.text.startswith("Ola Delegat has already begun answering for Drammen")
    assert [b.label for b in offer.all_buttons()] == ["🔄 Take over the answer"]
    taken = await kari.press(offer.all_buttons()[0].payload)
    assert taken[0].text.startswith("You have taken over the answer from Ola Delegat.")
    await harness.collect("300")
    told = nynorsk(harness.sent["300"][-1:])
    assert told.startswith("Kari Nordmann har teke over svaret for Drammen på «Behov Q4»")

    # Per (nynorsk) replaces Kari: her farewell is English, his word is nynorsk.
    async with harness.sessions() as session, session.begin():
        per_id = await session.scalar(select(Contact.id).where(Contact.name == "Per Hansen"))
        assert per_id is not None
        await replace_contact(
            session, kari_id, per_id, harness.clock.now, timedelta(days=60), "test"
        )
    await harness.collect("100")
    assert harness.sent["100"][-1].text.startswith(
        "Hello, Kari Nordmann. KS has registered Per Hansen as the new contact person"
    )
    handed = nynorsk(harness.sent["200"][-1:])
    assert handed.startswith("Du har teke over som kontaktperson for Drammen etter Kari Nordmann.")
    assert "Svaret Kari Nordmann hadde byrja på («Behov Q4»), er ditt no" in handed

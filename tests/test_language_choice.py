"""A contact choosing their language: ``/sprak`` and its buttons, the chat app's language
offered once after registration (never applied silently), and the adapters passing it on.

Through the real conversation (tests/test_conversation.py's Harness: record, process,
read the outbox) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import select

from bot.teams import translate_activity
from bot.telegram import translate_update
from dialogs.messages import OutgoingMessage
from services import admins
from services.audit import CLI
from services.contacts import add_contact
from services.inbound import Inbound
from services.invites import issue_code
from services.language_choice import hint_language, own_choices
from services.organisation_facts import set_language
from services.staff import add_staff, require_staff
from storage.orm import AuditEntry, Chat, Contact
from tests.bokmal_words import bokmal_words
from tests.test_conversation import Harness, text_of

_keys = count(10_000)


class Person:
    """A chat on a channel whose app reads ``hint`` (Telegram language_code, Teams locale)."""

    def __init__(self, harness: Harness, address: str, *, channel: str = "telegram",
                 hint: str | None = None) -> None:  # fmt: skip
        self.harness, self.address, self.channel, self.hint = harness, address, channel, hint

    def _event(self, kind: str, **fields: str) -> Inbound:
        return Inbound(
            channel=self.channel, address=self.address, user_id=self.address,
            update_key=str(next(_keys)), kind=kind, language_hint=self.hint, **fields,  # type: ignore[arg-type]
        )  # fmt: skip

    async def say(self, text: str) -> list[OutgoingMessage]:
        return await self.harness.send(self._event("text", text=text))

    async def press(self, payload: str) -> list[OutgoingMessage]:
        return await self.harness.send(self._event("press", payload=payload))


def payloads(message: OutgoingMessage) -> list[str]:
    return [b.payload for b in message.all_buttons()]


def labels(message: OutgoingMessage) -> list[str]:
    return [b.label for b in message.all_buttons()]


@pytest.fixture
async def harness(sessions) -> Harness:
    return Harness(sessions)


async def invited(harness: Harness, name: str, org: str = "3301") -> str:
    """A new contact of ``org`` and their invitation code."""
    async with harness.sessions() as session, session.begin():
        contact = await add_contact(session, org, name, "kommunedirektor", None)
        return (await issue_code(session, contact.id, harness.clock.now, timedelta(days=60))).code


async def registered(harness: Harness, address: str, *, hint: str | None = None,
                     channel: str = "telegram", org: str = "3301") -> Person:  # fmt: skip
    person = Person(harness, address, channel=channel, hint=hint)
    await person.say(f"/start {await invited(harness, f'Kontakt {address}', org)}")
    return person


async def own_language(harness: Harness, address: str) -> str | None:
    async with harness.sessions() as session:
        chat = await session.scalar(select(Chat).where(Chat.address == address))
        assert chat is not None and chat.contact_id is not None
        contact = await session.get(Contact, chat.contact_id)
        assert contact is not None
        return contact.language


async def organisation_language(harness: Harness, org: str, language: str) -> None:
    async with harness.sessions() as session, session.begin():
        await set_language(session, org, language, CLI, harness.clock.now)


# --- /sprak ------------------------------------------------------------------------------


async def test_sprak_shows_the_language_and_where_it_comes_from(harness: Harness) -> None:
    kari = await registered(harness, "100")
    (shown,) = await kari.say("/sprak")
    assert shown.text.startswith("Du leser Lyttepost på bokmål, språket Drammen bruker.")
    assert "/sprak nn" in shown.text
    assert payloads(shown) == ["lang:nb", "lang:nn", "lang:se", "lang:org"]
    assert labels(shown) == [
        "Bokmål",
        "Nynorsk",
        "Davvisámegiella",
        "✓ Som organisasjonen (bokmål)",
    ]
    assert all(len(p.encode()) <= 64 for p in payloads(shown))


async def test_choosing_nynorsk_answers_in_nynorsk_and_clearing_goes_back(
    harness: Harness,
) -> None:
    kari = await registered(harness, "101")
    (done,) = await kari.press("lang:nn")
    assert done.text.startswith("No les du Lyttepost på nynorsk.")
    assert "Andre i Drammen får framleis bokmål" in done.text
    assert bokmal_words(done.text) == []
    assert await own_language(harness, "101") == "nn"
    async with harness.sessions() as session:  # what `members language` lists for staff
        assert [(n, lang) for _, n, lang in await own_choices(session, "3301")] == [
            ("Kontakt 101", "nn")
        ]

    (shown,) = await kari.say("/sprak")  # afterwards, the contact reads nynorsk
    assert shown.text.startswith("Du les Lyttepost på nynorsk. Det har du valt sjølv; Drammen")
    assert "✓ Nynorsk" in labels(shown) and "Som organisasjonen (bokmål)" in labels(shown)
    assert bokmal_words(shown.text) == []
    assert "/sprak – vel språk: bokmål, nynorsk eller nordsamisk" in text_of(
        await kari.say("/hjelp")
    )
    (again,) = await kari.press("lang:nn")
    assert again.text == "Du les alt Lyttepost på nynorsk."

    (back,) = await kari.press("lang:org")  # answered in the organisation's language
    assert back.text.startswith("Nå leser du Lyttepost på bokmål, som Drammen bruker.")
    assert await own_language(harness, "101") is None
    async with harness.sessions() as session:
        entries = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "contact.language")
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [(e.detail["before"], e.detail["after"]) for e in entries] == [
        (None, "nn"),
        ("nn", None),
    ]
    assert all(e.door == "chat" and e.actor.startswith("contact:") for e in entries)


async def test_a_typed_choice_works_and_english_is_not_for_members(harness: Harness) -> None:
    kari = await registered(harness, "102")
    (done,) = await kari.say("/sprak Davvisámegiella")
    assert done.text.startswith("Dál lea Lyttepost-giella dutnje davvisámegiella.")
    assert await own_language(harness, "102") == "se"
    (refused,) = await kari.say("/sprak en")  # refused in the language read now
    assert "«en»" in refused.text and "/sprak nn (ođđadárogiella)" in refused.text
    assert payloads(refused) == ["lang:nb", "lang:nn", "lang:se", "lang:org"]
    (forged,) = await kari.press("lang:en")
    assert "«en»" in forged.text
    assert await own_language(harness, "102") == "se"
    (nynorsk,) = await kari.say("/sprak nn")
    assert nynorsk.text.startswith("No les du Lyttepost på nynorsk.")
    (unknown,) = await kari.say("/sprak klingon")
    assert unknown.text.startswith("«klingon» er ikkje eit av språka du kan velje.")
    assert bokmal_words(unknown.text) == []


async def test_english_is_accepted_in_a_chat_bound_to_ks_staff(harness: Harness) -> None:
    kari = await registered(harness, "103")
    async with harness.sessions() as session, session.begin():
        await add_staff(session, "Anne Admin", "anne@ks.no", "admin", harness.clock.now)
        staff = await require_staff(session, "anne@ks.no")
        code = (await admins.issue_chat_code(session, staff, harness.clock.now)).secret
    await kari.say(f"/start {code}")
    (done,) = await kari.say("/sprak en")
    assert done.text.startswith("You now read Lyttepost in English.")
    assert await own_language(harness, "103") == "en"
    (shown,) = await kari.say("/sprak")
    assert shown.text.startswith("You read Lyttepost in English. You chose it yourself")
    assert "English" not in " ".join(labels(shown))  # never offered as a button


async def test_sprak_before_registration_says_it_comes_after(harness: Harness) -> None:
    stranger = Person(harness, "104", hint="nn")
    (reply,) = await stranger.say("/sprak")
    assert reply.text.startswith("Du kan velge språk med /sprak når du er registrert.")
    assert not reply.buttons
    assert "registrert" in text_of(await stranger.press("lang:nn"))  # nothing to set


async def test_the_organisations_language_is_followed_until_the_contact_chooses(
    harness: Harness,
) -> None:
    kari = await registered(harness, "105")
    await organisation_language(harness, "3301", "nn")
    (shown,) = await kari.say("/sprak")
    assert shown.text.startswith("Du les Lyttepost på nynorsk, språket Drammen brukar.")
    assert "✓ Som organisasjonen (nynorsk)" in labels(shown)
    (done,) = await kari.press("lang:nb")
    assert done.text.startswith("Nå leser du Lyttepost på bokmål.")
    assert "Andre i Drammen får fortsatt nynorsk" in done.text


# --- the chat app's language, offered once -------------------------------------------------


async def test_a_nynorsk_telegram_app_gets_one_suggestion_in_nynorsk(harness: Harness) -> None:
    code = await invited(harness, "Kari Nordmann")
    kari = Person(harness, "200", hint="nn")
    replies = await kari.say(f"/start {code}")
    assert "Velkommen, Kari Nordmann" in replies[0].text
    suggestions = [m for m in replies if "lang:nn" in payloads(m)]
    assert suggestions == [replies[-1]]  # one, after the welcome
    offer = replies[-1]
    assert offer.text.startswith("Vil du lese Lyttepost på nynorsk? No får du det på bokmål.")
    assert bokmal_words(offer.text) == []
    assert labels(offer) == ["Nynorsk", "Behald bokmål"]
    assert await own_language(harness, "200") is None  # never a silent switch
    async with harness.sessions() as session:
        chat = await session.scalar(select(Chat).where(Chat.address == "200"))
        assert chat is not None and chat.language_hint == "nn"

    (kept,) = await kari.press("lang:keep")
    assert kept.text.startswith("Greit, du leser fortsatt Lyttepost på bokmål.")
    assert await own_language(harness, "200") is None
    (switched,) = await kari.press("lang:nn")  # the old button still works later
    assert switched.text.startswith("No les du Lyttepost på nynorsk.")
    assert await own_language(harness, "200") == "nn"
    assert not [m for m in await kari.say("/svar") if "lang:" in " ".join(payloads(m))]


async def test_a_sami_teams_locale_gets_the_suggestion_in_sami(harness: Harness) -> None:
    replies = await Person(harness, "a:1teams", channel="teams", hint="se-NO").say(
        f"/start {await invited(harness, 'Máret Sara')}"
    )
    offer = replies[-1]
    assert offer.text.startswith("Háliidatgo ahte Lyttepost-giella dutnje lea davvisámegiella?")
    assert labels(offer) == ["Davvisámegiella", "Doala girjedárogiella"]
    assert payloads(offer) == ["lang:se", "lang:keep"]


@pytest.mark.parametrize(
    ("hint", "org_language"),
    [("nb-NO", "nb"), ("no", "nb"), ("en-US", "nb"), ("sv", "nn"), (None, "nn"), ("nn-NO", "nn")],
)
async def test_no_suggestion_when_the_hint_is_the_language_or_none(
    harness: Harness, hint: str | None, org_language: str
) -> None:
    await organisation_language(harness, "3301", org_language)
    replies = await Person(harness, "300", hint=hint).say(f"/start {await invited(harness, 'Per')}")
    assert "Per" in replies[0].text
    assert not any(p.startswith("lang:") for m in replies for p in payloads(m))


async def test_a_bokmal_app_is_offered_bokmal_in_a_nynorsk_organisation(harness: Harness) -> None:
    await organisation_language(harness, "3301", "nn")
    replies = await Person(harness, "301", hint="nb-NO").say(
        f"/start {await invited(harness, 'Per')}"
    )
    offer = replies[-1]
    assert offer.text.startswith("Vil du lese Lyttepost på bokmål? Nå får du det på nynorsk.")
    assert labels(offer) == ["Bokmål", "Behold nynorsk"]


@pytest.mark.parametrize(
    ("hint", "language"),
    [("no", "nb"), ("nb", "nb"), ("nb-NO", "nb"), ("nb_NO", "nb"), ("nn", "nn"), ("nn-NO", "nn"),
     ("se", "se"), ("se-NO", "se"), ("se-FI", "se"), ("se-SE", "se"), ("en", None),
     ("en-US", None), ("sv-SE", None), ("", None), (None, None), ("sma-NO", None)],
)  # fmt: skip
def test_hints_map_to_member_languages(hint: str | None, language: str | None) -> None:
    assert hint_language(hint) == language


# --- the adapters pass the hint on -----------------------------------------------------------


def test_telegram_passes_language_code_on_messages_and_presses() -> None:
    user = {"id": 7, "is_bot": False, "first_name": "Kari", "language_code": "nn"}
    chat = {"id": 7, "type": "private"}
    message = translate_update(
        {"update_id": 1, "message": {"message_id": 3, "from": user, "chat": chat, "text": "/sprak"}}
    )
    assert message is not None and message.language_hint == "nn"
    query = {"id": "9", "from": user, "data": "lang:nn", "message": {"message_id": 3, "chat": chat}}
    press = translate_update({"update_id": 2, "callback_query": query})
    assert press is not None and press.language_hint == "nn"
    bare = translate_update(
        {"update_id": 3, "message": {"message_id": 4, "from": {"id": 7}, "chat": chat, "text": "x"}}
    )
    assert bare is not None and bare.language_hint is None


def test_teams_passes_the_locale() -> None:
    activity = {
        "type": "message", "id": "1", "text": "sprak", "locale": "nn-NO",
        "conversation": {"id": "a:1", "conversationType": "personal"},
        "from": {"id": "29:kari"}, "recipient": {"id": "28:bot"},
    }  # fmt: skip
    event = translate_activity(activity, None)
    assert event is not None and event.language_hint == "nn-NO" and event.text == "/sprak"
    del activity["locale"]
    assert (translate_activity(activity, None) or event).language_hint is None


def test_a_hint_is_kept_short() -> None:
    event = Inbound(channel="telegram", address="1", user_id="1", update_key="1", kind="text",
                    language_hint="  nn-NO-x-" + "a" * 100)  # fmt: skip
    assert event.language_hint is not None and len(event.language_hint) == 20
    assert Inbound(channel="t", address="1", user_id="1", update_key="1", kind="text",
                   language_hint="  ").language_hint is None  # fmt: skip

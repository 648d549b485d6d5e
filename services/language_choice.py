"""A contact choosing the language Lyttepost speaks to them: ``/sprak`` and its buttons,
and the one suggestion after registration when the chat app reads another language.

``contacts.language`` is the contact's own choice (None: the organisation's language,
``services/languages.language_of``). The chat app's language (Telegram
``language_code``, Teams ``locale``) is only a hint, kept on the chat
(``chats.language_hint``): it is offered once, on registration, in that language, and
never applied without the member pressing the button (issue 15).

English is a catalogue for KS staff's demos, not a member language: it is never on a
button, and ``/sprak en`` is accepted only in a chat that is also bound to a KS staff
account (a staff member trying Lyttepost as a member); anyone else is told the choices.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import language_texts
from dialogs.i18n import MEMBER_LANGUAGES, speaking
from dialogs.language_texts import CLEAR, KEEP, PAYLOAD_PREFIX, Choice
from dialogs.messages import OutgoingMessage
from services import audit
from services.languages import language_of
from storage.orm import Chat, Contact, Organisation

log = logging.getLogger(__name__)

__all__ = ["PAYLOAD_PREFIX", "command", "hint_language", "press", "suggestion", "unregistered"]

STAFF_LANGUAGES = (*MEMBER_LANGUAGES, "en")
# What may follow /sprak besides a code: the languages' names, as people type them.
TYPED: dict[str, str] = {
    "bokmål": "nb", "bokmal": "nb", "nynorsk": "nn", "nordsamisk": "se", "samisk": "se",
    "sámegiella": "se", "davvisámegiella": "se", "english": "en", "engelsk": "en",
    "organisasjonen": CLEAR, "org": CLEAR,
}  # fmt: skip


def hint_language(hint: str | None) -> str | None:
    """The member language a chat app's language tag points to, if any.

    ``no``, ``nb``, ``nb-NO`` → nb; ``nn``, ``nn-NO`` → nn; ``se``, ``se-NO``,
    ``se-FI``, ``se-SE`` → se; anything else (``en-US``, ``sv``) → None: no suggestion.
    """
    if not hint:
        return None
    primary = hint.strip().replace("_", "-").split("-", 1)[0].lower()
    if primary in ("no", "nb"):
        return "nb"
    if primary in ("nn", "se"):
        return primary
    return None


def _choice(contact: Contact, organisation: Organisation) -> Choice:
    return Choice(
        current=language_of(contact, organisation),
        own=bool(contact.language),
        org_name=organisation.name,
        org_language=language_of(None, organisation),
    )


async def _organisation(session: AsyncSession, contact: Contact) -> Organisation:
    organisation = await session.get(Organisation, contact.organisation_id)
    assert organisation is not None  # foreign key
    return organisation


async def command(
    session: AsyncSession, contact: Contact, argument: str, now: datetime, *, staff: bool
) -> list[OutgoingMessage]:
    """``/sprak``: the language and where it comes from, with buttons; ``/sprak nn``
    (or ``nynorsk``, ``org``): choose it straight away."""
    typed = argument.strip().lower()
    if not typed:
        return [language_texts.status(_choice(contact, await _organisation(session, contact)))]
    return await choose(session, contact, TYPED.get(typed, typed), now, staff=staff, typed=typed)


async def press(
    session: AsyncSession, contact: Contact, data: str, now: datetime, *, staff: bool
) -> list[OutgoingMessage]:
    """A ``lang:`` button: a language, the organisation's (``lang:org``) or keep."""
    chosen = language_texts.parse_payload(data) or ""
    return await choose(session, contact, chosen, now, staff=staff, typed=chosen)


async def choose(
    session: AsyncSession,
    contact: Contact,
    chosen: str,
    now: datetime,
    *,
    staff: bool,
    typed: str,
) -> list[OutgoingMessage]:
    """Set (or clear) the contact's own language, audited, and confirm in the new one."""
    organisation = await _organisation(session, contact)
    if chosen == KEEP:
        return [language_texts.kept(language_of(contact, organisation))]
    allowed = STAFF_LANGUAGES if staff else MEMBER_LANGUAGES
    if chosen != CLEAR and chosen not in allowed:
        return [language_texts.unknown(typed, _choice(contact, organisation))]
    new = None if chosen == CLEAR else chosen
    before = contact.language
    if before == new:
        return [language_texts.unchanged(_choice(contact, organisation))]
    contact.language = new
    audit.record(
        session, audit.Actor(f"contact:{contact.id}", "chat"), "contact.language",
        f"contact:{contact.id}", now,
        before=before, after=new, org=organisation.code,
    )  # fmt: skip
    log.info("contact %s reads %s (%s)", contact.id, new or "the organisation's", before)
    choice = _choice(contact, organisation)
    with speaking(choice.current):
        return [language_texts.changed(choice)]


async def suggestion(session: AsyncSession, chat: Chat, contact: Contact) -> list[OutgoingMessage]:
    """After a code registered ``chat``: one message, in the chat app's language,
    offering to switch to it, when it is a member language other than the one the
    contact gets now and the contact has made no choice of their own. Else nothing."""
    hinted = hint_language(chat.language_hint)
    if hinted is None or contact.language:
        return []
    current = language_of(contact, await _organisation(session, contact))
    if hinted == current:
        return []
    with speaking(hinted):
        return [language_texts.suggestion(hinted, current)]


def unregistered() -> OutgoingMessage:
    """``/sprak`` before registration (spoken in bokmål: there is no contact yet)."""
    return language_texts.unregistered()


async def own_choices(session: AsyncSession, org_code: str) -> list[tuple[int, str, str]]:
    """The organisation's active contacts who chose a language of their own: (id, name,
    language), for staff who set the organisation's language (theirs does not follow)."""
    rows = await session.execute(
        select(Contact.id, Contact.name, Contact.language)
        .join(Organisation, Organisation.id == Contact.organisation_id)
        .where(
            Organisation.code == org_code,
            Contact.active.is_(True),
            Contact.language.is_not(None),
        )
        .order_by(Contact.id)
    )
    return [(contact_id, name, language) for contact_id, name, language in rows if language]

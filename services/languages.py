"""Which language each person reads: their own choice, else their organisation's.

The one place that answers "in which language do we write to this contact?", so the
conversation, reminders, notices and broadcasts all agree (issue 15, ADR 29).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import SOURCE, is_language
from storage.orm import Contact, Organisation


def language_of(contact: Contact | None, organisation: Organisation | None) -> str:
    """The contact's own choice, else the organisation's language, else bokmål."""
    if contact is not None and contact.language and is_language(contact.language):
        return contact.language
    if organisation is not None and organisation.language and is_language(organisation.language):
        return organisation.language
    return SOURCE


async def contact_language(session: AsyncSession, contact_id: int | None) -> str:
    """The language of one contact (bokmål for None or an unknown id)."""
    if contact_id is None:
        return SOURCE
    contact = await session.get(Contact, contact_id)
    if contact is None:
        return SOURCE
    organisation = await session.get(Organisation, contact.organisation_id)
    return language_of(contact, organisation)


async def contact_languages(session: AsyncSession, contact_ids: Iterable[int]) -> dict[str, str]:
    """``str(contact id) → language`` for many contacts in one query (broadcast loops)."""
    wanted = sorted(set(contact_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(Contact.id, Contact.language, Organisation.language)
        .join(Organisation, Organisation.id == Contact.organisation_id)
        .where(Contact.id.in_(wanted))
    )
    found: dict[str, str] = {}
    for contact_id, own, organisation_language in rows:
        if own and is_language(own):
            found[str(contact_id)] = own
        elif organisation_language and is_language(organisation_language):
            found[str(contact_id)] = organisation_language
        else:
            found[str(contact_id)] = SOURCE
    return found

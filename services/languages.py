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


def _chosen(own: str | None, organisation_language: str | None) -> str:
    """The rule itself: the contact's own choice, else the organisation's, else bokmål."""
    if own and is_language(own):
        return own
    if organisation_language and is_language(organisation_language):
        return organisation_language
    return SOURCE


def language_of(contact: Contact | None, organisation: Organisation | None) -> str:
    """The contact's own choice, else the organisation's language, else bokmål."""
    return _chosen(
        contact.language if contact is not None else None,
        organisation.language if organisation is not None else None,
    )


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
    return {str(contact_id): _chosen(own, org) for contact_id, own, org in rows}

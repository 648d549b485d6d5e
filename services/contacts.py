"""The contact registry: people at member organisations, added one by one or from CSV,
listed, deactivated (no more outreach, history kept) and activated again."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected_rows
from storage.orm import Chat, Contact, Invitation, Organisation, OutboxMessage
from storage.seed import resolve_org_code

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROLE = re.compile(r"^[a-z][a-z0-9_-]{1,59}$")
HEADER_ALIASES = {
    "org": {"org", "orgnr", "organisasjonsnummer", "kommunenummer", "organisation", "code"},
    "name": {"name", "navn"},
    "role": {"role", "rolle"},
    "email": {"email", "e-mail", "epost", "e-post"},
}


class ContactError(ValueError):
    """A contact that cannot be added as given."""


@dataclass
class ImportResult:
    """What an import did; with errors nothing is imported."""

    added: list[int] = field(default_factory=list)
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


async def _organisation(session: AsyncSession, code: str) -> Organisation:
    organisation = await session.scalar(
        select(Organisation).where(Organisation.code == resolve_org_code(code.strip()))
    )
    if organisation is None:
        raise ContactError(f"unknown organisation code {code!r}")
    return organisation


def _validated(name: str, role: str, email: str | None) -> tuple[str, str, str | None]:
    name = " ".join(name.split())
    role = role.strip().lower()
    email = (email or "").strip() or None
    if not name or len(name) > 200:
        raise ContactError("name must be 1-200 characters")
    if not ROLE.match(role):
        raise ContactError(f"role {role!r} must look like 'radmann' (a-z, 0-9, _ or -)")
    if email is not None and not EMAIL.match(email):
        raise ContactError(f"e-mail {email!r} does not look like an address")
    return name, role, email


async def _existing(
    session: AsyncSession, organisation_id: int, name: str, role: str
) -> Contact | None:
    return await session.scalar(
        select(Contact).where(
            Contact.organisation_id == organisation_id,
            func.lower(Contact.name) == name.lower(),
            Contact.role == role,
            Contact.erased_at.is_(None),
        )
    )


async def add_contact(
    session: AsyncSession, org_code: str, name: str, role: str, email: str | None
) -> Contact:
    """Add a contact; the same name and role at the same organisation is refused."""
    organisation = await _organisation(session, org_code)
    name, role, email = _validated(name, role, email)
    if await _existing(session, organisation.id, name, role):
        raise ContactError(f"{name} ({role}) is already a contact of {organisation.name}")
    contact = Contact(organisation_id=organisation.id, name=name, role=role, email=email)
    session.add(contact)
    await session.flush()
    return contact


EXPECTED_HEADER = "org,name,role,email (separated by , or ;)"
OTHER_SEPARATORS = {"\t": "tabs", "|": "'|'"}


def _delimiter(header: str) -> str:
    """``,`` or ``;``, whichever separates the header line; ``ContactError`` for anything else."""
    counts = {sep: header.count(sep) for sep in ",;"}
    if any(counts.values()):
        return max(counts, key=lambda sep: counts[sep])
    other = next((name for sep, name in OTHER_SEPARATORS.items() if sep in header), None)
    found = f"columns separated by {other}" if other else f"one column, {header.strip()[:40]!r}"
    raise ContactError(f"line 1: the header must be {EXPECTED_HEADER}; found {found}")


def _columns(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, raw in enumerate(header):
        cell = raw.strip().lower().lstrip("\ufeff")
        for column, aliases in HEADER_ALIASES.items():
            if cell in aliases:
                positions[column] = index
    missing = [c for c in ("org", "name", "role") if c not in positions]
    if missing:
        raise ContactError(
            f"line 1: missing column(s) {', '.join(missing)}; the header must be {EXPECTED_HEADER}"
        )
    return positions


async def import_contacts(session: AsyncSession, text: str) -> ImportResult:
    """Import contacts from CSV text (``,`` or ``;``); all lines or none.

    Lines matching an existing contact (organisation, name, role) are skipped, so an
    import can be repeated after fixing errors.
    """
    result = ImportResult()
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        result.errors.append(
            f"the file is empty; the first line must be the header {EXPECTED_HEADER}"
        )
        return result
    try:
        delimiter = _delimiter(lines[0])
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        columns = _columns(rows[0])
    except ContactError as error:
        result.errors.append(str(error))
        return result
    except csv.Error as error:  # e.g. a NUL byte: not a CSV file
        result.errors.append(f"not a CSV file ({error}); the header must be {EXPECTED_HEADER}")
        return result
    seen: set[tuple[int, str, str]] = set()
    pending: list[Contact] = []
    for line_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            cells = {c: (row[i] if i < len(row) else "") for c, i in columns.items()}
            organisation = await _organisation(session, cells["org"])
            name, role, email = _validated(cells["name"], cells["role"], cells.get("email"))
        except ContactError as error:
            result.errors.append(f"line {line_number}: {error}")
            continue
        key = (organisation.id, name.lower(), role)
        if key in seen or await _existing(session, organisation.id, name, role):
            result.skipped += 1
            continue
        seen.add(key)
        pending.append(Contact(organisation_id=organisation.id, name=name, role=role, email=email))
    if result.errors:
        return result
    session.add_all(pending)
    await session.flush()
    result.added = [contact.id for contact in pending]
    return result


async def pending_contacts(session: AsyncSession, now: datetime) -> list[Contact]:
    """Active contacts with no chat yet and no code that could still be used (a delegate
    gets their code from the colleague who asked for it, never from a mail merge)."""
    has_chat = exists().where(Chat.contact_id == Contact.id)
    has_code = exists().where(
        and_(
            Invitation.contact_id == Contact.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    )
    return list(
        await session.scalars(
            select(Contact)
            .where(Contact.active, ~has_chat, ~has_code, Contact.delegate_for_contact_id.is_(None))
            .order_by(Contact.id)
        )
    )


@dataclass(frozen=True)
class Deactivation:
    """What deactivating a contact did."""

    contact_id: int
    chats_unbound: int
    codes_revoked: int
    messages_withdrawn: int
    already: bool = False


def _unused_codes(contact_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        Invitation.contact_id == contact_id,
        Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None),
    )


def _queued_messages(contact_id: int) -> tuple[ColumnElement[bool], ...]:
    return (OutboxMessage.contact_id == contact_id, OutboxMessage.status.in_(["pending", "held"]))


async def deactivation_preview(session: AsyncSession, contact_id: int) -> Deactivation:
    """What ``deactivate_contact`` would do now, changing nothing: the counts a
    confirmation names before anyone presses the button.

    ``LookupError`` for an unknown or erased contact.
    """
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.erased_at is not None:
        raise LookupError(f"no contact with id {contact_id}")
    if not contact.active:
        return Deactivation(contact_id, 0, 0, 0, already=True)
    chats = await session.scalar(select(func.count(Chat.id)).where(Chat.contact_id == contact_id))
    codes = await session.scalar(
        select(func.count(Invitation.id)).where(*_unused_codes(contact_id))
    )
    queued = await session.scalar(
        select(func.count(OutboxMessage.id)).where(*_queued_messages(contact_id))
    )
    return Deactivation(contact_id, chats or 0, codes or 0, queued or 0)


async def deactivate_contact(session: AsyncSession, contact_id: int, now: datetime) -> Deactivation:
    """No more invitations, reminders or broadcasts to a contact; their history is kept.

    Their chats are unbound (writing there again asks for a code), unused codes are
    revoked, and messages still queued to them are withdrawn. Their answers stay theirs;
    a colleague may take over a response they left unfinished.
    ``LookupError`` for an unknown or erased contact.
    """
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.erased_at is not None:
        raise LookupError(f"no contact with id {contact_id}")
    if not contact.active:
        return Deactivation(contact_id, 0, 0, 0, already=True)
    contact.active = False
    contact.deactivated_at = now
    chats = list(await session.scalars(select(Chat).where(Chat.contact_id == contact_id)))
    for chat in chats:
        chat.contact_id = None
        chat.awaiting_code = False
        chat.active_response_id = None
    revoked = await session.execute(
        update(Invitation)
        .where(*_unused_codes(contact_id))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    withdrawn = await session.execute(
        update(OutboxMessage)
        .where(*_queued_messages(contact_id))
        .values(status="failed", last_error="unreachable: contact deactivated")
        .execution_options(synchronize_session=False)
    )
    return Deactivation(
        contact_id,
        len(chats),
        affected_rows(revoked),
        affected_rows(withdrawn),
    )


async def activate_contact(session: AsyncSession, contact_id: int) -> bool:
    """Undo a deactivation; the contact needs a new code to bind a chat again.

    Returns False if they were active already. ``LookupError`` for an unknown or erased one.
    """
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.erased_at is not None:
        raise LookupError(f"no contact with id {contact_id}")
    if contact.active:
        return False
    contact.active = True
    contact.deactivated_at = None
    return True


# The channels a contact can be pinned to; None: the one they used last.
PREFERABLE_CHANNELS = ("telegram", "teams")


async def set_preferred_channel(
    session: AsyncSession, contact_id: int, channel: str | None
) -> dict[str, Any]:
    """Which channel reaches a contact who uses both Telegram and Teams (None: the last used).

    Returns the choice and the channels the contact has chats on, so the caller can say
    when the chosen one has none yet. ``LookupError`` for no such contact.
    """
    if channel is not None and channel not in PREFERABLE_CHANNELS:
        raise ContactError(f"channel {channel!r} is not one of {', '.join(PREFERABLE_CHANNELS)}")
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise LookupError(f"no contact with id {contact_id}")
    contact.preferred_channel = channel
    channels = sorted(
        set(await session.scalars(select(Chat.channel).where(Chat.contact_id == contact_id)))
    )
    return {"id": contact_id, "preferred_channel": contact.preferred_channel, "channels": channels}

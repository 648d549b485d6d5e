"""The admin role: who may use the admin commands in chat (``/runder``, ``/frist`` ...).

Rights are read from the database on every chat command, so granting or revoking here
takes effect at the contact's next command.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.orm import Contact, Organisation


async def set_admin(session: AsyncSession, contact_id: int, admin: bool) -> dict[str, Any]:
    """Give or take the role, in the caller's transaction; ``LookupError`` for no such contact."""
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise LookupError(f"no contact with id {contact_id}")
    contact.is_admin = admin
    return {"id": contact.id, "name": contact.name, "admin": admin}


async def list_admins(session: AsyncSession) -> list[dict[str, Any]]:
    """Contacts with the role and their organisation, in the order they were added."""
    rows = await session.execute(
        select(Contact, Organisation)
        .join(Organisation, Contact.organisation_id == Organisation.id)
        .where(Contact.is_admin.is_(True))
        .order_by(Contact.id)
    )
    return [{"id": c.id, "name": c.name, "org": o.code, "org_name": o.name} for c, o in rows]

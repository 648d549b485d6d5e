"""Medlemmer, the organisation as respondent, over HTTP (SQLite and PostgreSQL): an admin
issues a delegate's code and hands a contact's place over; staff and viewers cannot;
each change is audited and bad input is refused in Norwegian."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services import audit
from services.invites import redeem_code
from storage.orm import Chat, Contact, Invitation, OutboxMessage
from tests.views_support import contact
from tests.workspace_support import WorkspaceSite, csrf_in, workspace_site


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url, telegram_bot_username="lyttepost_test_bot") as built:
        yield built


async def people(site: WorkspaceSite) -> dict[str, int]:
    now = datetime.now(UTC)
    async with site.sessions.begin() as session:
        return {
            "kari": await contact(session, "3301", "Kari Nordmann", chats=(("telegram", True, now),)),
            "per": await contact(session, "3301", "Per Hansen", role="assistent"),
            "bergen": await contact(session, "4601", "Berit Bergen"),
        }  # fmt: skip


def issued_code(body: str) -> str:
    found = re.search(r'id="kode" class="code" type="text" readonly value="([A-Z0-9]+)"', body)
    assert found, body
    return found.group(1)


async def logged(site: WorkspaceSite, action: str) -> list[audit.AuditRow]:
    async with site.sessions() as session:
        return await audit.entries(session, audit.AuditQuery(action=action))


async def test_an_admin_issues_a_delegate_code_shown_once(site: WorkspaceSite) -> None:
    ids = await people(site)
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    page = await (await admin.get("/medlemmer/3301")).text()
    assert "Gi en kollega tilgang (delegat)" in page and "Bytt kontaktperson" in page
    token = csrf_in(page)
    response = await admin.post(
        "/medlemmer/3301/deleger", {"csrf_token": token, "for": str(ids["kari"]), "delegat": "Ola"}
    )
    body = await response.text()
    assert response.status == 200 and "Ola (delegat for Kari Nordmann)" in body
    code = issued_code(body)
    (entry,) = await logged(site, "contact.delegate")
    assert entry.detail["delegate_for"] == ids["kari"]
    async with site.sessions.begin() as session:
        invitation = await session.scalar(select(Invitation).where(Invitation.kind == "delegate"))
        assert invitation is not None and code not in invitation.code_hash
        chat = Chat(channel="teams", address="ola", awaiting_code=True)
        session.add(chat)
        await session.flush()
        redeemed = await redeem_code(session, chat, code, datetime.now(UTC))
        assert redeemed.outcome == "ok" and redeemed.kind == "delegate"
        assert redeemed.contact is not None
        assert redeemed.contact.delegate_for_contact_id == ids["kari"]
    # A code cannot be issued for someone in another organisation, nor without a name.
    assert (
        await admin.post(
            "/medlemmer/3301/deleger",
            {"csrf_token": token, "for": str(ids["bergen"]), "delegat": "X"},
        )
    ).status == 404
    nameless = await admin.post(
        "/medlemmer/3301/deleger", {"csrf_token": token, "for": str(ids["kari"]), "delegat": ""}
    )
    assert nameless.status == 422 and "Navnet mangler" in await nameless.text()


async def test_an_admin_replaces_a_contact_by_a_new_person(site: WorkspaceSite) -> None:
    ids = await people(site)
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    token = csrf_in(await (await admin.get("/medlemmer/3301")).text())
    response = await admin.post(
        "/medlemmer/3301/erstatt",
        {"csrf_token": token, "gammel": str(ids["kari"]), "ny": "", "navn": "Nina Ny",
         "rolle": "", "epost": "nina@drammen.kommune.no"},
    )  # fmt: skip
    body = await response.text()
    assert response.status == 200 and "Kari Nordmann er erstattet av Nina Ny" in body
    issued_code(body)
    (entry,) = await logged(site, "contact.replace")
    assert entry.target == f"contact:{ids['kari']}" and entry.staff_name == "Ada"
    async with site.sessions() as session:
        kari = await session.get(Contact, ids["kari"])
        nina = await session.scalar(select(Contact).where(Contact.name == "Nina Ny"))
        farewell = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("replaced:%"))
        )
    assert kari is not None and not kari.active
    assert nina is not None and nina.role == "kommunedirektor"
    assert farewell is not None and "Nina Ny som ny kontaktperson" in farewell.payload["text"]

    # Both a colleague and a new name, or neither: refused, nothing changes.
    both = await admin.post(
        "/medlemmer/3301/erstatt",
        {"csrf_token": token, "gammel": str(ids["per"]), "ny": str(nina.id), "navn": "X"},
    )
    assert both.status == 422 and "ikke begge" in await both.text()
    again = await admin.post(
        "/medlemmer/3301/erstatt",
        {"csrf_token": token, "gammel": str(ids["kari"]), "ny": str(ids["per"])},
    )
    assert again.status == 422
    assert "Kontakten er allerede deaktivert" in await again.text()


async def test_only_admins_issue_delegates_or_replace(site: WorkspaceSite) -> None:
    ids = await people(site)
    for role in ("viewer", "staff"):
        member = await site.signed_in(role.title(), f"{role}@ks.no", role)
        token = await member.csrf()
        for path, data in (
            ("/medlemmer/3301/deleger", {"for": str(ids["kari"]), "delegat": "Ola"}),
            ("/medlemmer/3301/erstatt", {"gammel": str(ids["kari"]), "navn": "Nina"}),
        ):
            response = await member.post(path, {"csrf_token": token, **data})
            assert response.status == 403, (role, path)
    assert await logged(site, "contact.replace") == []
    async with site.sessions() as session:
        assert (await session.get(Contact, ids["kari"])).active  # type: ignore[union-attr]

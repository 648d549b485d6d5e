"""The member registry as the doors read it, on SQLite and PostgreSQL: organisations with
their contacts, channels, reachability, last activity and pending codes; one organisation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.views_members import (
    UnknownOrganisation,
    contact_rows,
    members_overview,
    organisation_by_code,
    organisation_detail,
    organisations,
)
from tests.views_support import NOW, code, contact, invite, make_round, respond

DAY = timedelta(days=1)


async def test_organisations_by_code_and_by_county(sessions) -> None:
    async with sessions() as session:
        everyone = await organisations(session)
        oslo = await organisations(session, "3")
        bergen = await organisation_by_code(session, " 4601 ")
        with pytest.raises(UnknownOrganisation, match="unknown organisation code '9999'"):
            await organisation_by_code(session, "9999")
    assert len(everyone) == 371 and [o.code for o in everyone] == sorted(o.code for o in everyone)
    assert [(o.code, o.kind, o.county_name) for o in oslo] == [
        ("0301", "kommune_og_fylkeskommune", "Oslo")
    ]
    assert (bergen.name, bergen.county_code) == ("Bergen", "46")


async def test_members_overview_flags_organisations_no_one_can_reach(sessions) -> None:
    async with sessions() as session, session.begin():
        kari = await contact(session, "3301", "Kari", chats=(("telegram", True, NOW - 3 * DAY),
                             ("teams", True, NOW - DAY)))  # fmt: skip
        await contact(session, "3301", "Per", chats=(("teams", False, NOW),))  # blocked the bot
        blocked = await contact(session, "4601", "Blokkert", chats=(("telegram", False, NOW),))
        await code(session, blocked, expires_at=NOW + DAY)  # a live code
        waiting = await contact(session, "4602", "Venter")  # no chat yet
        await code(session, waiting, expires_at=NOW - DAY)  # expired
        await code(session, waiting, expires_at=NOW + DAY, revoked=True)
        await contact(session, "4611", "Borte", chats=(("telegram", True, NOW),), active=False)
        await code(session, kari, expires_at=NOW + DAY, used=True)
    async with sessions() as session:
        everyone = await members_overview(session, NOW)
        vestland = await members_overview(session, NOW, county="46")
        lost = await members_overview(session, NOW, county="46", unreachable_only=True)
    assert (everyone.total, everyone.unreachable) == (371, 370)
    drammen = next(m for m in everyone.members if m.organisation.code == "3301")
    assert drammen.reachable and drammen.channels == ("teams",)  # Kari's most recent chat
    assert drammen.last_seen_at == NOW  # Per's blocked chat was still active last
    assert not drammen.pending_invitation  # Kari's code is used
    assert [(c.name, c.reachable, [ch.channel for ch in c.chats]) for c in drammen.contacts] == [
        ("Kari", True, ["telegram", "teams"]), ("Per", False, ["teams"]),
    ]  # fmt: skip
    by_code = {m.organisation.code: m for m in vestland.members}
    assert (vestland.total, vestland.unreachable) == (len(vestland.members), len(vestland.members))
    assert by_code["4601"].pending_invitation and not by_code["4601"].reachable
    assert not by_code["4602"].pending_invitation  # expired and revoked codes are not pending
    assert by_code["4611"].contacts == ()  # deactivated: not listed, not reachable
    assert [m.organisation.code for m in lost.members] == [
        m.organisation.code for m in vestland.members
    ]
    assert lost.total == vestland.total


async def test_unreachable_only_leaves_out_reachable_organisations(sessions) -> None:
    async with sessions() as session, session.begin():
        await contact(session, "0301", "Oslo", chats=(("telegram", True, NOW),))
    async with sessions() as session:
        oslo = await members_overview(session, NOW, county="03")
        lost = await members_overview(session, NOW, county="03", unreachable_only=True)
    assert [m.reachable for m in oslo.members] == [True]
    assert (lost.members, lost.total, lost.unreachable) == ((), 1, 0)


async def test_contact_rows_reach_contacts_on_the_channel_set_for_them(sessions) -> None:
    async with sessions() as session, session.begin():
        chosen = await contact(session, "5001", "Valgt", preferred="teams",
                               chats=(("telegram", True, NOW), ("teams", True, NOW - DAY)))  # fmt: skip
        await contact(session, "5001", "Sist brukt",
                      chats=(("telegram", True, NOW - DAY), ("teams", True, NOW)))  # fmt: skip
        gone = await contact(session, "5001", "Deaktivert", active=False)
        await code(session, gone, expires_at=NOW + DAY)
    async with sessions() as session:
        rows = await contact_rows(session, NOW, org_code="5001")
        active = await contact_rows(session, NOW, org_code="5001", active_only=True)
        with pytest.raises(UnknownOrganisation):
            await contact_rows(session, NOW, org_code="9999")
    assert [(c.id == chosen, c.channel, c.last_seen_at) for c in rows] == [
        (True, "teams", NOW), (False, "teams", NOW), (False, None, None),
    ]  # fmt: skip
    assert rows[2].invitation_expires_at is None  # a deactivated contact's code is no use
    assert [c.name for c in active] == ["Valgt", "Sist brukt"]


async def test_organisation_detail_has_every_contact_its_codes_and_its_rounds(sessions) -> None:
    async with sessions() as session, session.begin():
        first = await make_round(session, "Første", ["1103"], status="closed",
                                 opens_at=NOW - 60 * DAY, closes_at=NOW - 40 * DAY)  # fmt: skip
        second = await make_round(session, "Andre", ["1103", "3301"])
        await make_round(session, "Ikke med", ["3301"])
        kari = await contact(session, "1103", "Kari", chats=(("telegram", True, NOW),))
        await contact(session, "1103", "Gammel", active=False)
        await code(session, kari, expires_at=NOW - 50 * DAY, used=True, created_at=NOW - 70 * DAY)
        await code(session, kari, expires_at=NOW + DAY, created_at=NOW - DAY)
        await invite(session, second, kari)
        await respond(session, first, "1103", contact_id=kari)
    async with sessions() as session:
        detail = await organisation_detail(session, "1103", NOW)
        with pytest.raises(UnknownOrganisation):
            await organisation_detail(session, "9999", NOW)
    assert detail.organisation.name == "Stavanger" and detail.reachable
    assert [(c.name, c.active) for c in detail.contacts] == [("Kari", True), ("Gammel", False)]
    assert [i.state(NOW) for i in detail.invitations] == ["pending", "used"]  # newest first
    assert [(r.round_id, r.invited, r.response_status) for r in detail.rounds] == [
        (second, True, None), (first, True, "submitted"),  # answering counts as invited
    ]  # fmt: skip

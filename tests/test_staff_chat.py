"""KS staff in chat: a chat bound with a staff code (never a respondent), the role checked
on every command (default deny), /logginn, previews in the staff member's chat, and an
audit entry for every write, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services import audit, staff_access
from services.admins import issue_chat_code
from services.staff import add_staff, deactivate, require_staff
from storage.orm import Chat, CodeAttempt, Round, StaffToken
from tests.cycle_support import World, oslo

ORGS = ["3301", "4601"]
WORKSPACE = "https://lyttepost.ks.no"


@pytest.fixture
async def world(sessions) -> World:
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(ORGS)
    world.conversation.workspace_url = WORKSPACE
    async with sessions() as session, session.begin():
        for name, email, role in (
            ("Anne Admin", "anne@ks.no", "admin"),
            ("Rolf Rådgiver", "rolf@ks.no", "staff"),
            ("Vera Leser", "vera@ks.no", "viewer"),
        ):
            await add_staff(session, name, email, role, world.clock.now)
    return world


async def code_for(world: World, email: str) -> str:
    async with world.sessions() as session, session.begin():
        staff = await require_staff(session, email)
        return (await issue_chat_code(session, staff, world.clock.now)).secret


async def bind(world: World, chat: str, email: str) -> None:
    await world.say(chat, f"/start {await code_for(world, email)}")
    assert "koblet til KS-kontoen din" in await last_text(world, chat)


async def last_text(world: World, chat: str) -> str:
    return (await world.messages(chat))[-1].message.text


async def chat_row(world: World, chat: str) -> Chat:
    async with world.sessions() as session:
        row = await session.scalar(select(Chat).where(Chat.address == f"chat-{chat}"))
        assert row is not None
        return row


async def log_entries(world: World, action: str | None = None) -> list[audit.AuditRow]:
    async with world.sessions() as session:
        return await audit.entries(session, audit.AuditQuery(action=action))


async def test_a_staff_code_binds_a_chat_without_making_anyone_a_respondent(world: World) -> None:
    await world.say("ks-anne", "/start")
    assert "invitasjonskoden" in await last_text(world, "ks-anne")
    code = await code_for(world, "anne@ks.no")
    await world.say("ks-anne", f" {code[:5].lower()}-{code[5:]} ")  # typed when asked, loosely
    welcome = await last_text(world, "ks-anne")
    assert "Hei, Anne Admin! Denne chatten er koblet til KS-kontoen din (administrator)" in welcome
    row = await chat_row(world, "ks-anne")
    async with world.sessions() as session:
        anne = await require_staff(session, "anne@ks.no")
    assert (row.staff_id, row.contact_id, row.awaiting_code) == (anne.id, None, False)
    [bound] = await log_entries(world, "staff.chat_bound")
    assert (bound.actor, bound.door, bound.detail["chat"]) == (f"staff:{anne.id}", "chat", row.id)

    # No survey here: member commands and text get a pointer to the staff commands.
    for text in ("/svar", "/status", "hei"):
        await world.say("ks-anne", text)
        assert "ingen undersøkelse å svare på" in await last_text(world, "ks-anne")
    await world.say("ks-anne", "/start")
    assert "koblet til KS-kontoen din" in await last_text(world, "ks-anne")
    await world.say("ks-anne", "/hjelp")
    help_text = await last_text(world, "ks-anne")
    assert "din rolle: administrator" in help_text
    assert "/frist RUNDE" in help_text and "/logginn" in help_text and "/svar" not in help_text
    await world.say("ks-anne", "/personvern")
    assert (await last_text(world, "ks-anne")).startswith("Personvern i Lyttepost")


async def test_a_member_chat_bound_to_staff_keeps_its_member(world: World) -> None:
    await bind(world, "3301", "rolf@ks.no")
    row = await chat_row(world, "3301")
    assert row.contact_id == world.contacts["3301"] and row.staff_id is not None
    await world.say("3301", "/hjelp")
    text = await last_text(world, "3301")
    assert "/svar" in text and "/adminhjelp" in text
    await world.say("3301", "/adminhjelp")
    staff_help = await last_text(world, "3301")
    assert "din rolle: rådgiver" in staff_help and "/melding HVEM" in staff_help
    assert "/frist" not in staff_help and "/avlys" not in staff_help  # admin only


async def test_a_used_or_expired_staff_code_is_refused(world: World) -> None:
    code = await code_for(world, "vera@ks.no")
    await world.say("ks-vera", f"/start {code}")
    assert "koblet til" in await last_text(world, "ks-vera")
    await world.say("ks-other", f"/start {code}")
    assert "Koden er allerede brukt" in await last_text(world, "ks-other")
    assert (await chat_row(world, "ks-other")).staff_id is None

    late = await code_for(world, "vera@ks.no")
    world.clock.set(world.clock.now + staff_access.CHAT_CODE_TTL)
    await world.say("ks-late", f"/start {late}")
    assert "Koden er utløpt" in await last_text(world, "ks-late")
    assert (await chat_row(world, "ks-late")).staff_id is None

    # A deactivated account's code is as good as none.
    lapsed = await code_for(world, "rolf@ks.no")
    async with world.sessions() as session, session.begin():
        await deactivate(session, await require_staff(session, "rolf@ks.no"), world.clock.now)
    await world.say("ks-rolf", f"/start {lapsed}")
    assert "kjenner jeg ikke igjen" in await last_text(world, "ks-rolf")


async def test_wrong_codes_count_once_whichever_kind_was_meant(world: World) -> None:
    code = await code_for(world, "anne@ks.no")
    for attempt in range(5):
        await world.say("guesser", f"/start WRONGCODE{attempt}")
    async with world.sessions() as session:
        attempts = await session.scalar(select(func.count()).select_from(CodeAttempt))
    assert attempts == 5  # one per wrong code, though two kinds of code were looked up
    await world.say("guesser", f"/start {code}")  # locked: not even a right code is checked
    assert "For mange feil forsøk" in await last_text(world, "guesser")
    assert (await chat_row(world, "guesser")).staff_id is None
    async with world.sessions() as session:
        unused = await session.scalar(
            select(StaffToken.used_at).where(
                StaffToken.token_hash == staff_access.hash_secret(code)
            )
        )
    assert unused is None
    world.clock.set(world.clock.now + timedelta(minutes=16))
    await world.say("guesser", f"/start {code}")
    assert "koblet til KS-kontoen din" in await last_text(world, "guesser")


async def test_roles_decide_which_commands_run_and_the_rest_is_refused(
    world: World, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="services.conversation")
    round_id = await world.make_round("Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await bind(world, "ks-vera", "vera@ks.no")
    await bind(world, "ks-rolf", "rolf@ks.no")
    await bind(world, "ks-anne", "anne@ks.no")

    await world.say("ks-vera", "/runder")  # a viewer reads progress
    assert f"{round_id}. «Q1» – planlagt" in await last_text(world, "ks-vera")
    for command in (f"/frist {round_id} 2027-03-01", f"/rapport {round_id}", "/melding alle Hei"):
        await world.say("ks-vera", command)
        assert "bare for administratorer" in await last_text(world, "ks-vera"), command
    await world.press("ks-vera", f"adm:cancel:{round_id}")
    assert "bare for administratorer" in await last_text(world, "ks-vera")

    await world.say("ks-rolf", f"/pauserunde {round_id}")  # staff publish, but rounds are admins'
    assert "bare for administratorer" in await last_text(world, "ks-rolf")
    await world.say("4601", "/runder")  # a member with no staff account
    assert "bare for administratorer" in await last_text(world, "4601")
    await world.say("4601", "/logginn")
    assert "bare for administratorer" in await last_text(world, "4601")
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert sum("has role viewer" in r for r in refusals) == 4
    assert sum("has role staff" in r for r in refusals) == 1
    assert sum("no staff account" in r for r in refusals) == 2

    round_ = await round_by_id(world, round_id)
    assert round_.paused_at is None and round_.status == "planned"
    await world.say("ks-anne", f"/pauserunde {round_id}")
    assert "satt på pause" in await last_text(world, "ks-anne")
    assert (await round_by_id(world, round_id)).paused_at is not None

    # A role taken away takes effect at the next command.
    async with world.sessions() as session, session.begin():
        (await require_staff(session, "anne@ks.no")).role = "viewer"
    await world.say("ks-anne", f"/fortsettrunde {round_id}")
    assert "bare for administratorer" in await last_text(world, "ks-anne")
    async with world.sessions() as session, session.begin():
        await deactivate(session, await require_staff(session, "anne@ks.no"), world.clock.now)
    await world.say("ks-anne", "/runder")
    assert "bare for administratorer" in await last_text(world, "ks-anne")


async def round_by_id(world: World, round_id: int) -> Round:
    async with world.sessions() as session:
        round_ = await session.get(Round, round_id)
        assert round_ is not None
        return round_


async def test_logginn_gives_a_single_use_link_to_the_workspace(world: World) -> None:
    await bind(world, "ks-vera", "vera@ks.no")
    await world.say("ks-vera", "/logginn")
    reply = await last_text(world, "ks-vera")
    assert "kan brukes én gang" in reply
    url = next(word for word in reply.split() if word.startswith(WORKSPACE))
    assert url.startswith(f"{WORKSPACE}{staff_access.LOGIN_PATH}")
    secret = url.rsplit("/", 1)[1]
    async with world.sessions() as session, session.begin():
        first = await staff_access.redeem(session, secret, "login_link", world.clock.now)
        again = await staff_access.redeem(session, secret, "login_link", world.clock.now)
    assert first.outcome == "ok" and first.staff is not None and first.staff.email == "vera@ks.no"
    assert again.outcome == "used"

    await world.say("ks-vera", "/logginn")
    late = next(w for w in (await last_text(world, "ks-vera")).split() if w.startswith(WORKSPACE))
    async with world.sessions() as session, session.begin():
        expired = await staff_access.redeem(
            session, late.rsplit("/", 1)[1], "login_link", world.clock.now + timedelta(minutes=15)
        )
    assert expired.outcome == "expired"
    entries = await log_entries(world, "staff.login_link")
    assert len(entries) == 2 and all(e.door == "chat" for e in entries)
    assert secret not in str([e.detail for e in entries])

    world.conversation.workspace_url = ""
    await world.say("ks-vera", "/logginn")
    assert "ikke satt opp" in await last_text(world, "ks-vera")


async def test_chat_writes_are_audited_and_previews_come_to_the_staff_chat(world: World) -> None:
    round_id = await world.make_round("Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await bind(world, "ks-anne", "anne@ks.no")
    async with world.sessions() as session:
        anne = await require_staff(session, "anne@ks.no")
    before = len(await log_entries(world))
    await world.say("ks-anne", "/runder")
    await world.say("ks-anne", f"/rundestatus {round_id}")
    assert len(await log_entries(world)) == before  # reading writes nothing

    await world.say("ks-anne", f"/frist {round_id} 2027-02-05")
    await world.say("ks-anne", "/melding fylke:46 Husk samlingen i Bergen.")
    previews = [s for s in await world.messages("ks-anne") if s.kind == "preview"]
    assert [p.message.text for p in previews] == ["Husk samlingen i Bergen."]
    assert previews[0].contact_id is None  # a staff chat: nobody's respondent
    await world.say("ks-anne", "/publiser 1")
    await world.press("ks-anne", "adm:pub:1:default")
    assert {s.address for s in await world.of_kind("broadcast")} == {"chat-4601"}

    entries = list(reversed(await log_entries(world)))[before:]
    assert [(e.action, e.target) for e in entries] == [
        ("round.deadline", f"round:{round_id}"),
        ("publication.draft", "publication:1"),
        ("publication.preview", "publication:1"),
        ("publication.publish", "publication:1"),
    ]
    assert {(e.actor, e.door, e.staff_name) for e in entries} == {
        (f"staff:{anne.id}", "chat", "Anne Admin")
    }
    assert entries[-1].detail["recipients"] == 1

"""Staff commands in chat (default deny, refusals logged), /arshjul for members, and the
response rate, on SQLite and PostgreSQL. The admin's chat is a member's chat bound to an
admin staff account too, as migration 0007 leaves a former admin contact's chat."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from services.response_rate import round_progress
from services.staff import add_staff
from storage.orm import Chat, Round
from tests.cycle_support import World, oslo

ORGS = ["3301", "3303", "4601", "46", "1103"]  # Drammen, Kongsberg, Bergen, Vestland, Stavanger
ADMIN = "3301"


@pytest.fixture
async def world(sessions) -> World:
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(ORGS)
    async with sessions() as session, session.begin():
        staff = await add_staff(session, "Leder 3301", "leder@ks.no", "admin", world.clock.now)
        chat = await session.scalar(select(Chat).where(Chat.address == f"chat-{ADMIN}"))
        assert chat is not None
        chat.staff_id = staff.id
    return world


async def last_text(world: World, code: str) -> str:
    return (await world.messages(code))[-1].message.text


async def round_of(world: World, round_id: int) -> Round:
    async with world.sessions() as session:
        round_ = await session.get(Round, round_id)
        assert round_ is not None
        return round_


async def test_non_admins_are_refused_politely_and_logged(world: World, caplog) -> None:
    round_id = await world.make_round("Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    caplog.set_level(logging.WARNING, logger="services.conversation")
    for command in (
        "/runder",
        f"/frist {round_id} 2027-03-01",
        f"/avlys {round_id}",
        "/adminhjelp",
    ):
        await world.say("4601", command)
        assert "bare for administratorer" in await last_text(world, "4601")
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 4
    assert all("no staff account" in r.getMessage() for r in refusals)
    assert (await round_of(world, round_id)).closes_at == oslo("2027-01-29 23:59")


async def test_a_non_admin_cannot_press_an_admins_cancel_button(world: World, caplog) -> None:
    round_id = await world.make_round("Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    caplog.set_level(logging.WARNING, logger="services.conversation")
    await world.press("4601", f"adm:cancel:{round_id}")
    assert "bare for administratorer" in await last_text(world, "4601")
    assert (await round_of(world, round_id)).status == "planned"
    assert any("refused" in r.getMessage() for r in caplog.records)


async def test_an_unregistered_chat_is_refused_too(world: World, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="services.conversation")
    world.contacts["stranger"] = 0
    await world.say("stranger", "/runder")
    assert "bare for administratorer" in await last_text(world, "stranger")
    assert any("no staff account" in r.getMessage() for r in caplog.records)


async def test_admins_list_rounds_and_see_the_response_rate(world: World) -> None:
    round_id = await world.make_round("Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await world.run_until(oslo("2027-01-11 09:05"))
    await world.answer("3303", round_id)
    await world.answer("4601", round_id, questions=2)
    await world.say(ADMIN, "/runder")
    listing = await last_text(world, ADMIN)
    assert f"{round_id}. «Q1» – åpen" in listing and "svar 1/371" in listing
    await world.say(ADMIN, f"/rundestatus {round_id}")
    status = await last_text(world, ADMIN)
    assert "Invitert: 5 av 371 · påbegynt: 2 · sendt inn: 1 (0%)" in status
    assert "Buskerud: 1/19" in status and "4601 Bergen – påbegynt" in status
    assert "… og 340 til" in status  # chat lists 30; the CLI lists all


async def test_response_rate_counts_per_organisation_and_county(world: World) -> None:
    round_id = await world.make_round("Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await world.run_until(oslo("2027-01-11 09:05"))
    await world.answer("3303", round_id)
    await world.answer("46", round_id)
    await world.answer("4601", round_id, questions=2)
    async with world.sessions() as session:
        progress = await round_progress(session, round_id)
    document = progress.to_json()
    assert (document["organisations"], document["invited"], document["started"],
            document["submitted"]) == (371, 5, 3, 2)  # fmt: skip
    vestland = next(c for c in document["by_county"] if c["county"] == "46")
    assert (vestland["invited"], vestland["started"], vestland["submitted"]) == (2, 2, 1)
    missing = {m["org"]: m for m in document["not_answered"]}
    assert len(missing) == 369 and "3303" not in missing and "46" not in missing
    assert missing["4601"]["started"] and missing["3301"]["invited"]
    assert not missing["0301"]["invited"]  # no contact: not reachable


async def test_admins_move_the_deadline_pause_resume_and_cancel(world: World) -> None:
    round_id = await world.make_round("Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await world.run_until(oslo("2027-01-12 10:00"))
    await world.say(ADMIN, f"/frist {round_id} 05.02.2027 12:00")
    assert "Ny frist for runde 1: 5. februar 2027 kl. 12.00" in await last_text(world, ADMIN)
    assert (await round_of(world, round_id)).closes_at == oslo("2027-02-05 12:00")
    assert len(await world.of_kind("deadline_changed", round_id)) == len(ORGS)

    await world.say(ADMIN, f"/pauserunde {round_id}")
    assert (await round_of(world, round_id)).paused_at is not None
    await world.say(ADMIN, f"/fortsettrunde {round_id}")
    assert (await round_of(world, round_id)).paused_at is None

    await world.say(ADMIN, f"/avlys {round_id}")
    assert await world.last_buttons(ADMIN) == [f"adm:cancel:{round_id}", "adm:keep"]
    await world.press(ADMIN, "adm:keep")
    assert (await round_of(world, round_id)).status == "open"
    await world.press(ADMIN, f"adm:cancel:{round_id}")
    assert "er avlyst" in await last_text(world, ADMIN)
    assert (await round_of(world, round_id)).status == "cancelled"


async def test_bad_admin_commands_get_the_usage(world: World) -> None:
    for command in (
        "/frist",
        "/frist 1",
        "/frist x 2027-01-01",
        "/frist 1 2027-02-30",
        "/flytt 1 i morgen",
    ):
        await world.say(ADMIN, command)
        assert "Slik bruker du kommandoen" in await last_text(world, ADMIN)
    await world.say(ADMIN, "/rundestatus 99")
    assert "Fant ingen runde 99" in await last_text(world, ADMIN)


async def test_rescheduling_an_open_round_is_refused_with_a_reason(world: World) -> None:
    round_id = await world.make_round("Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await world.run_until(oslo("2027-01-12 10:00"))
    await world.say(ADMIN, f"/flytt {round_id} 2027-01-20")
    assert "allerede åpnet; bare fristen kan endres" in await last_text(world, ADMIN)


async def test_members_see_the_annual_wheel(world: World) -> None:
    q1 = await world.make_round("Behov Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await world.make_round("Behov Q2", "2027-04-12 09:00", "2027-04-30 23:59")
    await world.run_until(oslo("2027-01-12 10:00"))
    await world.say("4601", "/arshjul")
    wheel = await last_text(world, "4601")
    assert "Åpen nå:\n• «Behov Q1» – svarfrist 29. januar 2027 kl. 23.59" in wheel
    assert "ikke svart ennå" in wheel
    assert "Kommer:\n• «Behov Q2» – åpner 12. april 2027, frist 30. april 2027" in wheel
    await world.answer("4601", q1)
    await world.run_until(oslo("2027-02-02 10:00"))
    await world.say("4601", "/årshjul")
    wheel = await last_text(world, "4601")
    assert "Gjennomført:\n• «Behov Q1» – stengte 29. januar 2027: dere svarte" in wheel


async def test_help_tells_admins_about_their_commands(world: World) -> None:
    await world.say(ADMIN, "/hjelp")
    assert "/adminhjelp" in await last_text(world, ADMIN)
    await world.say("4601", "/hjelp")
    assert "/adminhjelp" not in await last_text(world, "4601")
    await world.say(ADMIN, "/adminhjelp")
    assert "/frist RUNDE DATO" in await last_text(world, ADMIN)


async def test_admin_changes_are_in_the_rounds_history(world: World) -> None:
    round_id = await world.make_round("Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await world.say(ADMIN, f"/pauserunde {round_id}")
    from storage.orm import RoundEvent

    async with world.sessions() as session:
        event = await session.scalar(select(RoundEvent).where(RoundEvent.action == "paused"))
    async with world.sessions() as session:
        staff_id = await session.scalar(select(Chat.staff_id).where(Chat.address == "chat-3301"))
    assert event is not None and event.actor == f"staff:{staff_id}"


async def closed_round_with_answers(world: World) -> int:
    round_id = await world.make_round("Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await world.run_until(oslo("2027-01-11 09:05"))
    for code in ("3303", "4601", "46"):
        await world.answer(code, round_id)
    await world.run_until(oslo("2027-02-01 09:00"))
    return round_id


async def test_admins_draft_preview_edit_and_publish_a_summary_in_chat(world: World) -> None:
    round_id = await closed_round_with_answers(world)
    await world.say(ADMIN, f"/rapport {round_id}")
    mine = await world.messages(ADMIN)
    assert "Utkast 1 («Oppsummering: Q1»)" in mine[-1].message.text
    previews = [s for s in mine if s.kind == "preview"]
    # text, the participation chart and two documents: with three answers every other
    # figure rests on fewer than five organisations, so their charts are left out
    assert [bool(s.message.attachments) for s in previews] == [False, True, True, True]
    await world.say(ADMIN, "/rediger 1 Kort oppsummering.\nMer kommer.")
    previews = [s for s in await world.messages(ADMIN) if s.kind == "preview"]
    assert previews[-4].message.text == "Kort oppsummering.\nMer kommer."
    await world.say(ADMIN, "/publiser 1 svarte")
    confirm = (await world.messages(ADMIN))[-1].message
    assert "til 3 kontaktpersoner i 3 organisasjoner" in confirm.text
    assert await world.last_buttons(ADMIN) == ["adm:pub:1:respondents", "adm:keep"]
    await world.press("4601", "adm:pub:1:respondents")  # not an admin: refused
    assert "bare for administratorer" in await last_text(world, "4601")
    assert await world.of_kind("summary") == []
    await world.press(ADMIN, "adm:pub:1:respondents")
    assert "sendes nå til 3 kontaktpersoner" in await last_text(world, ADMIN)
    summary_chats = {s.address for s in await world.of_kind("summary")}
    assert summary_chats == {"chat-3303", "chat-4601", "chat-46"}
    await world.press(ADMIN, "adm:pub:1:respondents")  # pressed twice: nothing more
    assert "allerede" in await last_text(world, ADMIN)


async def test_notices_and_broadcasts_from_chat(world: World) -> None:
    round_id = await closed_round_with_answers(world)
    await world.say(ADMIN, f"/kunngjoring {round_id} KS lager et nettverk for digitalisering.")
    assert "Utkast 1" in await last_text(world, ADMIN)
    await world.say(ADMIN, "/melding fylke:46 Husk samlingen i Bergen.")
    assert "Utkast 2" in await last_text(world, ADMIN)
    await world.say(ADMIN, "/publiser 2")
    assert "medlemmer i fylke 46" in await last_text(world, ADMIN)
    await world.press(ADMIN, "adm:pub:2:default")
    assert {s.address for s in await world.of_kind("broadcast")} == {"chat-4601", "chat-46"}
    await world.say(ADMIN, "/melding overalt Hei")
    assert "unknown segment" in await last_text(world, ADMIN)
    await world.say(ADMIN, f"/rapport {round_id + 1}")
    assert "Fant ingen runde" in await last_text(world, ADMIN)


async def test_admins_close_a_round_now_after_confirming(world: World) -> None:
    round_id = await world.make_round("Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await world.run_until(oslo("2027-01-12 10:00"))
    await world.answer("3303", round_id)
    await world.answer("4601", round_id, questions=2)
    await world.say(ADMIN, f"/lukk {round_id}")
    question = await last_text(world, ADMIN)
    assert f"stenge runde {round_id} «Q1» nå, før fristen 29. januar 2027 kl. 23.59" in question
    assert "1 organisasjon har sendt inn" in question and "Ett påbegynt svar" in question
    assert await world.last_buttons(ADMIN) == [f"adm:close:{round_id}", "adm:keep"]
    await world.press(ADMIN, "adm:keep")
    assert (await round_of(world, round_id)).status == "open"
    await world.press("4601", f"adm:close:{round_id}")  # not an admin: refused
    assert (await round_of(world, round_id)).status == "open"
    await world.press(ADMIN, f"adm:close:{round_id}")
    done = await last_text(world, ADMIN)
    assert f"Runde {round_id} «Q1» er stengt" in done and "1 påbegynt svar er tatt vare på" in done
    assert (await round_of(world, round_id)).status == "closed"
    assert [s.address for s in await world.of_kind("round_closed", round_id)] == ["chat-4601"]
    await world.say(ADMIN, f"/lukk {round_id}")
    assert "allerede stengt" in await last_text(world, ADMIN)
    assert "/lukk RUNDE" in (await world.say(ADMIN, "/adminhjelp") or await last_text(world, ADMIN))

"""The annual cycle on a fake clock, on SQLite and PostgreSQL.

A year of four rounds runs end to end in about a second: invitations at opening,
reminders only to those who have not submitted, never at night or at weekends,
closing at the deadline with half-done answers kept, and members told. Restarts
(a fresh Cycle on the same database) at every stage change nothing of the outcome.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from dialogs.reminders import QuietRules, ReminderRule
from scheduler.timing import round_triggers
from services import lifecycle
from services.rounds import Audience
from storage.orm import Response, Round, RoundEvent
from tests.cycle_support import ZONE, World, oslo, weekday_daytime

ORGS = [
    "3301",
    "0301",
    "4601",
    "46",
    "1103",
    "5001",
    "1804",
    "3203",
    "4204",
    "3901",
    "1505",
    "5501",
]
QUICK, AFTER_REMINDER, HALFWAY = ORGS[:4], ORGS[4:6], ORGS[6:8]
SILENT = ORGS[8:]

YEAR = [  # (title, opens, closes): KS's four quarterly rounds of 2027
    ("Behov 1. kvartal 2027", "2027-01-11 09:00", "2027-01-31 23:59"),
    ("Behov 2. kvartal 2027", "2027-04-12 09:00", "2027-04-30 23:59"),
    ("Behov 3. kvartal 2027", "2027-09-13 09:00", "2027-10-01 23:59"),
    ("Behov 4. kvartal 2027", "2027-11-08 09:00", "2027-11-26 23:59"),
]


@pytest.fixture
async def world(sessions) -> World:
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(ORGS)
    return world


async def round_row(world: World, round_id: int) -> Round:
    async with world.sessions() as session:
        round_ = await session.get(Round, round_id)
        assert round_ is not None
        return round_


async def statuses(world: World, round_id: int) -> dict[str, str]:
    codes = {contact: code for code, contact in world.contacts.items()}
    async with world.sessions() as session:
        rows = await session.execute(
            select(Response.contact_id, Response.status).where(Response.round_id == round_id)
        )
        return {codes[contact]: status for contact, status in rows}


def addressees(sent) -> Counter[str]:
    return Counter(s.address.removeprefix("chat-") for s in sent)


async def test_a_year_of_four_rounds_runs_itself(world: World) -> None:
    rounds = [await world.make_round(title, opens, closes) for title, opens, closes in YEAR]
    for round_id, (_, opens, closes) in zip(rounds, YEAR, strict=True):
        await world.run_until(oslo(opens) + timedelta(minutes=5))
        invitations = await world.of_kind("invitation", round_id)
        assert addressees(invitations) == Counter(ORGS), "every contact invited exactly once"
        assert {s.queued_at for s in invitations} == {oslo(opens)}
        for code in QUICK:
            await world.answer(code, round_id)

        first_reminder = min(
            t.at
            for t in await world.cycle.triggers()
            if t.job_id.startswith(f"round:{round_id}:remind")
        )
        await world.run_until(first_reminder + timedelta(minutes=1))
        reminded = await world.of_kind("reminder", round_id)
        assert set(addressees(reminded)) == set(ORGS) - set(QUICK)
        for code in AFTER_REMINDER:
            await world.answer(code, round_id)
        for code in HALFWAY:
            await world.answer(code, round_id, questions=3)

        await world.run_until(oslo(closes) + timedelta(days=4))
        round_ = await round_row(world, round_id)
        assert round_.status == "closed" and round_.closed_at == oslo(closes)

        reminders = await world.of_kind("reminder", round_id)
        per_contact = addressees(reminders)
        later = per_contact - addressees(reminded)
        assert all(code not in later for code in QUICK + AFTER_REMINDER), (
            "no reminder after submitting"
        )
        assert set(later) == set(HALFWAY + SILENT)
        assert len(set(per_contact.values())) <= 2  # first reminder to all, later ones to the rest

        assert await statuses(world, round_id) == {
            **dict.fromkeys(QUICK + AFTER_REMINDER, "submitted"),
            **dict.fromkeys(HALFWAY, "incomplete"),
        }
        closed_notices = await world.of_kind("round_closed", round_id)
        assert addressees(closed_notices) == Counter(HALFWAY)

    automated = [
        s for s in await world.outbox()
        if s.kind in ("invitation", "reminder", "round_closed")
    ]  # fmt: skip
    assert automated and all(weekday_daytime(s.queued_at) for s in automated)
    assert world.steps < 200


async def test_reminder_plan_moves_out_of_weekends_and_collapses_duplicates(world: World) -> None:
    # Closes on a Sunday: "7 days before" is a Sunday (-> Monday 08:00), "2 days before" is
    # Friday 09:00, "last day" is Sunday (-> back to Friday 09:00, the same moment).
    round_id = await world.make_round(*YEAR[0])
    await world.run_until(oslo("2027-02-05 12:00"))
    moments = sorted({s.queued_at for s in await world.of_kind("reminder", round_id)})
    assert moments == [oslo("2027-01-25 08:00"), oslo("2027-01-29 09:00")]


async def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(world: World) -> None:
    round_id = await world.make_round(
        "Kveld", "2027-01-11 09:00", "2027-01-15 23:59",
        reminders=(ReminderRule(before=timedelta(hours=2)),),  # 21:59: quiet hours
    )  # fmt: skip
    await world.run_until(oslo("2027-01-20 12:00"))
    moments = {s.queued_at for s in await world.of_kind("reminder", round_id)}
    assert moments == {oslo("2027-01-15 08:00")}  # moved back into the last day


async def test_weekends_allowed_when_the_admin_says_so(world: World) -> None:
    round_id = await world.make_round(
        "Helg", "2027-01-11 09:00", "2027-01-31 23:59",
        quiet=QuietRules(weekends=True),
    )  # fmt: skip
    await world.run_until(oslo("2027-02-02 12:00"))
    moments = sorted({s.queued_at for s in await world.of_kind("reminder", round_id)})
    assert moments == [
        oslo("2027-01-24 09:00"), oslo("2027-01-29 09:00"), oslo("2027-01-31 09:00")
    ]  # fmt: skip


async def test_daylight_saving_change_keeps_reminders_at_nine_local(world: World) -> None:
    # Clocks go forward on Sunday 2027-03-28: reminders before and after are both 09:00 Oslo.
    # That is Easter too (Monday 29 is a public holiday): holidays are allowed here.
    round_id = await world.make_round(
        "Vår", "2027-03-22 09:00", "2027-03-31 23:59", quiet=QuietRules(holidays=True)
    )
    await world.run_until(oslo("2027-04-02 12:00"))
    moments = sorted({s.queued_at for s in await world.of_kind("reminder", round_id)})
    assert [m.astimezone(ZONE).strftime("%d %H:%M %Z") for m in moments] == [
        "24 09:00 CET", "29 09:00 CEST", "31 09:00 CEST"
    ]  # fmt: skip
    assert [m.hour for m in moments] == [8, 7, 7]  # UTC


async def test_missed_reminders_while_down_fold_into_one(world: World) -> None:
    round_id = await world.make_round(*YEAR[1])  # reminders Apr 23, 28 and 30, 09:00
    await world.run_until(oslo("2027-04-12 09:05"))
    # Down from Apr 20 to Apr 29 12:00: two reminders were missed.
    world.clock.set(oslo("2027-04-29 12:00"))
    await world.new_cycle().catch_up()
    reminders = await world.of_kind("reminder", round_id)
    assert addressees(reminders) == Counter(ORGS)  # one each, not two
    assert {s.queued_at for s in reminders} == {oslo("2027-04-29 12:00")}
    await world.run_until(oslo("2027-05-01 12:00"))
    assert addressees(await world.of_kind("reminder", round_id)) == Counter({c: 2 for c in ORGS})


async def test_back_in_quiet_hours_waits_for_the_morning(world: World) -> None:
    round_id = await world.make_round(*YEAR[1])
    await world.run_until(oslo("2027-04-12 09:05"))
    world.clock.set(oslo("2027-04-23 23:30"))  # down at 09:00, back at 23:30
    assert await world.new_cycle().catch_up() == {}
    await world.run_until(oslo("2027-04-24 12:00"))  # Saturday: still not allowed
    assert await world.of_kind("reminder", round_id) == []
    await world.run_until(oslo("2027-04-26 08:30"))
    assert {s.queued_at for s in await world.of_kind("reminder", round_id)} == {
        oslo("2027-04-26 08:00")
    }


async def test_a_round_missed_while_down_opens_on_start(world: World) -> None:
    round_id = await world.make_round(*YEAR[0])
    world.clock.set(oslo("2027-01-12 10:00"))  # down over the opening
    done = await world.new_cycle().catch_up()
    assert done[round_id][0] == "opened"
    assert addressees(await world.of_kind("invitation", round_id)) == Counter(ORGS)


async def test_a_deadline_passed_while_down_closes_on_start(world: World) -> None:
    round_id = await world.make_round(*YEAR[0])
    await world.run_until(oslo("2027-01-11 09:05"))
    await world.answer("3301", round_id, questions=2)
    world.clock.set(oslo("2027-02-03 10:00"))
    await world.new_cycle().catch_up()
    round_ = await round_row(world, round_id)
    assert round_.status == "closed" and round_.closed_at == oslo("2027-02-03 10:00")
    assert await world.of_kind("reminder", round_id) == [], "no reminders after the deadline"
    assert addressees(await world.of_kind("round_closed", round_id)) == Counter(["3301"])


async def test_a_round_whose_whole_window_passed_while_down_closes_unopened(world: World) -> None:
    round_id = await world.make_round(*YEAR[0])
    world.clock.set(oslo("2027-02-10 10:00"))
    await world.new_cycle().catch_up()
    round_ = await round_row(world, round_id)
    assert (round_.status, round_.opened_at) == ("closed", None)
    assert await world.outbox() == []


@pytest.mark.parametrize(
    "restart_at",
    ["2027-01-08 12:00", "2027-01-11 09:00", "2027-01-11 09:30", "2027-01-25 08:00",
     "2027-01-27 12:00", "2027-01-31 23:59", "2027-02-01 07:00"],
)  # fmt: skip
async def test_a_restart_at_any_stage_changes_nothing(world: World, restart_at: str) -> None:
    round_id = await world.make_round(*YEAR[0])
    await world.run_until(oslo(restart_at))
    await world.answer("3301", round_id, questions=2) if oslo(restart_at) > oslo(
        YEAR[0][1]
    ) else None
    restarted = world.new_cycle()
    await restarted.catch_up()
    await world.run_until(oslo("2027-02-03 12:00"), cycle=restarted)
    kinds = Counter((s.kind, s.address) for s in await world.outbox() if s.round_id == round_id)
    assert {k: v for k, v in kinds.items() if k[0] == "invitation"} == {
        ("invitation", f"chat-{code}"): 1 for code in ORGS
    }
    assert all(v == 2 for k, v in kinds.items() if k[0] == "reminder")  # Jan 25 and Jan 29
    assert (await round_row(world, round_id)).status == "closed"


async def test_a_job_that_fires_twice_or_late_changes_nothing(world: World) -> None:
    round_id = await world.make_round(*YEAR[1])
    world.clock.set(oslo("2027-04-12 09:00"))
    assert (await world.cycle.advance(round_id))[0] == "opened"
    assert await world.cycle.advance(round_id) == []
    world.clock.set(oslo("2027-04-23 09:00"))
    assert await world.cycle.advance(round_id) == ["queued 12 reminders"]
    world.clock.set(oslo("2027-04-23 15:00"))
    assert await world.cycle.advance(round_id) == []
    assert len(await world.of_kind("reminder", round_id)) == 12


async def test_the_deadline_passing_mid_answer_keeps_the_answers(world: World) -> None:
    round_id = await world.make_round(*YEAR[1])
    await world.run_until(oslo("2027-04-12 10:00"))
    await world.answer("3301", round_id, questions=4)
    await world.run_until(oslo("2027-04-30 23:59"))
    async with world.sessions() as session:
        response = await session.scalar(select(Response).where(Response.round_id == round_id))
        assert response is not None
    assert response.status == "incomplete" and response.state["phase"] == "closed"
    assert len(response.state["answers"]) >= 2, "what was answered is kept"
    assert await world.of_kind("round_closed", round_id) == []  # Friday 23:59: not at night
    await world.run_until(oslo("2027-05-03 09:00"))  # Monday morning
    notices = await world.of_kind("round_closed", round_id)
    assert [(s.address, s.queued_at) for s in notices] == [("chat-3301", oslo("2027-05-03 08:00"))]
    assert "ufullstendig" in notices[0].message.text
    await world.press("3301", "a:omrader:1")  # a stale button after closing
    last = (await world.messages("3301"))[-1]
    assert "stengt" in last.message.text


async def test_a_member_who_wrote_after_closing_is_not_told_again(world: World) -> None:
    round_id = await world.make_round(*YEAR[1])
    await world.run_until(oslo("2027-04-12 10:00"))
    await world.answer("3301", round_id, questions=2)
    await world.run_until(oslo("2027-05-01 10:00"))  # Saturday: notices wait
    await world.say("3301", "/oversikt")  # the engine tells them the round has closed
    assert "Runden er stengt" in (await world.messages("3301"))[-1].message.text
    await world.run_until(oslo("2027-05-03 09:00"))
    assert await world.of_kind("round_closed", round_id) == []


async def test_a_paused_round_neither_opens_nor_reminds_until_resumed(world: World) -> None:
    round_id = await world.make_round(*YEAR[1])
    async with world.sessions() as session, session.begin():
        round_ = await lifecycle.load_round(session, round_id)
        await lifecycle.pause_round(session, round_, world.clock.now, actor="test")
    await world.run_until(oslo("2027-04-26 12:00"))
    assert (await round_row(world, round_id)).status == "planned"
    assert await world.outbox() == []
    async with world.sessions() as session, session.begin():
        round_ = await lifecycle.load_round(session, round_id)
        await lifecycle.resume_round(session, round_, world.clock.now, actor="test")
    await world.run_until(oslo("2027-04-26 12:01"))
    assert addressees(await world.of_kind("invitation", round_id)) == Counter(ORGS)
    assert await world.of_kind("reminder", round_id) == [], "the invitation is reminder enough"
    await world.run_until(oslo("2027-05-02 12:00"))
    assert addressees(await world.of_kind("reminder", round_id)) == Counter({c: 2 for c in ORGS})


async def test_pausing_an_open_round_holds_its_undelivered_messages(world: World) -> None:
    round_id = await world.make_round(*YEAR[1])
    await world.run_until(oslo("2027-04-12 09:01"))
    async with world.sessions() as session, session.begin():
        round_ = await lifecycle.load_round(session, round_id)
        result = await lifecycle.pause_round(session, round_, world.clock.now, actor="test")
    assert result.withdrawn == len(ORGS)
    assert {s.status for s in await world.of_kind("invitation", round_id)} == {"held"}
    await world.run_until(oslo("2027-04-29 12:00"))
    assert await world.of_kind("reminder", round_id) == []
    await world.run_until(oslo("2027-05-01 12:00"))  # the deadline closes it, paused or not
    assert (await round_row(world, round_id)).status == "closed"
    assert {s.status for s in await world.of_kind("invitation", round_id)} == {"cancelled"}


async def test_extending_the_deadline_moves_close_and_reminders(world: World) -> None:
    round_id = await world.make_round(*YEAR[1])
    await world.run_until(oslo("2027-04-26 12:00"))  # one reminder (Apr 23) sent
    async with world.sessions() as session, session.begin():
        round_ = await lifecycle.load_round(session, round_id)
        result = await lifecycle.change_dates(
            session, round_, world.clock.now, ZONE, actor="test", closes_at=oslo("2027-05-07 23:59")
        )
    assert result.notified == len(ORGS)
    assert len(await world.of_kind("deadline_changed", round_id)) == len(ORGS)
    await world.run_until(oslo("2027-05-03 12:00"))
    assert (await round_row(world, round_id)).status == "open"
    await world.run_until(oslo("2027-05-10 12:00"))
    reminders = sorted({s.queued_at for s in await world.of_kind("reminder", round_id)})
    assert reminders == [oslo("2027-04-23 09:00"), oslo("2027-04-30 09:00"),
                         oslo("2027-05-05 09:00"), oslo("2027-05-07 09:00")]  # fmt: skip
    assert (await round_row(world, round_id)).closed_at == oslo("2027-05-07 23:59")


async def test_closed_and_cancelled_rounds_cannot_be_changed(world: World) -> None:
    round_id = await world.make_round(*YEAR[0])
    await world.run_until(oslo("2027-02-02 12:00"))
    async with world.sessions() as session, session.begin():
        round_ = await lifecycle.load_round(session, round_id)
        with pytest.raises(lifecycle.LifecycleError, match="er stengt"):
            await lifecycle.pause_round(session, round_, world.clock.now, actor="test")
        with pytest.raises(lifecycle.LifecycleError, match="er stengt"):
            await lifecycle.cancel_round(session, round_, world.clock.now, actor="test")


async def test_every_step_is_in_the_rounds_history(world: World) -> None:
    round_id = await world.make_round(*YEAR[0])
    await world.run_until(oslo("2027-02-02 12:00"))
    async with world.sessions() as session:
        actions = list(
            await session.scalars(
                select(RoundEvent.action)
                .where(RoundEvent.round_id == round_id)
                .order_by(RoundEvent.id)
            )
        )
    assert actions == ["opened", "invited", "reminded", "reminded", "closed"]


async def test_county_audience_is_invited_and_reminded_alone(world: World) -> None:
    round_id = await world.make_round(
        "Vestland", "2027-01-11 09:00", "2027-01-29 23:59", audience=Audience(county="46")
    )
    await world.run_until(oslo("2027-02-01 12:00"))
    assert set(addressees(await world.of_kind("invitation", round_id))) == {"4601", "46"}
    assert set(addressees(await world.of_kind("reminder", round_id))) == {"4601", "46"}


async def test_triggers_are_rebuilt_from_the_database(world: World) -> None:
    round_id = await world.make_round(*YEAR[0])
    triggers = {t.job_id: t.at for t in await world.cycle.triggers()}
    assert triggers == {f"round:{round_id}:open": oslo("2027-01-11 09:00"),
                        f"round:{round_id}:close": oslo("2027-01-31 23:59")}  # fmt: skip
    from scheduler.cycle import timing_of

    round_ = await round_row(world, round_id)
    assert round_triggers(timing_of(round_), world.clock.now, ZONE) == triggers


async def test_a_round_cancelled_with_invitations_half_sent(sessions) -> None:
    """The sender is delivering invitations when an admin cancels: the rest are never sent,
    and exactly those who got one are told it is off. (In the past, so the real sender,
    which reads the wall clock, finds the messages due.)"""
    from services.delivery import Pacing, Sender
    from tests.test_delivery import RecordingTransport

    world = World(sessions, oslo("2026-01-05 08:00"))
    await world.setup(ORGS)
    round_id = await world.make_round("Q1 2026", "2026-01-12 09:00", "2026-01-30 23:59")
    await world.run_until(oslo("2026-01-12 09:00"))
    halfway = asyncio.Event()

    class HalfwayTransport(RecordingTransport):
        expected_notices = -1
        notices_done = asyncio.Event()

        async def deliver(self, address, message, replace_id):
            provider_id = await super().deliver(address, message, replace_id)
            if len(self.sent) >= 5:
                halfway.set()
            notices = sum("har avlyst" in text for _, text, _ in self.sent)
            if notices == self.expected_notices:
                self.notices_done.set()
            return provider_id

    transport = HalfwayTransport()
    sender = Sender(
        world.sessions, {"telegram": transport}, Pacing(per_second=20.0), poll_interval=0.05
    )
    task = asyncio.create_task(sender.run())
    await asyncio.wait_for(halfway.wait(), timeout=10)
    async with world.sessions() as session, session.begin():
        round_ = await lifecycle.load_round(session, round_id)
        result = await lifecycle.cancel_round(session, round_, world.clock.now, actor="test")
    transport.expected_notices = result.notified
    if sum("har avlyst" in text for _, text, _ in transport.sent) == result.notified:
        transport.notices_done.set()
    await asyncio.wait_for(transport.notices_done.wait(), timeout=10)
    await asyncio.sleep(0.3)  # nothing more arrives
    await sender.stop()
    task.cancel()
    invited = {a for a, text, _ in transport.sent if "har åpnet" in text}
    told = {a for a, text, _ in transport.sent if "har avlyst" in text}
    assert 5 <= len(invited) < len(ORGS), "cancelled halfway"
    assert told == invited and result.notified == len(invited)
    assert result.withdrawn == len(ORGS) - len(invited)
    assert {s.status for s in await world.of_kind("invitation", round_id)} == {"sent", "cancelled"}
    world.clock.set(oslo("2026-01-29 12:00"))
    assert await world.new_cycle().catch_up() == {}  # nothing more for a cancelled round
    assert await world.of_kind("reminder", round_id) == []


async def close_now(world: World, round_id: int, actor: str = "cli:test") -> lifecycle.ChangeResult:
    async with world.sessions() as session, session.begin():
        round_ = await lifecycle.load_round(session, round_id)
        return await lifecycle.close_now(
            session, round_, world.clock.now, ZONE, world.catalog, actor=actor
        )


async def test_closing_a_round_now_does_what_the_deadline_does(world: World) -> None:
    round_id = await world.make_round(*YEAR[1])  # deadline Friday 30 April 23:59
    await world.run_until(oslo("2027-04-20 10:00"))
    await world.answer("3301", round_id)
    await world.answer("0301", round_id, questions=3)
    await world.answer("4601", round_id, questions=2)
    async with world.sessions() as session:
        ahead = await lifecycle.close_preview(session, round_id)
    assert (ahead.submitted, ahead.unfinished) == (1, 2)

    result = await close_now(world, round_id)
    assert (result.status, result.incomplete, result.notified) == ("closed", 2, 2)
    closed = await round_row(world, round_id)
    assert closed.closed_at == closed.closes_at == oslo("2027-04-20 10:00")
    async with world.sessions() as session:
        statuses = {
            r.contact_id: (r.status, r.state["phase"])
            for r in await session.scalars(select(Response).where(Response.round_id == round_id))
        }
        event = await session.scalar(
            select(RoundEvent).where(RoundEvent.round_id == round_id).order_by(RoundEvent.id.desc())
        )
    assert statuses[world.contacts["3301"]][0] == "submitted"
    assert statuses[world.contacts["0301"]] == statuses[world.contacts["4601"]] == (
        "incomplete", "closed")  # fmt: skip
    told = await world.of_kind("round_closed", round_id)
    assert sorted(s.address for s in told) == ["chat-0301", "chat-4601"]
    assert "før den opprinnelige fristen 30. april 2027 kl. 23.59" in told[0].message.text
    assert "ufullstendig" in told[0].message.text
    assert event is not None and event.action == "closed_notified"
    async with world.sessions() as session:
        closing = await session.scalar(
            select(RoundEvent).where(RoundEvent.round_id == round_id, RoundEvent.action == "closed")
        )
    assert closing is not None and closing.actor == "cli:test"
    assert closing.detail["planned_deadline"] == oslo("2027-04-30 23:59").isoformat()
    assert closing.detail["incomplete"] == 2

    await world.run_until(oslo("2027-05-03 12:00"))  # past the old deadline: nothing more
    assert await world.of_kind("reminder", round_id) == []
    assert len(await world.of_kind("round_closed", round_id)) == 2
    await world.press("0301", "a:omrader:1")  # a stale button after closing
    assert "stengt" in (await world.messages("0301"))[-1].message.text


async def test_closing_in_quiet_hours_tells_the_authors_in_the_morning(world: World) -> None:
    round_id = await world.make_round(*YEAR[1])
    await world.run_until(oslo("2027-04-20 10:00"))
    await world.answer("0301", round_id, questions=2)
    await world.run_until(oslo("2027-04-20 22:30"))
    result = await close_now(world, round_id)
    assert (result.incomplete, result.notified) == (1, 0)
    assert await world.of_kind("round_closed", round_id) == []
    await world.run_until(oslo("2027-04-21 09:00"))
    told = await world.of_kind("round_closed", round_id)
    assert [(s.address, s.queued_at) for s in told] == [("chat-0301", oslo("2027-04-21 08:00"))]


async def test_only_an_open_round_can_be_closed_now(world: World) -> None:
    planned = await world.make_round(*YEAR[1])
    with pytest.raises(lifecycle.LifecycleError, match="ikke åpnet ennå"):
        await close_now(world, planned)
    await world.run_until(oslo("2027-04-12 10:00"))
    await close_now(world, planned)
    with pytest.raises(lifecycle.LifecycleError, match="allerede stengt"):
        await close_now(world, planned)
    cancelled = await world.make_round(*YEAR[2])
    async with world.sessions() as session, session.begin():
        round_ = await lifecycle.load_round(session, cancelled)
        await lifecycle.cancel_round(session, round_, world.clock.now, actor="test")
    with pytest.raises(lifecycle.LifecycleError, match="avlyst"):
        async with world.sessions() as session:
            await lifecycle.close_preview(session, cancelled)

"""The annual cycle and the Norwegian calendar, on SQLite and PostgreSQL: nothing automatic
goes out on a public holiday unless the round allows it, blackouts hold reminders to their
end, and ``plan apply`` (CLI document and the workspace's dry run) says what it moved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from dialogs.norwegian_calendar import Blackout, is_holiday
from dialogs.reminders import DEFAULT_REMINDERS, QuietRules, ReminderRule
from scheduler.plan import load_plan_text
from scheduler.plan_apply import apply_plan
from services.surveys import register_shipped_surveys
from tests.cycle_support import ZONE, World, oslo
from tests.workspace_support import WorkspaceSite, workspace_site

ORGS = ["3301", "4601", "1804"]
TWO_DAYS_BEFORE = (ReminderRule(days_before=2, at=DEFAULT_REMINDERS[0].at),)


@pytest.fixture
async def world(sessions) -> World:
    world = World(sessions, oslo("2027-04-26 08:00"))
    await world.setup(ORGS)
    return world


def local_days(sent: list) -> set[date]:
    return {s.queued_at.astimezone(ZONE).date() for s in sent}


async def test_no_reminder_is_queued_on_a_holiday_unless_the_round_allows_it(world: World) -> None:
    # Both close Wednesday 19 May 2027; "2 days before" is 17. mai, a Monday.
    quiet = await world.make_round(
        "Stille", "2027-05-03 09:00", "2027-05-19 23:59", reminders=TWO_DAYS_BEFORE
    )
    allowed = await world.make_round(
        "Tillatt", "2027-05-03 09:00", "2027-05-19 23:59", reminders=TWO_DAYS_BEFORE,
        quiet=QuietRules(holidays=True),
    )  # fmt: skip
    await world.run_until(oslo("2027-05-17 23:00"))
    assert await world.of_kind("reminder", quiet) == []
    assert local_days(await world.of_kind("reminder", allowed)) == {date(2027, 5, 17)}
    await world.run_until(oslo("2027-05-20 12:00"))
    held = await world.of_kind("reminder", quiet)
    assert {s.queued_at for s in held} == {oslo("2027-05-18 08:00")}
    assert len(held) == len(ORGS)
    everything = await world.of_kind("invitation", quiet) + held
    assert not any(is_holiday(day) for day in local_days(everything))


async def test_invitations_for_a_round_opening_on_a_holiday_wait_for_the_next_working_day(
    world: World,
) -> None:
    # Kristi himmelfartsdag 2027 is Thursday 6 May.
    round_id = await world.make_round("Himmelfart", "2027-05-06 09:00", "2027-05-28 23:59")
    await world.run_until(oslo("2027-05-06 20:00"))
    assert await world.of_kind("invitation", round_id) == []
    await world.run_until(oslo("2027-05-07 12:00"))
    invited = await world.of_kind("invitation", round_id)
    assert {s.queued_at for s in invited} == {oslo("2027-05-07 08:00")}


async def test_a_blackout_holds_reminders_to_its_end(world: World) -> None:
    blackout = Blackout("Fellesferie", date(2027, 7, 1), date(2027, 7, 31))
    round_id = await world.make_round(
        "Sommer", "2027-06-14 09:00", "2027-08-06 23:59", quiet=QuietRules(blackouts=(blackout,))
    )
    await world.run_until(oslo("2027-08-07 12:00"))
    reminders = await world.of_kind("reminder", round_id)
    # 7 days before (Friday 30 July) is held to Monday 2 August 08:00; 2 days before is
    # Wednesday 4 August; the last day Friday 6 August.
    assert sorted({s.queued_at for s in reminders}) == [
        oslo("2027-08-02 08:00"), oslo("2027-08-04 09:00"), oslo("2027-08-06 09:00")
    ]  # fmt: skip
    assert not any(blackout.covers(day) for day in local_days(reminders))


# --- plan apply ----------------------------------------------------------------------------

PLAN = """\
blackouts:
  - name: Fellesferie
    from: 2027-07-01
    to: 2027-07-31
defaults:
  survey: kvartalsvis-behov
rounds:
  - key: mai
    opens: 2027-05-17 09:00
    closes: 2027-06-04
  - key: sommer
    opens: 2027-06-14 09:00
    closes: 2027-07-01
    reminders: []
"""


async def apply(sessions, text: str, now):
    plan = load_plan_text(text, "plan.yaml", ZONE)
    async with sessions() as session, session.begin():
        return await apply_plan(session, plan, now, ZONE, actor="test")


async def test_plan_apply_reports_what_the_calendar_moved(world: World) -> None:
    result = await apply(world.sessions, PLAN, world.clock.now)
    document = result.to_json()["rounds"]
    assert document[0]["moved"] == [
        "Åpning flyttet fra mandag 17. mai 2027 kl. 09.00 til tirsdag 18. mai 2027 kl. 09.00: "
        "helligdag (andre pinsedag og grunnlovsdag)"
    ]
    assert document[1]["moved"] == [
        "Frist flyttet fra torsdag 1. juli 2027 kl. 23.59 til mandag 2. august 2027 kl. 23.59: "
        "Fellesferie (1.–31. juli), deretter helg"
    ]
    await world.run_until(oslo("2027-05-18 10:00"))
    assert local_days(await world.of_kind("invitation")) == {date(2027, 5, 18)}
    again = await apply(world.sessions, PLAN, world.clock.now)
    assert [r.action for r in again.rounds] == ["unchanged", "unchanged"]


async def test_rounds_that_opened_or_closed_before_the_calendar_keep_their_dates(
    world: World,
) -> None:
    # A round that opened on 17. mai (holidays allowed then) and one that closed inside
    # what is now Fellesferie, applied from a plan without blackouts.
    now_quiet = PLAN.replace("closes: 2027-07-01", "closes: 2027-07-02 12:00").replace(
        "closes: 2027-06-04", "closes: 2027-07-20"
    )
    before = "defaults:\n" + now_quiet.split("defaults:\n", 1)[1].replace(
        "opens: 2027-05-17 09:00\n", "opens: 2027-05-17 09:00\n    holidays: allowed\n"
    )
    await apply(world.sessions, before, world.clock.now)
    await world.run_until(oslo("2027-07-05 10:00"))
    # The same plan with holidays quiet and Fellesferie: the open and the closed round
    # cannot take every move, and applying it is no error.
    result = await apply(world.sessions, now_quiet, world.clock.now)
    mai, sommer = result.rounds
    assert (mai.status, sommer.status) == ("open", "closed")
    assert sommer.action == "unchanged" and sommer.moved == ()
    # The open round keeps its opening, but its deadline moves out of Fellesferie.
    assert mai.changes == ("closes", "quiet")
    labels = [text.split(" ")[0] for text in mai.moved]
    assert labels[0] == "Frist" and "Åpning" not in labels  # reminders held by the blackout follow


# --- the workspace's dry run -----------------------------------------------------------------


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


async def test_the_workspace_dry_run_says_what_was_moved_and_why(site: WorkspaceSite) -> None:
    async with site.sessions.begin() as session:
        await register_shipped_surveys(session)
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    token = await admin.csrf("/arsplan")
    future = PLAN.replace("2027", "2094")  # the site's clock is today's; 2094 has 2027's weekdays
    checked = await admin.post("/arsplan/sjekk", {"csrf_token": token, "plan": future})
    html = await checked.text()
    assert checked.status == 200, html
    assert "Åpning flyttet fra " in html and "helligdag (" in html
    assert "Frist flyttet fra " in html and "Fellesferie (1.–31. juli)" in html

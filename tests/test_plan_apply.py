"""Applying an annual plan to the database, on SQLite and PostgreSQL: idempotent, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.plan import PlanError, load_plan_file, load_plan_text
from scheduler.plan_apply import apply_plan
from services.surveys import register_shipped_surveys
from storage.orm import Round, RoundOrganisation
from tests.cycle_support import ZONE, World, oslo

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "arshjul-2027.yaml"
NOW = oslo("2026-12-01 10:00")

PLAN = """\
defaults:
  survey: kvartalsvis-behov
rounds:
  - key: a
    opens: 2027-01-11 09:00
    closes: 2027-01-29
  - key: b
    opens: 2027-04-12 09:00
    closes: 2027-04-30
    audience: {{county: "{county}"}}
"""


async def apply_text(sessions, text: str, now=NOW):
    plan = load_plan_text(text, "plan.yaml", ZONE)
    async with sessions() as session, session.begin():
        return await apply_plan(session, plan, now, ZONE, actor="test")


@pytest.fixture
async def surveys(sessions):
    async with sessions() as session, session.begin():
        await register_shipped_surveys(session)
    return sessions


async def test_the_example_plan_schedules_four_rounds_for_all_members(surveys) -> None:
    plan = load_plan_file(EXAMPLE, ZONE)
    async with surveys() as session, session.begin():
        result = await apply_plan(session, plan, NOW, ZONE, actor="test")
    assert [(r.key, r.action, r.status) for r in result.rounds] == [
        (key, "created", "planned") for key in ("2027-1", "2027-2", "2027-3", "2027-4")
    ]
    async with surveys() as session:
        sizes = list(
            await session.scalars(
                select(func.count())
                .select_from(RoundOrganisation)
                .group_by(RoundOrganisation.round_id)
            )
        )
        first = await session.scalar(select(Round).where(Round.plan_key == "2027-1"))
    assert sizes == [371, 371, 371, 371]
    assert first is not None and first.opens_at == oslo("2027-01-11 09:00")
    assert first.closes_at == oslo("2027-01-29 23:59")


async def test_applying_twice_changes_nothing_and_edits_update_by_key(surveys) -> None:
    await apply_text(surveys, PLAN.format(county="46"))
    again = await apply_text(surveys, PLAN.format(county="46"))
    assert [r.action for r in again.rounds] == ["unchanged", "unchanged"]
    edited = await apply_text(surveys, PLAN.format(county="03"))
    assert [(r.key, r.action, r.changes) for r in edited.rounds] == [
        ("a", "unchanged", ()),
        ("b", "updated", ("audience",)),
    ]
    async with surveys() as session:
        round_id = await session.scalar(select(Round.id).where(Round.plan_key == "b"))
        count = await session.scalar(
            select(func.count()).where(RoundOrganisation.round_id == round_id)
        )
    assert count == 1  # Oslo alone
    async with surveys() as session:
        assert await session.scalar(select(func.count()).select_from(Round)) == 2


async def test_database_problems_name_line_and_field_and_nothing_is_applied(surveys) -> None:
    text = PLAN.format(county="46").replace('county: "46"', 'orgs: ["3301", "9999"]')
    text = text.replace("  - key: a\n", "  - key: a\n    survey: ukjent-skjema\n")
    with pytest.raises(PlanError) as caught:
        await apply_text(surveys, text)
    assert [str(p) for p in caught.value.problems] == [
        "plan.yaml:5: rounds[0].survey: no survey 'ukjent-skjema' in the database (see lyttepost surveys list)",
        "plan.yaml:11: rounds[1].audience: unknown organisation code(s): 9999",
    ]
    async with surveys() as session:
        assert await session.scalar(select(func.count()).select_from(Round)) == 0


async def test_an_open_round_takes_a_new_deadline_but_not_a_new_opening(sessions) -> None:
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(["3301"])
    await apply_text(sessions, PLAN.format(county="46"), now=world.clock.now)
    await world.run_until(oslo("2027-01-12 10:00"))
    moved = PLAN.format(county="46").replace("closes: 2027-01-29", "closes: 2027-02-05")
    result = await apply_text(sessions, moved, now=world.clock.now)
    assert result.rounds[0].changes == ("closes",)
    assert len(await world.of_kind("deadline_changed")) == 1
    reopened = moved.replace("opens: 2027-01-11 09:00", "opens: 2027-01-18 09:00")
    with pytest.raises(PlanError) as caught:
        await apply_text(sessions, reopened, now=world.clock.now)
    assert [str(p) for p in caught.value.problems] == [
        "plan.yaml:5: rounds[0].opens: round 1 is open: only closes, reminders, quiet_hours, "
        "weekends, holidays, blackouts and retention_months can change"
    ]


async def test_a_closed_round_can_no_longer_change(sessions) -> None:
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(["3301"])
    await apply_text(sessions, PLAN.format(county="46"), now=world.clock.now)
    await world.run_until(oslo("2027-02-02 10:00"))
    changed = PLAN.format(county="46").replace("closes: 2027-01-29", "closes: 2027-02-10")
    with pytest.raises(PlanError, match=r"rounds\[0\].closes: round 1 is closed"):
        await apply_text(sessions, changed, now=world.clock.now)


async def test_rounds_left_out_of_the_file_are_reported_not_touched(surveys) -> None:
    await apply_text(surveys, PLAN.format(county="46"))
    only_a = PLAN.format(county="46").split("  - key: b")[0]
    result = await apply_text(surveys, only_a)
    assert result.orphans == [("b", 2, "planned")]
    async with surveys() as session:
        assert await session.scalar(select(Round.status).where(Round.plan_key == "b")) == "planned"


async def test_a_deadline_in_the_past_is_refused(surveys) -> None:
    with pytest.raises(PlanError, match=r"rounds\[0\].closes: the deadline has already passed"):
        await apply_text(surveys, PLAN.format(county="46"), now=oslo("2027-02-01 10:00"))


async def test_every_database_problem_of_a_round_is_reported_not_just_the_first(surveys) -> None:
    text = (
        "rounds:\n"
        "  - key: a\n"
        "    survey: ukjent-skjema\n"
        "    opens: 2027-01-11 09:00\n"
        "    closes: 2027-01-29\n"
        '    audience: {orgs: ["3301", "9999"]}\n'
    )
    with pytest.raises(PlanError) as caught:
        await apply_text(surveys, text, now=oslo("2027-02-01 10:00"))
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (3, "rounds[0].survey"),
        (6, "rounds[0].audience"),
        (5, "rounds[0].closes"),
    ]


async def test_an_open_round_reports_each_field_it_cannot_change(sessions) -> None:
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(["3301"])
    await apply_text(sessions, PLAN.format(county="46"), now=world.clock.now)
    await world.run_until(oslo("2027-01-12 10:00"))
    changed = (
        PLAN.format(county="46")
        .replace("opens: 2027-01-11 09:00", "opens: 2027-01-12 09:00")
        .replace("  - key: a\n", "  - key: a\n    title: Nytt navn\n")
    )
    with pytest.raises(PlanError) as caught:
        await apply_text(sessions, changed, now=world.clock.now)
    assert [p.field for p in caught.value.problems] == ["rounds[0].title", "rounds[0].opens"]


async def test_retention_is_planned_and_may_change_until_it_has_run_out(sessions) -> None:
    from services.retention import sweep

    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(["3301"])
    longer = PLAN.format(county="46").replace(
        "  survey: kvartalsvis-behov\n", "  survey: kvartalsvis-behov\n  retention_months: 36\n"
    )
    await apply_text(sessions, longer, now=world.clock.now)
    async with sessions() as session:
        assert set(await session.scalars(select(Round.retention_months))) == {36}
    await world.run_until(oslo("2027-02-02 10:00"))  # round a is closed
    shorter = longer.replace("retention_months: 36", "retention_months: 12")
    result = await apply_text(sessions, shorter, now=world.clock.now)
    assert [r.changes for r in result.rounds] == [("retention_months",), ("retention_months",)]
    async with sessions() as session, session.begin():
        swept = await sweep(session, world.catalog, oslo("2028-02-01 10:00"), raw_days=30)
    assert swept.rounds_erased == [1]  # 12 months after 29 January 2027
    with pytest.raises(PlanError, match=r"retention_months: round 1's free text .* erased"):
        await apply_text(sessions, longer, now=oslo("2028-02-01 11:00"))

"""Known priority criteria and dissemination plans (services/action_plans.py, ADR 24) on
SQLite and PostgreSQL: assessments, plan steps, which steps are due, reminders once (also
across job runs, restarts and a new scheduler leader), and the notice a step leads to,
once per organisation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.criteria import CRITERIA, RATINGS
from scheduler.dissemination import JOB_ID, DisseminationReminders
from scheduler.service import CycleScheduler
from services import action_plans, audit
from services.action_plans import PlanError
from storage.db import create_engine, session_factory
from storage.orm import ActionDissemination, ActionNotice, AuditEntry, OutboxMessage, Staff
from tests.action_plans_support import (
    NOW,
    TODAY,
    ks_action,
    link_need,
    organisation_id,
    staff_member,
)
from tests.cycle_support import World
from tests.views_support import contact, make_round

ZONE = ZoneInfo("Europe/Oslo")
ACTOR = audit.Actor("staff:1", "web", None)

Sessions = async_sessionmaker[AsyncSession]


async def audit_actions(session: AsyncSession, action: str) -> list[AuditEntry]:
    return list(
        await session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


async def outbox_of(session: AsyncSession, kind: str) -> list[OutboxMessage]:
    return list(
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
    )


async def add(session: AsyncSession, action_id: int, staff_id: int, days: int, **kw: Any) -> int:
    """A plan step due ``days`` after TODAY (negative: in the past)."""
    added = await action_plans.add_step(
        session, action_id, staff_id=staff_id, channel=kw.pop("channel", "nyhetsbrev"),
        due_on=TODAY + timedelta(days=days), actor=ACTOR, now=NOW, **kw,
    )  # fmt: skip
    return added.id


# --- criteria -------------------------------------------------------------------------------


async def test_an_assessment_covers_all_ten_criteria_and_keeps_the_latest_rating(
    sessions: Sessions,
) -> None:
    async with sessions.begin() as session:
        action = await ks_action(session, "Felles rekrutteringskampanje")
        await action_plans.assess(session, action, 3, "met", "  Meldt av   mange  ", actor=ACTOR, now=NOW)  # fmt: skip
        await action_plans.assess(session, action, 5, "partly", "Gjelder ressursbruk.", actor=ACTOR, now=NOW)  # fmt: skip
        await action_plans.assess(session, action, 9, "not", "", actor=ACTOR, now=NOW)
        await action_plans.assess(session, action, 3, "partly", "Bare noen fylker.", actor=ACTOR, now=NOW)  # fmt: skip
    async with sessions() as session:
        seen = await action_plans.assessment(session, action)
        entries = await audit_actions(session, "action.assess")
    assert seen.title == "Felles rekrutteringskampanje"
    assert [c.criterion for c in seen.criteria] == list(range(1, len(CRITERIA) + 1))
    assert [c.text for c in seen.criteria] == list(CRITERIA)
    rated = {c.criterion: (c.rating, c.reasoning) for c in seen.criteria if c.rating}
    assert rated == {3: ("partly", "Bare noen fylker."), 5: ("partly", "Gjelder ressursbruk."),
                     9: ("not", "")}  # fmt: skip
    assert [c.criterion for c in seen.meets] == [3, 5]
    assert seen.criteria[2].rating_name == RATINGS["partly"]
    assert seen.criteria[0].rating_name == "ikke vurdert" and seen.criteria[0].assessed_by is None
    assert seen.criteria[2].assessed_by == ACTOR.label
    assert [(e.target, e.detail["criterion"], e.detail["was"]) for e in entries] == [
        (f"action:{action}", 3, None), (f"action:{action}", 5, None),
        (f"action:{action}", 9, None), (f"action:{action}", 3, "met"),
    ]  # fmt: skip


async def test_an_assessment_taken_back_is_no_longer_seen_and_is_audited(
    sessions: Sessions,
) -> None:
    async with sessions.begin() as session:
        action = await ks_action(session, "Felles rekrutteringskampanje")
        await action_plans.assess(session, action, 3, "met", "Meldt av mange.", actor=ACTOR, now=NOW)  # fmt: skip
        undone = await action_plans.assess(
            session, action, 3, action_plans.UNASSESSED, "", actor=ACTOR, now=NOW
        )
        # taking back what was never assessed is no change and writes nothing
        await action_plans.assess(session, action, 4, action_plans.UNASSESSED, "", actor=ACTOR, now=NOW)  # fmt: skip
    assert undone.rating is None and undone.rating_name == "ikke vurdert"
    async with sessions() as session:
        seen = await action_plans.assessment(session, action)
        entries = await audit_actions(session, "action.assess")
    assert all(c.rating is None for c in seen.criteria) and seen.meets == ()
    assert [(e.detail["rating"], e.detail["was"]) for e in entries] == [
        ("met", None),
        (None, "met"),
    ]


@pytest.mark.parametrize(
    ("criterion", "rating", "reasoning", "says"),
    [
        (0, "met", "Godt begrunnet.", "fra 1 til 10"),
        (11, "met", "Godt begrunnet.", "fra 1 til 10"),
        (2, "maybe", "Godt begrunnet.", "ukjent vurdering"),
        (2, "met", "   ", "skriv en begrunnelse"),
        (2, "partly", "", "skriv en begrunnelse"),
        (2, "not", "x" * 501, "høyst 500 tegn"),
    ],
)
async def test_wrong_assessments_are_refused_with_a_reason_and_leave_no_trace(
    sessions: Sessions, criterion: int, rating: str, reasoning: str, says: str
) -> None:
    async with sessions.begin() as session:
        action = await ks_action(session, "Tiltak")
    with pytest.raises(PlanError, match=says):
        async with sessions.begin() as session:
            await action_plans.assess(
                session, action, criterion, rating, reasoning, actor=ACTOR, now=NOW
            )
    async with sessions() as session:
        assert all(
            c.rating is None for c in (await action_plans.assessment(session, action)).criteria
        )
        assert await audit_actions(session, "action.assess") == []


async def test_an_unknown_action_is_named(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(PlanError, match="fant ikke tiltak 999"):
            await action_plans.assessment(session, 999)
        with pytest.raises(PlanError, match="fant ikke tiltak 999"):
            await action_plans.assess(session, 999, 1, "met", "Fordi.", actor=ACTOR, now=NOW)


# --- the plan -------------------------------------------------------------------------------


async def test_plan_steps_are_added_edited_and_removed_with_audit_entries(
    sessions: Sessions,
) -> None:
    async with sessions.begin() as session:
        kari = await staff_member(session, "Kari Rådgiver", "kari@ks.no")
        per = await staff_member(session, "Per Rådgiver", "per@ks.no")
        action = await ks_action(session, "Heltidskultur i praksis")
        first = await add(session, action, kari, 20, channel="  KS-nettverk for  kommunedirektører ",
                          description="Presentasjon av funnene.")  # fmt: skip
        second = await add(session, action, kari, 5)
        # The reminder went out for the second step; a new date means a new reminder.
        await session.execute(
            update(ActionDissemination).where(ActionDissemination.id == second)
            .values(reminded_at=NOW)
        )  # fmt: skip
    async with sessions.begin() as session:
        edited = await action_plans.edit_step(
            session, second, due_on=TODAY + timedelta(days=7), staff_id=per, actor=ACTOR, now=NOW
        )
        unchanged = await action_plans.edit_step(
            session, first, channel="KS-nettverk for kommunedirektører", actor=ACTOR, now=NOW
        )
    assert edited.reminded_at is None and edited.staff_name == "Per Rådgiver"
    assert unchanged.channel == "KS-nettverk for kommunedirektører"
    async with sessions.begin() as session:
        steps = await action_plans.plan(session, action)
        assert [(s.id, s.due_on, s.staff_id) for s in steps] == [
            (second, TODAY + timedelta(days=7), per), (first, TODAY + timedelta(days=20), kari)
        ]  # fmt: skip
        assert steps[1].description == "Presentasjon av funnene."
        removed = await action_plans.remove_step(session, second, actor=ACTOR, now=NOW)
    assert removed.id == second
    async with sessions() as session:
        assert [s.id for s in await action_plans.plan(session, action)] == [first]
        edits = await audit_actions(session, "action.plan_edit")
        assert [(e.target, e.detail["changed"]) for e in edits] == [
            (f"dissemination:{second}", ["staff", "due_on"])
        ]  # an edit that changes nothing is not recorded
        assert len(await audit_actions(session, "action.plan_add")) == 2
        assert [e.target for e in await audit_actions(session, "action.plan_remove")] == [
            f"dissemination:{second}"
        ]


async def test_wrong_plan_steps_are_refused(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        kari = await staff_member(session, "Kari Rådgiver", "kari@ks.no")
        gone = await staff_member(session, "Gått Av", "gone@ks.no")
        staff = await session.get(Staff, gone)
        assert staff is not None
        staff.active = False
        action = await ks_action(session, "Tiltak")
    cases = [
        (dict(action_id=999, staff_id=kari, channel="nyhetsbrev"), "fant ikke tiltak 999"),
        (dict(action_id=action, staff_id=998, channel="nyhetsbrev"), "ingen ansatt med id 998"),
        (dict(action_id=action, staff_id=gone, channel="nyhetsbrev"), "er deaktivert"),
        (dict(action_id=action, staff_id=kari, channel="  "), "hvilken kanal"),
        (dict(action_id=action, staff_id=kari, channel="k" * 201), "høyst 200 tegn"),
    ]
    for given, says in cases:
        with pytest.raises(PlanError, match=says):
            async with sessions.begin() as session:
                await action_plans.add_step(
                    session, given["action_id"], staff_id=given["staff_id"],
                    channel=given["channel"], due_on=TODAY, actor=ACTOR, now=NOW,
                )  # fmt: skip
    async with sessions() as session:
        assert await action_plans.plan(session, action) == []
        with pytest.raises(PlanError, match="fant ikke steg 777"):
            await action_plans.edit_step(session, 777, channel="x", actor=ACTOR, now=NOW)


async def test_a_step_whose_notice_is_sent_is_kept_as_it_is(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        kari = await staff_member(session, "Kari Rådgiver", "kari@ks.no")
        action = await ks_action(session, "Tiltak")
        step = await add(session, action, kari, -1)
        await action_plans.send_dissemination_notice(
            session, step, "Rapporten er klar.", actor=ACTOR, now=NOW
        )
    async with sessions() as session:
        with pytest.raises(PlanError, match="gjennomført"):
            await action_plans.edit_step(session, step, channel="x", actor=ACTOR, now=NOW)
        with pytest.raises(PlanError, match="gjennomført"):
            await action_plans.remove_step(session, step, actor=ACTOR, now=NOW)


# --- due steps and reminders ----------------------------------------------------------------


async def test_due_steps_are_those_whose_day_has_come_in_oslo_and_still_need_a_reminder(
    sessions: Sessions,
) -> None:
    async with sessions.begin() as session:
        kari = await staff_member(session, "Kari Rådgiver", "kari@ks.no")
        gone = await staff_member(session, "Gått Av", "gone@ks.no")
        action = await ks_action(session, "Tiltak", status="done")
        dropped = await ks_action(session, "Avbrutt tiltak", status="dropped")
        yesterday = await add(session, action, kari, -1)
        today = await add(session, action, kari, 0)
        tomorrow = await add(session, action, kari, 1)
        reminded = await add(session, action, kari, -2)
        noticed = await add(session, action, kari, -3)
        await add(session, dropped, kari, -1)
        orphan = await add(session, action, gone, -1)
        await session.execute(
            update(ActionDissemination).where(ActionDissemination.id == reminded)
            .values(reminded_at=NOW - timedelta(days=2))
        )  # fmt: skip
        await session.execute(
            update(ActionDissemination).where(ActionDissemination.id == noticed)
            .values(notice_sent_at=NOW - timedelta(days=3))
        )  # fmt: skip
        staff = await session.get(Staff, gone)
        assert staff is not None
        staff.active = False
    # 23:30 UTC on the 10th is already the 11th in Oslo: tomorrow's step is due then.
    late = datetime(2027, 3, 10, 23, 30, tzinfo=UTC)
    async with sessions() as session:
        due_now = [s.id for s in await action_plans.due_disseminations(session, NOW, ZONE)]
        due_late = [s.id for s in await action_plans.due_disseminations(session, late, ZONE)]
        plan = {s.id: s for s in await action_plans.plan(session, action)}
    assert due_now == [yesterday, today]
    assert due_late == [yesterday, today, tomorrow]
    assert plan[orphan].staff_active is False  # waits for a new responsible, visible in the plan


async def test_reminders_go_once_to_a_bound_chat_and_to_the_workspace_list(
    sessions: Sessions,
) -> None:
    async with sessions.begin() as session:
        kari = await staff_member(session, "Kari Rådgiver", "kari@ks.no", chat="kari-chat")
        per = await staff_member(session, "Per Rådgiver", "per@ks.no")  # no chat bound
        round_id = await make_round(session, "Behov vår 2027", ["3301", "4601"], status="closed")
        action = await ks_action(session, "Felles rekrutteringskampanje")
        await link_need(session, action, round_id, "3301", "need_1")
        await link_need(session, action, round_id, "3301", "need_2")
        await link_need(session, action, round_id, "4601", "need_1")
        karis = await add(session, action, kari, 0, description="Skriv om funnene.")
        pers = await add(session, action, per, -1, channel="KS-nettverk for kommunedirektører")
        await add(session, action, kari, 3)  # not due yet
    async with sessions.begin() as session:
        first = await action_plans.remind_due(session, NOW, ZONE)
    async with sessions.begin() as session:
        second = await action_plans.remind_due(session, NOW + timedelta(hours=1), ZONE)
    assert sorted((r.step_id, r.staff_id, r.chat_messages) for r in first) == sorted(
        [(karis, kari, 1), (pers, per, 0)]
    )
    assert second == []
    async with sessions() as session:
        sent = await outbox_of(session, "staff_reminder")
        steps = {s.id: s for s in await action_plans.plan(session, action)}
        karis_list = await action_plans.follow_ups(session, kari, NOW, ZONE)
        pers_list = await action_plans.follow_ups(session, per, NOW, ZONE)
        reminded = await audit_actions(session, "action.plan_reminded")
    assert [(m.channel, m.address) for m in sent] == [("telegram", "kari-chat")]
    text = sent[0].payload["text"]
    assert "Hei, Kari Rådgiver!" in text and "«Felles rekrutteringskampanje»" in text
    assert "10. mars 2027" in text and "via nyhetsbrev. Skriv om funnene." in text
    assert "de 2 organisasjonene" in text and f"plan notify {karis}" in text
    assert steps[karis].reminded_at == NOW and steps[pers].reminded_at == NOW
    assert [(f.step.id, f.organisations, f.due) for f in karis_list] == [
        (karis, 2, "10. mars 2027")
    ]
    assert [f.step.id for f in pers_list] == [pers]
    assert {e.target for e in reminded} == {f"dissemination:{karis}", f"dissemination:{pers}"}


class Recorded(DisseminationReminders):
    """The job, noting how each catch-up (on taking the lease) went."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, int]] = []

    async def catch_up(self) -> list[action_plans.Reminded]:
        done = await super().catch_up()
        self.calls.append(("catch_up", len(done)))
        return done


async def test_the_reminder_job_reminds_once_across_runs_and_a_restart(
    sessions: Sessions, migrated_url: str
) -> None:
    async with sessions.begin() as session:
        kari = await staff_member(session, "Kari Rådgiver", "kari@ks.no", chat="kari-chat")
        action = await ks_action(session, "Tiltak")
        await add(session, action, kari, -1)
    woken: list[int] = []
    saturday = datetime(2027, 3, 13, 10, 0, tzinfo=UTC)
    weekend = DisseminationReminders(sessions, lambda: saturday, ZONE, lambda: woken.append(1))
    assert await weekend.catch_up() == []  # no messages to staff at the weekend
    job = DisseminationReminders(sessions, lambda: NOW, ZONE, lambda: woken.append(1))
    assert len(await job.run()) == 1
    assert await job.run() == []
    engine = create_engine(migrated_url)  # a new process: its own engine and job object
    try:
        restarted = DisseminationReminders(session_factory(engine), lambda: NOW, ZONE)
        assert await restarted.catch_up() == [] and await restarted.run() == []
    finally:
        await engine.dispose()
    async with sessions() as session:
        assert len(await outbox_of(session, "staff_reminder")) == 1
    assert woken == [1]


async def test_the_reminder_job_waits_over_a_public_holiday(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        kari = await staff_member(session, "Kari Rådgiver", "kari@ks.no", chat="kari-chat")
        action = await ks_action(session, "Tiltak")
        await add(session, action, kari, -1)
    # Monday 17 May 2027 is Constitution Day: the cron trigger fires (a weekday), the job
    # does not remind; the next working morning it does.
    constitution_day = datetime(2027, 5, 17, 8, 5, tzinfo=UTC)
    holiday = DisseminationReminders(sessions, lambda: constitution_day, ZONE)
    assert await holiday.run() == [] and await holiday.catch_up() == []
    next_day = DisseminationReminders(sessions, lambda: constitution_day + timedelta(days=1), ZONE)
    assert len(await next_day.run()) == 1


async def _eventually(check: Any, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_the_scheduler_leader_runs_the_job_on_its_hours_and_a_new_leader_reminds_no_one_again(
    sessions: Sessions, migrated_url: str
) -> None:
    async with sessions.begin() as session:
        kari = await staff_member(session, "Kari Rådgiver", "kari@ks.no", chat="kari-chat")
        action = await ks_action(session, "Tiltak")
        await add(session, action, kari, 0)
    world = World(sessions)
    for holder in ("first", "second"):
        job = Recorded(sessions, lambda: NOW, ZONE)
        scheduler = CycleScheduler(world.new_cycle(), sessions, migrated_url, sync_interval=0.3,
                                   holder=holder, periodic=[job])  # fmt: skip
        task = asyncio.create_task(scheduler.run())
        try:
            await _eventually(lambda: bool(job.calls))  # noqa: B023  (awaited in the loop)
            assert scheduler.scheduler is not None
            planned = scheduler.scheduler.get_job(JOB_ID)
            local = planned.next_run_time.astimezone(ZONE)
            assert local.weekday() < 5 and 8 <= local.hour <= 15 and local.minute == 5
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert job.calls == [("catch_up", 1 if holder == "first" else 0)]
    async with sessions() as session:
        assert len(await outbox_of(session, "staff_reminder")) == 1


# --- the notice a step leads to -------------------------------------------------------------


async def test_a_notice_goes_once_to_each_linked_organisation_through_the_outbox(
    sessions: Sessions,
) -> None:
    reachable = (("telegram", True, NOW),)
    async with sessions.begin() as session:
        kari = await staff_member(session, "Kari Rådgiver", "kari@ks.no")
        codes = ["3301", "4601", "5001", "1103"]
        round_id = await make_round(session, "Behov vår 2027", codes, status="closed")
        drammen = [await contact(session, "3301", name, chats=reachable)
                   for name in ("Anne Drammen", "Bjørn Drammen")]  # fmt: skip
        await contact(session, "4601", "Bergen Uten Chat", chats=(("telegram", False, NOW),))
        await contact(session, "5001", "Trondheim Ikke Knyttet", chats=reachable)
        await contact(session, "1103", "Stavanger Sluttet", chats=reachable, active=False)
        action = await ks_action(session, "Felles rekrutteringskampanje")
        await link_need(session, action, round_id, "3301", "need_1")
        await link_need(session, action, round_id, "3301", "need_2")
        await link_need(session, action, round_id, "4601", "need_1")
        await link_need(session, action, round_id, "1103", "need_1")
        step = await add(session, action, kari, -1)
        later = await add(session, action, kari, 30)
    with pytest.raises(PlanError, match="skriv hva"):
        async with sessions.begin() as session:
            await action_plans.send_dissemination_notice(session, step, " ", actor=ACTOR, now=NOW)
    async with sessions.begin() as session:
        sent = await action_plans.send_dissemination_notice(
            session, step, "Kampanjen er i gang, se ks.no.", actor=ACTOR, now=NOW
        )
    with pytest.raises(PlanError, match="allerede sendt"):
        async with sessions.begin() as session:
            await action_plans.send_dissemination_notice(
                session, step, "En gang til.", actor=ACTOR, now=NOW
            )
    assert (sent.organisations, sent.messages) == (3, 2)
    async with sessions() as session:
        rows = await session.execute(select(ActionNotice.organisation_id, ActionNotice.change))
        notices = {(org, change) for org, change in rows}
        expected_orgs = {await organisation_id(session, c) for c in ("3301", "4601", "1103")}
        messages = await outbox_of(session, "action_notice")
        done = {s.id: s for s in await action_plans.plan(session, action)}
        follow = await action_plans.follow_ups(session, kari, NOW, ZONE)
        entry = (await audit_actions(session, "action.dissemination_notice"))[0]
    assert notices == {(org, f"dissemination:{step}") for org in expected_orgs}
    assert sorted(m.contact_id for m in messages) == sorted(drammen)
    assert all(m.priority == 10 for m in messages)  # paced with the bulk
    assert messages[0].payload["text"] == (
        "Nytt fra KS om «Felles rekrutteringskampanje», et tiltak som svarer på behov dere har "
        "meldt inn:\n\nKampanjen er i gang, se ks.no."
    )
    assert done[step].notice_sent_at == NOW and done[later].notice_sent_at is None
    assert follow == []  # the due step is done; the later one is not due
    assert entry.detail == {"action_id": action, "organisations": 3, "messages": 2}
    # Each step's notice is its own change: the later step reaches the same organisations.
    async with sessions.begin() as session:
        again = await action_plans.send_dissemination_notice(
            session, later, "Resultatene er klare.", actor=ACTOR, now=NOW
        )
        total = await session.scalar(select(func.count()).select_from(ActionNotice))
    assert (again.organisations, again.messages, total) == (3, 2, 6)


async def test_an_organisation_already_told_about_a_step_is_not_told_again(
    sessions: Sessions,
) -> None:
    """The primary key of action_notices holds even if a notice row exists already (a run
    that raced this one): that organisation gets nothing more."""
    async with sessions.begin() as session:
        kari = await staff_member(session, "Kari Rådgiver", "kari@ks.no")
        round_id = await make_round(session, "Behov", ["3301", "4601"], status="closed")
        await contact(session, "3301", "Anne Drammen", chats=(("telegram", True, NOW),))
        await contact(session, "4601", "Bergen Leder", chats=(("telegram", True, NOW),))
        action = await ks_action(session, "Tiltak")
        await link_need(session, action, round_id, "3301", "need_1")
        await link_need(session, action, round_id, "4601", "need_1")
        step = await add(session, action, kari, 0)
        session.add(ActionNotice(action_id=action, organisation_id=await organisation_id(
            session, "3301"), change=f"dissemination:{step}", queued_at=NOW))  # fmt: skip
    async with sessions.begin() as session:
        sent = await action_plans.send_dissemination_notice(
            session, step, "Nytt.", actor=ACTOR, now=NOW
        )
    async with sessions() as session:
        messages = await outbox_of(session, "action_notice")
    assert (sent.organisations, sent.messages) == (1, 1)
    assert [m.address.startswith("telegram-") for m in messages] == [True]
    assert len(messages) == 1

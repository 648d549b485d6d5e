"""Retention on a fake clock, on SQLite and PostgreSQL: a round's free text and links to
persons go when its retention runs out, raw messages after RAW_MESSAGE_RETENTION_DAYS,
and ``privacy status`` says what is due when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from scheduler.service import SWEEP_AT, next_sweep_at
from services.retention import add_months, retention_status, sweep
from services.rounds import Audience
from storage.orm import (
    Answer,
    Chat,
    CodeAttempt,
    InboundEvent,
    OutboxMessage,
    PrivacyLogEntry,
    Response,
    Round,
    RoundEvent,
    RoundInvitee,
)
from tests.cycle_support import ZONE, World, oslo

FREE_TEXT = "Vi trenger bedre samarbeid om digitalisering."  # what World.answer types


def test_months_are_added_by_the_calendar() -> None:
    assert add_months(datetime(2027, 1, 31, 22, 59, tzinfo=UTC), 1) == datetime(
        2027, 2, 28, 22, 59, tzinfo=UTC
    )
    assert add_months(datetime(2027, 11, 15, tzinfo=UTC), 24) == datetime(2029, 11, 15, tzinfo=UTC)
    assert add_months(datetime(2028, 2, 29, tzinfo=UTC), 12) == datetime(2029, 2, 28, tzinfo=UTC)


def test_the_daily_sweep_avoids_the_hour_a_dst_change_skips_or_repeats() -> None:
    assert not 2 <= SWEEP_AT.hour < 3
    # The night the clocks go forward (2027-03-28) and back (2027-10-31): one run each, 04:30.
    for night in ("2027-03-27 23:00", "2027-10-30 23:00"):
        moment = next_sweep_at(oslo(night), ZONE).astimezone(ZONE)
        assert (moment.hour, moment.minute) == (4, 30)


@pytest.fixture
async def closed_round(sessions):
    """Two members; both answer (with free text) a round that closes 2027-01-29 23:59."""
    world = World(sessions, start=oslo("2027-01-04 08:00"))
    await world.setup(["3301", "4601"])
    round_id = await world.make_round(
        "Behov Q1", "2027-01-11 09:00", "2027-01-29 23:59",
        audience=Audience(org_codes=("3301", "4601")),
    )  # fmt: skip
    await world.run_until(oslo("2027-01-12 10:00"))
    await world.answer("3301", round_id)
    await world.answer("4601", round_id, questions=3, submit=False)
    await world.run_until(oslo("2027-01-30 12:00"))
    async with sessions() as session:
        assert (await session.get(Round, round_id)).status == "closed"
    return world, round_id


async def test_a_rounds_free_text_and_links_go_when_its_retention_runs_out(closed_round) -> None:
    world, round_id = closed_round
    sessions = world.sessions
    async with sessions() as session:
        texts_before = await _free_texts(session, round_id)
        choices_before = await _choices(session, round_id)
    assert texts_before >= 2 and choices_before

    async with sessions() as session, session.begin():  # 23 months on: nothing to erase yet
        early = await sweep(session, world.catalog, oslo("2028-12-30 04:30"), raw_days=30)
    assert early.rounds_erased == []
    async with sessions() as session:
        assert await _free_texts(session, round_id) == texts_before

    at = oslo("2029-01-30 04:30")  # 24 months after closing
    async with sessions() as session, session.begin():
        due = await sweep(session, world.catalog, at, raw_days=30)
    assert due.rounds_erased == [round_id]
    assert due.free_text_answers == texts_before and due.responses_unlinked == 2
    async with sessions() as session:
        assert await _free_texts(session, round_id) == 0
        assert await _choices(session, round_id) == choices_before  # figures stay for trends
        responses = list(
            await session.scalars(select(Response).where(Response.round_id == round_id))
        )
        assert {r.contact_id for r in responses} == {None}
        assert {r.status for r in responses} == {"submitted", "incomplete"}
        assert all(FREE_TEXT not in repr(r.state) for r in responses)
        invitees = set(await session.scalars(select(RoundInvitee.contact_id)))
        assert invitees == {None} and await session.scalar(select(func.count(RoundInvitee.id))) == 2
        assert await session.scalar(select(Chat.active_response_id).where(
            Chat.active_response_id.is_not(None))) is None  # fmt: skip
        keys = set(await session.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.round_id == round_id)))  # fmt: skip
        assert keys == {None}
        round_ = await session.get(Round, round_id)
        assert round_.personal_data_erased_at == at
        assert "personal_data_erased" in set(
            await session.scalars(select(RoundEvent.action).where(RoundEvent.round_id == round_id))
        )
    async with sessions() as session, session.begin():  # idempotent
        again = await sweep(session, world.catalog, at + timedelta(days=1), raw_days=30)
    assert again.rounds_erased == [] and again.free_text_answers == 0


async def test_raw_messages_are_purged_once_handled_and_old(closed_round) -> None:
    world, round_id = closed_round
    sessions = world.sessions
    async with sessions() as session, session.begin():
        # Everything queued was delivered, except one message that is still waiting. (The
        # inbox and dialog replies are stamped by the wall clock: put them on the fake one.)
        answered = oslo("2027-01-12 10:00")
        await session.execute(update(InboundEvent).values(received_at=answered))
        await session.execute(update(OutboxMessage).values(status="sent", created_at=answered))
        waiting = await session.scalar(select(func.max(OutboxMessage.id)))
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == waiting).values(status="pending")
        )
        session.add(CodeAttempt(channel="telegram", address="x", attempted_at=answered))
        held = {
            "inbound": await session.scalar(select(func.count(InboundEvent.id))),
            "outbox": await session.scalar(select(func.count(OutboxMessage.id))),
        }
    assert held["inbound"] > 0 and held["outbox"] > 1

    async with sessions() as session:
        status = await retention_status(
            session, oslo("2027-02-01 12:00"), raw_days=30, next_sweep_at=None
        )
    assert status["raw"]["inbound_events"]["due_now"] == 0
    assert status["raw"]["inbound_events"]["held"] == held["inbound"]
    first_due = datetime.fromisoformat(status["raw"]["inbound_events"]["next_due_at"])
    assert oslo("2027-02-11 00:00") < first_due < oslo("2027-02-13 00:00")  # 30 days after 12 Jan
    [round_state] = status["rounds"]
    assert round_state["state"] == "scheduled"
    ended = datetime.fromisoformat(round_state["ended_at"])
    assert round_state["erase_due_at"] == add_months(ended, 24).isoformat()

    async with sessions() as session, session.begin():
        result = await sweep(session, world.catalog, oslo("2027-03-15 04:30"), raw_days=30)
    assert result.inbound_events_deleted == held["inbound"]
    assert result.outbox_texts_removed == held["outbox"] - 1
    assert result.code_attempts_deleted == 1 and result.rounds_erased == []
    async with sessions() as session:
        assert await session.scalar(select(func.count(InboundEvent.id))) == 0
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert len(rows) == held["outbox"]  # delivery metadata stays for reports
        sent = [r for r in rows if r.status == "sent"]
        assert all(r.payload == {} and r.purged_at is not None for r in sent)
        assert all(r.contact_id is not None for r in sent)  # who it went to, for reports
        [pending] = [r for r in rows if r.status == "pending"]
        assert pending.payload != {} and pending.purged_at is None  # not sent yet: kept
        [entry] = await session.scalars(
            select(PrivacyLogEntry).where(PrivacyLogEntry.action == "sweep")
        )
        assert entry.detail["inbound_events_deleted"] == held["inbound"]
        status = await retention_status(
            session, oslo("2027-03-15 05:00"), raw_days=30, next_sweep_at=None
        )
    assert status["raw"]["inbound_events"] == {"held": 0, "due_now": 0, "next_due_at": None}
    assert status["last_sweep"]["outbox_texts_removed"] == held["outbox"] - 1


async def _free_texts(session, round_id: int) -> int:
    values = await session.scalars(
        select(Answer.value)
        .join(Response, Answer.response_id == Response.id)
        .where(Response.round_id == round_id)
    )
    return sum(1 for value in values if value == FREE_TEXT)


async def _choices(session, round_id: int) -> dict[tuple[int, str], object]:
    rows = await session.execute(
        select(Response.organisation_id, Answer.question_id, Answer.value)
        .join(Response, Answer.response_id == Response.id)
        .where(Response.round_id == round_id)
    )
    return {(org, qid): value for org, qid, value in rows if value != FREE_TEXT}

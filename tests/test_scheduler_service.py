"""The scheduler process on both databases: one leader per database, APScheduler's persistent
jobs, restarts and take-overs, on the real clock (a few seconds per test)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from dialogs.reminders import QuietRules, ReminderRule
from scheduler.service import LEASE_NAME, CycleScheduler
from storage import leases
from storage.orm import Round, utcnow
from tests.cycle_support import World

EPOCH = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)
ANY_TIME = QuietRules(quiet_start=None, quiet_end=None, weekends=True, holidays=True)


async def holds(sessions, holder: str, now: datetime) -> bool:
    async with sessions() as session, session.begin():
        return await leases.try_acquire(session, LEASE_NAME, holder, now, TTL)


async def test_only_one_holder_until_the_lease_expires_or_is_released(sessions) -> None:
    assert await holds(sessions, "a", EPOCH)
    assert not await holds(sessions, "b", EPOCH + timedelta(seconds=10))
    assert await holds(sessions, "a", EPOCH + timedelta(seconds=20))  # renewed to 50 s
    assert not await holds(sessions, "b", EPOCH + timedelta(seconds=45))
    assert await holds(sessions, "b", EPOCH + timedelta(seconds=51))  # a stopped renewing
    assert not await holds(sessions, "a", EPOCH + timedelta(seconds=52))
    async with sessions() as session, session.begin():
        await leases.release(session, LEASE_NAME, "b")
    assert await holds(sessions, "a", EPOCH + timedelta(seconds=53))
    async with sessions() as session:
        state = await leases.lease_state(session, LEASE_NAME)
    assert state is not None and state.holder == "a"
    assert state.acquired_at == EPOCH + timedelta(seconds=53)


async def test_concurrent_attempts_elect_exactly_one(sessions) -> None:
    results = await asyncio.gather(*(holds(sessions, f"p{i}", EPOCH) for i in range(8)))
    assert sum(results) == 1


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


def scheduler_for(world: World, url: str, holder: str, ttl: float = 30.0) -> CycleScheduler:
    return CycleScheduler(world.new_cycle(), world.sessions, url, lease_ttl=ttl,
                          sync_interval=0.3, holder=holder)  # fmt: skip


@pytest.fixture
async def live(sessions, migrated_url: str):
    """A world on the real clock, and a way to start schedulers that are stopped afterwards."""
    world = World(sessions)  # the real clock
    await world.setup(["3301", "4601"])
    started: list[tuple[CycleScheduler, asyncio.Task[None]]] = []

    def start(holder: str, ttl: float = 30.0) -> CycleScheduler:
        scheduler = scheduler_for(world, migrated_url, holder, ttl)
        started.append((scheduler, asyncio.create_task(scheduler.run())))
        return scheduler

    yield world, start
    for _, task in started:
        task.cancel()
    await asyncio.gather(*(task for _, task in started), return_exceptions=True)


async def make_live_round(
    world: World, opens_in: float, closes_in: float, remind_before: float
) -> int:
    from services.rounds import Audience, create_round
    from services.surveys import latest_version

    now = utcnow()
    async with world.sessions() as session, session.begin():
        version = await latest_version(session, "kvartalsvis-behov")
        assert version is not None
        round_ = await create_round(
            session, survey_version_id=version.id, title="Sanntid", audience=Audience(county="46"),
            opens_at=now + timedelta(seconds=opens_in), closes_at=now + timedelta(seconds=closes_in),
            reminders=(ReminderRule(before=timedelta(seconds=remind_before)),), quiet=ANY_TIME,
        )  # fmt: skip
        return round_.id


async def status_of(world: World, round_id: int) -> str:
    async with world.sessions() as session:
        return str(await session.scalar(select(Round.status).where(Round.id == round_id)))


async def test_a_round_opens_reminds_and_closes_by_itself(live) -> None:
    world, start = live
    round_id = await make_live_round(world, opens_in=1.0, closes_in=4.0, remind_before=2.0)
    scheduler = start("solo")
    await eventually(lambda: _async(scheduler.leading))
    await eventually(lambda: _jobs_stored(world, f"round:{round_id}:close"))
    await eventually(lambda: _has(world, "invitation", 1))
    await eventually(lambda: _has(world, "reminder", 1))
    await eventually(lambda: _status_is(world, round_id, "closed"))
    reminders = await world.of_kind("reminder", round_id)
    assert {s.address for s in reminders} == {"chat-4601"}  # Vestland's only registered contact...
    assert len(reminders) == 1  # ...reminded once
    assert await _stored_job_ids(world) == set()  # nothing left to do for a closed round


async def test_jobs_survive_a_restart_and_run_late_when_missed(live) -> None:
    world, start = live
    round_id = await make_live_round(world, opens_in=1.5, closes_in=60.0, remind_before=55.0)
    first = start("first")
    await eventually(lambda: _jobs_stored(world, f"round:{round_id}:open"))
    await first.stop()  # a clean stop releases the lease
    assert await _stored_job_ids(world) >= {f"round:{round_id}:open", f"round:{round_id}:close"}
    await asyncio.sleep(2.0)  # the opening passes while nobody runs the scheduler
    assert await status_of(world, round_id) == "planned"
    start("second")
    await eventually(lambda: _status_is(world, round_id, "open"))
    await eventually(lambda: _has(world, "invitation", 1))
    assert len(await world.of_kind("invitation", round_id)) == 1  # Vestland: one contact


async def test_a_crashed_leader_is_replaced_when_its_lease_expires(live) -> None:
    world, start = live
    leader = start("leader", ttl=3.0)
    await eventually(lambda: _async(leader.leading))
    follower = start("follower", ttl=3.0)
    await asyncio.sleep(1.5)
    assert leader.leading and not follower.leading
    leader._step_down()  # as if the process froze: no renewal, no release  # noqa: SLF001
    leader.tick = _never  # type: ignore[method-assign]
    await eventually(lambda: _async(follower.leading), within=10.0)
    round_id = await make_live_round(world, opens_in=0.5, closes_in=30.0, remind_before=25.0)
    await eventually(lambda: _status_is(world, round_id, "open"))


async def _never() -> None:
    await asyncio.sleep(3600)


async def _async(value: bool) -> bool:
    return value


async def _has(world: World, kind: str, count: int) -> bool:
    return len(await world.of_kind(kind)) >= count


async def _status_is(world: World, round_id: int, status: str) -> bool:
    return await status_of(world, round_id) == status


async def _stored_job_ids(world: World) -> set[str]:
    async with world.sessions() as session:
        try:
            return set(await session.scalars(text("SELECT id FROM apscheduler_jobs")))
        except Exception:  # the table appears when the first scheduler starts
            return set()


async def _jobs_stored(world: World, job_id: str) -> bool:
    return job_id in await _stored_job_ids(world)


class Housekeeping:
    """Records what the scheduler asked of the daily housekeeping."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def run(self) -> None:
        self.calls.append("run")

    async def catch_up(self) -> None:
        self.calls.append("catch_up")


async def test_the_leader_runs_the_daily_sweep_at_04_30_and_catches_up(
    sessions, migrated_url: str
) -> None:
    from scheduler.service import SWEEP_JOB

    world = World(sessions)
    await world.setup(["3301"])
    housekeeping = Housekeeping()
    scheduler = CycleScheduler(world.new_cycle(), sessions, migrated_url, sync_interval=0.3,
                               holder="solo", housekeeping=housekeeping)  # fmt: skip
    task = asyncio.create_task(scheduler.run())
    try:
        await eventually(lambda: _async(housekeeping.calls == ["catch_up"]))
        assert scheduler.scheduler is not None
        job = scheduler.scheduler.get_job(SWEEP_JOB)
        local = job.next_run_time.astimezone(world.cycle.zone)
        assert (local.hour, local.minute) == (4, 30)
        await scheduler._housekeep()  # what the job runs  # noqa: SLF001
        assert housekeeping.calls == ["catch_up", "run"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_sweep_is_caught_up_only_when_the_last_one_is_a_day_old(sessions) -> None:
    from services.retention import RetentionSweeper
    from tests.cycle_support import FakeClock

    clock = FakeClock(EPOCH)
    sweeper = RetentionSweeper(sessions, sessions.kw["bind"], World(sessions).catalog, clock,
                               raw_days=30)  # fmt: skip
    assert await sweeper.catch_up() is not None  # never swept
    clock.set(EPOCH + timedelta(hours=5))
    assert await sweeper.catch_up() is None  # swept this morning
    clock.set(EPOCH + timedelta(hours=24))
    assert await sweeper.catch_up() is not None

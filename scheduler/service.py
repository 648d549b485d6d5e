"""Runs the cycle on APScheduler 3, in exactly one process per database.

Leadership: processes sharing a database compete for the ``scheduler`` lease
(``storage/leases.py``). The holder renews it every ``ttl / 3``; the others retry at the
same pace and take over once it expires (a crashed holder is replaced within about
``ttl``). Only the holder runs APScheduler. A holder that cannot renew in time stops
its scheduler before its lease can run out, so two never run at once, and the steps
themselves are idempotent should a stalled process ever overlap.

Jobs: APScheduler (AsyncIOScheduler, Europe/Oslo) keeps one date job per trigger in its
SQLAlchemy job store, in the project's database. The rounds table is the source of
truth: on taking the lease, and then every ``sync_interval``, the job store is synced
to ``Cycle.triggers()`` (jobs added, moved or removed), and due work is caught up.
Jobs never run late by a grace period: ``misfire_grace_time=None`` runs a missed job as
soon as the process is back, ``coalesce=True`` runs it once.

Daily housekeeping (the privacy retention sweep, ``services/retention.py``) is a cron job
at ``SWEEP_AT`` Oslo time in the in-memory store, added whenever this process takes the
lease; a sweep missed while no process led runs on taking it (``catch_up``). Other
periodic jobs (``periodic``, e.g. the dissemination reminders of
``scheduler/dissemination.py``) run the same way, each on its own trigger.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time as _time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler import jobs
from scheduler.cycle import Cycle, Trigger
from storage import leases
from storage.db import create_sync_engine

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
JOBSTORE = "rounds"
JOB_TABLE = "apscheduler_jobs"
# The daily sweep, Oslo time: away from 02:00-03:00, which a DST change skips or repeats,
# and before members' working day.
SWEEP_AT = time(4, 30)
SWEEP_JOB = "privacy:sweep"


class Housekeeping(Protocol):
    """A daily job: ``run`` at the daily time, ``catch_up`` on taking the lease."""

    async def run(self) -> Any: ...

    async def catch_up(self) -> Any: ...


class PeriodicJob(Housekeeping, Protocol):
    """A job on a trigger of its own, in the in-memory store: re-added on taking the lease,
    so it needs its own markers in the database to do its work once."""

    job_id: str

    def trigger(self, zone: ZoneInfo) -> BaseTrigger: ...


def daily_trigger(zone: ZoneInfo) -> CronTrigger:
    """When the daily housekeeping runs."""
    return CronTrigger(hour=SWEEP_AT.hour, minute=SWEEP_AT.minute, timezone=zone)


def next_sweep_at(now: datetime, zone: ZoneInfo) -> datetime:
    """The next daily sweep after ``now`` (for ``lyttepost privacy status``)."""
    moment: datetime | None = daily_trigger(zone).get_next_fire_time(None, now)
    assert moment is not None  # a daily trigger always has a next time
    return moment


def process_identity() -> str:
    """Who holds the lease, as shown by ``lyttepost scheduler status``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class CycleScheduler:
    """Competes for the lease; while holding it, runs APScheduler and keeps it in sync."""

    def __init__(
        self,
        cycle: Cycle,
        sessions: async_sessionmaker[AsyncSession],
        database_url: str,
        *,
        lease_ttl: float = 30.0,
        sync_interval: float = 10.0,
        holder: str | None = None,
        monotonic: Callable[[], float] = _time.monotonic,
        housekeeping: Housekeeping | None = None,
        periodic: Sequence[PeriodicJob] = (),
    ) -> None:
        self.cycle = cycle
        self.sessions = sessions
        self.database_url = database_url
        self.lease_ttl = lease_ttl
        self.sync_interval = sync_interval
        self.holder = holder or process_identity()
        self.monotonic = monotonic
        self.housekeeping = housekeeping
        self.periodic = tuple(periodic)
        self.scheduler: AsyncIOScheduler | None = None
        self._engine: Engine | None = None
        self._renewed_at = float("-inf")
        self._synced_at = float("-inf")
        self._poke = asyncio.Event()
        self._stopped = False

    @property
    def leading(self) -> bool:
        """Whether this process runs the scheduler now."""
        return self.scheduler is not None

    def poke(self) -> None:
        """Rounds changed in this process: sync the jobs now rather than at the next interval."""
        self._poke.set()

    def poke_after_commit(self) -> None:
        """Like ``poke``, for a change whose transaction is still committing."""
        with contextlib.suppress(RuntimeError):  # no running loop: the next interval syncs
            asyncio.get_running_loop().call_later(0.5, self._poke.set)

    async def run(self) -> None:
        """Hold or wait for the lease until cancelled; lead while holding it."""
        try:
            while not self._stopped:
                self._poke.clear()
                try:
                    await self.tick()
                except SQLAlchemyError as error:  # a busy or unreachable database: try again
                    log.warning("scheduler: database error (%s); stepping down and retrying", error)
                    self._step_down()
                except Exception:  # never let one bad tick end the cycle for good
                    log.exception("scheduler: unexpected error; stepping down and retrying")
                    self._step_down()
                with contextlib.suppress(TimeoutError):  # not wait_for: see Sender.run
                    async with asyncio.timeout(self._pause()):
                        await self._poke.wait()
        finally:
            await self.stop()

    def _pause(self) -> float:
        return min(self.lease_ttl / 3, self.sync_interval)

    async def tick(self) -> None:
        """Renew (or try to take) the lease; lead or step down; sync when due."""
        now = self.monotonic()
        if now - self._renewed_at >= self.lease_ttl / 3 or not self.leading:
            held = await self._renew()
            if held and not self.leading:
                await self._lead()
            elif (
                not held
                and self.leading
                and self.monotonic() - self._renewed_at > self.lease_ttl * 0.8
            ):
                log.warning("scheduler: lease not renewed in time; stepping down")
                self._step_down()
        if self.leading and (
            self._poke.is_set() or self.monotonic() - self._synced_at >= self.sync_interval
        ):
            await self.sync()

    async def _renew(self) -> bool:
        try:
            async with self.sessions() as session, session.begin():
                held = await leases.try_acquire(
                    session,
                    LEASE_NAME,
                    self.holder,
                    self.cycle.clock(),
                    timedelta(seconds=self.lease_ttl),
                )
        except SQLAlchemyError as error:
            log.error(
                "scheduler: cannot reach the database for the lease (%s)", type(error).__name__
            )
            return False
        if held:
            self._renewed_at = self.monotonic()
        return held

    async def _lead(self) -> None:
        log.info("scheduler: this process (%s) now runs the annual cycle", self.holder)
        self._engine = create_sync_engine(self.database_url)
        store = SQLAlchemyJobStore(engine=self._engine, tablename=JOB_TABLE)
        await asyncio.to_thread(self._create_job_table, store)
        scheduler = AsyncIOScheduler(
            timezone=self.cycle.zone,
            jobstores={"default": MemoryJobStore(), JOBSTORE: store},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        jobs.bind(self.cycle)
        if self.housekeeping is not None:
            scheduler.add_job(
                self._housekeep, daily_trigger(self.cycle.zone), id=SWEEP_JOB,
                jobstore="default", replace_existing=True,
            )  # fmt: skip
        for job in self.periodic:
            scheduler.add_job(
                self._run_periodic, job.trigger(self.cycle.zone), args=[job], id=job.job_id,
                jobstore="default", replace_existing=True,
            )  # fmt: skip
        scheduler.start()
        self.scheduler = scheduler
        await self.cycle.catch_up()
        await self.sync()
        await self._housekeep(catch_up=True)
        for job in self.periodic:
            await self._run_periodic(job, catch_up=True)

    async def _housekeep(self, catch_up: bool = False) -> None:
        """The daily sweep; a failure is logged and tried again the next day (or lead)."""
        if self.housekeeping is None:
            return
        try:
            if catch_up:
                await self.housekeeping.catch_up()
            else:
                await self.housekeeping.run()
        except Exception:  # never let housekeeping stop the cycle
            log.exception("scheduler: the daily retention sweep failed; trying again tomorrow")

    async def _run_periodic(self, job: PeriodicJob, catch_up: bool = False) -> None:
        """One run of a periodic job; a failure is logged and the next run tries again."""
        try:
            if catch_up:
                await job.catch_up()
            else:
                await job.run()
        except Exception:  # never let one periodic job stop the cycle
            log.exception("scheduler: periodic job %s failed; its next run tries again", job.job_id)

    def _create_job_table(self, store: SQLAlchemyJobStore) -> None:
        """APScheduler creates its table on start, on the loop's thread with a short wait for
        locks; creating it first, here in a worker thread, spares that wait a busy database."""
        engine = create_sync_engine(self.database_url, patient=True)
        try:
            store.jobs_t.create(engine, checkfirst=True)
        finally:
            engine.dispose()

    def _step_down(self) -> None:
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=False)
            self.scheduler = None
        jobs.unbind(self.cycle)
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    async def sync(self) -> dict[str, int]:
        """Make the job store hold exactly the jobs the rounds need now."""
        scheduler = self.scheduler
        if scheduler is None:
            return {}
        try:
            wanted = {t.job_id: t for t in await self.cycle.triggers()}
            # The job store is synchronous: on a worker thread, a wait for the database's
            # lock (another process writing) does not stall every chat on the event loop.
            counts = await asyncio.to_thread(_apply_jobs, scheduler, wanted)
        except SQLAlchemyError as error:
            log.error("scheduler: cannot sync jobs (%s); retrying", type(error).__name__)
            return {}
        self._synced_at = self.monotonic()
        scheduler.wakeup()
        if any(counts.values()):
            log.info("scheduler: jobs synced: %s", counts)
        return counts

    async def stop(self) -> None:
        """Stop for good: stop leading and give the lease up so another process takes over at once."""
        self._stopped = True
        self._poke.set()
        was_leading = self.leading
        self._step_down()
        if not was_leading:
            return
        with contextlib.suppress(SQLAlchemyError):
            async with self.sessions() as session, session.begin():
                await leases.release(session, LEASE_NAME, self.holder)


def _apply_jobs(scheduler: AsyncIOScheduler, wanted: dict[str, Trigger]) -> dict[str, int]:
    """Add, move and remove round jobs until the job store holds exactly ``wanted``."""
    existing = {job.id: job for job in scheduler.get_jobs(jobstore=JOBSTORE)}
    counts = {"added": 0, "moved": 0, "removed": 0}
    for job_id in existing:
        if job_id not in wanted:
            scheduler.remove_job(job_id, jobstore=JOBSTORE)
            counts["removed"] += 1
    for job_id, trigger in wanted.items():
        job = existing.get(job_id)
        if job is None:
            scheduler.add_job(
                jobs.advance_round, "date", run_date=trigger.at, args=[trigger.round_id],
                id=job_id, jobstore=JOBSTORE, replace_existing=True,
            )  # fmt: skip
            counts["added"] += 1
        elif not _same_time(job.next_run_time, trigger.at):
            scheduler.reschedule_job(job_id, jobstore=JOBSTORE, trigger="date", run_date=trigger.at)
            counts["moved"] += 1
    return counts


def _same_time(a: datetime | None, b: datetime) -> bool:
    return a is not None and abs((a - b).total_seconds()) < 1

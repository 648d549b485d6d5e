"""Reminding staff of dissemination steps that have come due (ADR 24).

A periodic job run by the process that holds the scheduler lease (``scheduler/service.py``):
at five past every hour from 08 to 15 on weekdays, Oslo time, and on taking the lease if
that happens within those hours. Which steps are due and whether they were reminded is
read from the database (``reminded_at``) every time, so a job that runs twice, a restart
or a new leader reminds each responsible once, and a day missed while no process led is
caught up at the next run. Staff are not messaged at night, at the weekend or on a
Norwegian public holiday: a step that falls due on a Saturday is reminded on Monday
morning, one due on 17 May the next working day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.norwegian_calendar import is_holiday
from services.action_plans import Reminded, remind_due

log = logging.getLogger(__name__)

JOB_ID = "actions:dissemination-reminders"
FIRST_HOUR, LAST_HOUR = 8, 15  # the last run is at 15:05
MINUTE = 5


def in_working_hours(now: datetime, zone: ZoneInfo) -> bool:
    """Whether ``now`` falls in the hours the job runs (working days, 08:00-15:59 in ``zone``)."""
    local = now.astimezone(zone)
    working_day = local.weekday() < 5 and not is_holiday(local.date())
    return working_day and FIRST_HOUR <= local.hour <= LAST_HOUR


class DisseminationReminders:
    """The job: remind the responsible of each due step, once."""

    job_id = JOB_ID

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        zone: ZoneInfo,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.zone = zone
        self.on_queued = on_queued

    def trigger(self, zone: ZoneInfo) -> CronTrigger:
        """When the job runs."""
        return CronTrigger(
            day_of_week="mon-fri", hour=f"{FIRST_HOUR}-{LAST_HOUR}", minute=MINUTE, timezone=zone
        )

    async def run(self) -> list[Reminded]:
        """Remind about every step due now; wake the sender if a chat message was queued.

        The cron trigger cannot know the holidays, so a run on one does nothing."""
        if not in_working_hours(self.clock(), self.zone):
            return []
        async with self.sessions() as session, session.begin():
            done = await remind_due(session, self.clock(), self.zone)
        if done:
            log.info("dissemination: reminded the responsible of %s step(s)", len(done))
        if any(reminded.chat_messages for reminded in done):
            self.on_queued()
        return done

    async def catch_up(self) -> list[Reminded]:
        """On taking the lease: run now if within the job's hours, else leave it to them."""
        if not in_working_hours(self.clock(), self.zone):
            return []
        return await self.run()

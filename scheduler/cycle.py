"""The annual cycle against the database: what is due for a round now, and when to look next.

``advance(round_id)`` is the only thing a scheduler job does. It reads the round from
the database, compares it with the clock, and takes whatever steps are due (open,
invite, remind, close, tell members it closed), each guarded by the round's markers.
So a job that fires twice or late, or a catch-up after downtime, does exactly what
is still owed and nothing else. ``triggers()`` says when each round next needs a look;
the APScheduler adapter (``scheduler/service.py``) and the fake-clock tests both use it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from dialogs.reminders import QuietRules, ReminderRule
from scheduler.timing import RoundTiming, due_reminder, round_triggers
from services import lifecycle
from services.log_context import log_context
from services.surveys import SurveyCatalog
from storage.orm import Round

log = logging.getLogger(__name__)

ACTOR = "scheduler"


def timing_of(round_: Round) -> RoundTiming:
    """The pure view of a round that the timing rules work on."""
    return RoundTiming(
        round_id=round_.id,
        status=round_.status,
        paused=round_.paused_at is not None,
        opens_at=round_.opens_at,
        closes_at=round_.closes_at,
        invitations_queued=round_.invitations_queued_at is not None,
        reminders=tuple(ReminderRule.from_json(rule) for rule in round_.reminder_rules or []),
        quiet=QuietRules.from_json(round_.quiet_rules),
        last_reminder_for=round_.last_reminder_for,
        closed_notices_done=round_.closed_notices_at is not None,
    )


def _counted(number: int, noun: str) -> str:
    """``1 reminder``, ``2 reminders``: for the log."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


@dataclass(frozen=True)
class Trigger:
    """A job the scheduler should hold: run ``advance(round_id)`` at ``at``."""

    job_id: str
    round_id: int
    at: datetime


class Cycle:
    """Takes the due steps of every round; the clock is injected so tests can run a year."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalog: SurveyCatalog,
        zone: ZoneInfo,
        clock: Callable[[], datetime],
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.sessions = sessions
        self.catalog = catalog
        self.zone = zone
        self.clock = clock
        self.on_queued = on_queued

    async def advance(self, round_id: int) -> list[str]:
        """Take every step that is due for a round now; returns what was done.

        Everything logged meanwhile (by the lifecycle too) carries the round's id.
        """
        with log_context(round_id=round_id, fresh=True):
            return await self._advance_round(round_id)

    async def _advance_round(self, round_id: int) -> list[str]:
        for _attempt in range(3):
            try:
                async with self.sessions() as session, session.begin():
                    round_ = await lifecycle.load_round(session, round_id)
                    done = await self._advance(session, round_, self.clock())
            except LookupError:
                log.warning("cycle: round %s no longer exists", round_id)
                return []
            except (StaleDataError, IntegrityError):
                log.info("cycle: round %s changed meanwhile; looking again", round_id)
                continue
            if done:
                log.info("cycle: round %s: %s", round_id, ", ".join(done))
                self.on_queued()
            return done
        log.warning("cycle: round %s kept changing; the next trigger will look again", round_id)
        return []

    async def _advance(self, session: AsyncSession, round_: Round, now: datetime) -> list[str]:
        timing = timing_of(round_)
        allowed = timing.quiet.allows(now, self.zone)
        done: list[str] = []
        if round_.status in lifecycle.ACTIVE and now >= round_.closes_at:
            await lifecycle.close_round(session, round_, now, self.catalog, actor=ACTOR)
            done.append("closed")
        if round_.status == "closed":
            if round_.closed_notices_at is None and allowed:
                count = await lifecycle.notify_closed(session, round_, now, self.zone)
                done.append(f"told {_counted(count, 'member')} it closed")
            return done
        if round_.paused_at is not None:
            return done
        if round_.status == "planned" and now >= round_.opens_at:
            await lifecycle.open_round(session, round_, now, self.zone, actor=ACTOR, invite=False)
            done.append("opened")
        if round_.status != "open":
            return done
        due = due_reminder(timing.reminder_moments(self.zone), round_.last_reminder_for, now)
        if round_.invitations_queued_at is None:
            if allowed:
                count = await lifecycle.queue_invitations(
                    session, round_, now, self.zone, actor=ACTOR
                )
                done.append(f"queued {_counted(count, 'invitation')}")
                if due is not None:  # the invitation is reminder enough
                    await lifecycle.skip_reminder(session, round_, now, due)
            return done
        if due is not None and allowed:
            count = await lifecycle.send_reminders(session, round_, now, self.zone, due_for=due)
            done.append(f"queued {_counted(count, 'reminder')}")
        return done

    async def active_rounds(self) -> list[Round]:
        """Rounds the cycle still has work for."""
        async with self.sessions() as session:
            return list(
                await session.scalars(
                    select(Round)
                    .where(
                        or_(
                            Round.status.in_(lifecycle.ACTIVE),
                            (Round.status == "closed") & Round.closed_notices_at.is_(None),
                        )
                    )
                    .order_by(Round.id)
                )
            )

    async def triggers(self) -> list[Trigger]:
        """Every job the scheduler should hold now, from the database."""
        now = self.clock()
        return [
            Trigger(job_id, round_.id, at)
            for round_ in await self.active_rounds()
            for job_id, at in round_triggers(timing_of(round_), now, self.zone).items()
        ]

    async def catch_up(self) -> dict[int, list[str]]:
        """Advance every round that is due now (on start, and after downtime)."""
        now = self.clock()
        due = sorted({t.round_id for t in await self.triggers() if t.at <= now})
        return {round_id: await self.advance(round_id) for round_id in due}

    async def next_trigger_at(self) -> datetime | None:
        """When the next job is due (for driving the cycle on a fake clock)."""
        times = [t.at for t in await self.triggers()]
        return min(times) if times else None

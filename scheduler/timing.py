"""When the annual cycle acts: a round's scheduler triggers and which reminder is due.

Pure functions of their arguments (the zone and "now" are passed in), so a whole year
can be replayed on a fake clock. The rules themselves (reminder plan, quiet hours) are
plain data in ``dialogs/reminders.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dialogs.reminders import QuietRules, ReminderRule, reminder_times


@dataclass(frozen=True)
class RoundTiming:
    """What the cycle needs to know about a round to decide when to act on it."""

    round_id: int
    status: str  # planned | open | closed | cancelled
    paused: bool
    opens_at: datetime
    closes_at: datetime
    invitations_queued: bool
    reminders: tuple[ReminderRule, ...]
    quiet: QuietRules
    last_reminder_for: datetime | None
    closed_notices_done: bool

    def reminder_moments(self, zone: ZoneInfo) -> list[datetime]:
        """This round's reminder moments."""
        return reminder_times(
            self.reminders,
            opens_at=self.opens_at,
            closes_at=self.closes_at,
            quiet=self.quiet,
            zone=zone,
        )


def due_reminder(
    moments: Iterable[datetime], last_for: datetime | None, now: datetime
) -> datetime | None:
    """The latest reminder moment that has come and was not handled yet.

    Several missed reminders (the process was down) fold into this one.
    """
    due = [m for m in moments if m <= now and (last_for is None or m > last_for)]
    return max(due) if due else None


def round_triggers(timing: RoundTiming, now: datetime, zone: ZoneInfo) -> dict[str, datetime]:
    """The scheduler jobs a round needs now: ``{job id: run time}``.

    Deterministic ids (``round:7:remind:2``); run times in the past mean "run at once".
    Work waiting for an allowed moment (invitations or a reminder due in quiet hours,
    notices after closing) is triggered at the next allowed moment. Jobs only trigger:
    what actually happens is decided again, from the database, when they run.
    """
    prefix = f"round:{timing.round_id}"
    if timing.status == "cancelled":
        return {}
    if timing.status == "closed":
        if timing.closed_notices_done:
            return {}
        return {f"{prefix}:notify-closed": timing.quiet.next_allowed(now, zone)}
    triggers = {f"{prefix}:close": timing.closes_at}
    if timing.paused:
        return triggers
    if timing.status == "planned":
        triggers[f"{prefix}:open"] = timing.opens_at
        return triggers
    if not timing.invitations_queued:
        triggers[f"{prefix}:invite"] = timing.quiet.next_allowed(now, zone)
    for index, moment in enumerate(timing.reminder_moments(zone), start=1):
        if timing.last_reminder_for is not None and moment <= timing.last_reminder_for:
            continue
        if moment <= now and not timing.quiet.allows(now, zone):
            moment = timing.quiet.next_allowed(now, zone)
        triggers[f"{prefix}:remind:{index}"] = min(moment, timing.closes_at)
    return triggers


# What each trigger does, and which comes first when two fall at the same moment: the
# cycle closes a round before it would remind anyone (a reminder at the deadline is moot).
STEP_ORDER = ("close", "notify-closed", "open", "invite", "remind")


@dataclass(frozen=True)
class NextStep:
    """The next thing the annual cycle will do to a round by itself, and when.

    ``kind``: ``open``, ``invite``, ``remind`` (``reminder`` is its number in the round's
    plan, from 1), ``close`` or ``notify-closed`` (tell members it closed). ``at`` is
    never before ``now``: work already due (e.g. waiting out quiet hours) is "now".
    """

    round_id: int
    kind: str
    at: datetime
    reminder: int | None = None


def round_steps(timing: RoundTiming, now: datetime, zone: ZoneInfo) -> list[NextStep]:
    """Every step ``round_triggers`` holds for the round, in the order the cycle takes them
    (by time; at the same moment, by STEP_ORDER, then reminder number)."""
    steps = []
    for job_id, at in round_triggers(timing, now, zone).items():
        _, _, rest = job_id.partition(":")  # "round:7:remind:2" -> "7:remind:2"
        kind, _, number = rest.partition(":")[2].partition(":")
        steps.append(NextStep(timing.round_id, kind, max(at, now), int(number) if number else None))
    return sorted(steps, key=lambda s: (s.at, STEP_ORDER.index(s.kind), s.reminder or 0))


def next_step(timing: RoundTiming, now: datetime, zone: ZoneInfo) -> NextStep | None:
    """The earliest of ``round_steps``: what the overview shows as "next automatic step".

    None for a cancelled round, or a closed one whose members have been told. A paused
    round's next step is its closing (reminders wait until it is resumed).
    """
    steps = round_steps(timing, now, zone)
    return steps[0] if steps else None

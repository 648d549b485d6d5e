"""A round's reminder plan and quiet hours: when members may be reminded, as plain data.

Pure functions of their arguments (the zone is passed in), so a whole year can be
computed and tested. Local times are resolved in the given zone (Europe/Oslo) with
``zoneinfo``; everything returned is aware UTC, so daylight-saving changes affect only
how a local "09:00" maps to UTC. ``scheduler/timing.py`` turns these into triggers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.norwegian_calendar import SATURDAY as SATURDAY
from dialogs.norwegian_calendar import Blackout, day_off


@dataclass(frozen=True)
class ReminderRule:
    """One reminder of a round's plan, relative to its deadline.

    Either ``days_before`` the closing day at local time ``at`` (``days_before=0`` is the
    last day), or exactly ``before`` the deadline (for short rounds and tests).
    """

    days_before: int | None = None
    at: time | None = None
    before: timedelta | None = None

    def __post_init__(self) -> None:
        given = (self.days_before is not None, self.at is not None, self.before is not None)
        if given not in ((True, True, False), (False, False, True)):
            raise ValueError("a reminder is either days_before + at, or before")
        if self.days_before is not None and self.days_before < 0:
            raise ValueError("days_before cannot be negative")
        if self.before is not None and self.before <= timedelta(0):
            raise ValueError("before must be a positive duration")

    def moment(self, closes_at: datetime, zone: ZoneInfo) -> datetime:
        """The reminder's nominal time for a round closing at ``closes_at``."""
        if self.before is not None:
            return closes_at.astimezone(UTC) - self.before  # elapsed time, not wall clock
        assert self.days_before is not None and self.at is not None
        day = closes_at.astimezone(zone).date() - timedelta(days=self.days_before)
        return local_moment(day, self.at, zone)

    def to_json(self) -> dict[str, Any]:
        """The stored form (rounds.reminder_rules)."""
        if self.before is not None:
            return {"before_seconds": int(self.before.total_seconds())}
        assert self.at is not None
        return {"days_before": self.days_before, "at": self.at.strftime("%H:%M")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReminderRule:
        """Read the stored form back."""
        if "before_seconds" in data:
            return cls(before=timedelta(seconds=int(data["before_seconds"])))
        return cls(days_before=int(data["days_before"]), at=time.fromisoformat(data["at"]))

    def describe(self) -> str:
        """Norwegian, for calendars and status: ``7 dager før frist kl. 09.00``."""
        if self.before is not None:
            return f"{_duration_nb(self.before)} før frist"
        assert self.at is not None
        clock = f"kl. {self.at.hour:02d}.{self.at.minute:02d}"
        if self.days_before == 0:
            return f"siste dag {clock}"
        unit = "dag" if self.days_before == 1 else "dager"
        return f"{self.days_before} {unit} før frist {clock}"


DEFAULT_REMINDERS: tuple[ReminderRule, ...] = (
    ReminderRule(days_before=7, at=time(9, 0)),
    ReminderRule(days_before=2, at=time(9, 0)),
    ReminderRule(days_before=0, at=time(9, 0)),
)


@dataclass(frozen=True)
class QuietRules:
    """When automation may message members: not in quiet hours, not on weekends, not on
    Norwegian public holidays, not in the plan's blackout periods.

    Quiet hours run from ``quiet_start`` to ``quiet_end`` local time, across midnight
    when start > end (the default 21:00–08:00). ``quiet_start=None`` turns them off.
    ``weekends`` / ``holidays``: whether Saturdays and Sundays / public holidays
    (``dialogs/norwegian_calendar.py``) are allowed. ``blackouts``: whole days on which
    nothing automatic goes out, whatever the other rules say.
    """

    quiet_start: time | None = time(21, 0)
    quiet_end: time | None = time(8, 0)
    weekends: bool = False
    holidays: bool = False
    blackouts: tuple[Blackout, ...] = ()

    def __post_init__(self) -> None:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet hours need both a start and an end")
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValueError("quiet hours cannot start and end at the same time")

    def allows(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Whether a member may be messaged at ``moment``."""
        local = moment.astimezone(zone)
        if self.day_off(local.date()) is not None:
            return False
        return not self._quiet(local.time())

    def day_off(self, day: date) -> str | None:
        """Why no member may be messaged at all on local ``day`` (Norwegian), or None."""
        return day_off(
            day, weekends=self.weekends, holidays=self.holidays, blackouts=self.blackouts
        )

    def _quiet(self, clock: time) -> bool:
        if self.quiet_start is None or self.quiet_end is None:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= clock < self.quiet_end
        return clock >= self.quiet_start or clock < self.quiet_end

    def search_days(self) -> int:
        """Days to look ahead for an allowed moment: enough for any run of days off (a
        week's weekend and Easter, plus every blackout back to back)."""
        return 9 + sum(blackout.days for blackout in self.blackouts)

    def next_allowed(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """``moment`` if allowed, else the first allowed moment after it."""
        if self.allows(moment, zone):
            return moment.astimezone(UTC)
        local = moment.astimezone(zone)
        day = local.date()
        for offset in range(self.search_days()):
            candidate_day = day + timedelta(days=offset)
            if self.day_off(candidate_day) is not None:
                continue
            for clock in self._openings():
                candidate = local_moment(candidate_day, clock, zone)
                if candidate > moment and self.allows(candidate, zone):
                    return candidate
        raise AssertionError("no allowed moment found")  # pragma: no cover

    def _openings(self) -> list[time]:
        """Local times at which an allowed period can begin."""
        return [time(0, 0)] if self.quiet_end is None else [time(0, 0), self.quiet_end]

    def to_json(self) -> dict[str, Any]:
        """The stored form (rounds.quiet_rules).

        ``holidays`` and ``blackouts`` are written only when they differ from the
        default, so rounds stored before they existed compare equal to the same plan.
        """
        stored: dict[str, Any] = {
            "quiet_hours": (
                f"{self.quiet_start:%H:%M}-{self.quiet_end:%H:%M}"
                if self.quiet_start is not None and self.quiet_end is not None
                else None
            ),
            "weekends": self.weekends,
        }
        if self.holidays:
            stored["holidays"] = "allowed"
        if self.blackouts:
            stored["blackouts"] = [blackout.to_json() for blackout in self.blackouts]
        return stored

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> QuietRules:
        """Read the stored form back (None: the defaults; no ``holidays``: quiet)."""
        if not data:
            return cls()
        hours = data.get("quiet_hours")
        start, end = (
            (None, None)
            if hours is None
            else (time.fromisoformat(part) for part in str(hours).split("-"))
        )
        return cls(
            quiet_start=start,
            quiet_end=end,
            weekends=bool(data.get("weekends")),
            holidays=data.get("holidays") == "allowed",
            blackouts=tuple(Blackout.from_json(b) for b in data.get("blackouts") or ()),
        )

    def describe(self) -> str:
        """Norwegian: ``ikke 21.00–08.00, ikke i helgene, ikke på helligdager``."""
        parts = []
        if self.quiet_start is not None and self.quiet_end is not None:
            parts.append(f"ikke {self.quiet_start:%H.%M}–{self.quiet_end:%H.%M}")
        if not self.weekends:
            parts.append("ikke i helgene")
        if not self.holidays:
            parts.append("ikke på helligdager")
        parts += [f"ikke i {blackout.describe()}" for blackout in self.blackouts]
        return ", ".join(parts) or "når som helst"


def local_moment(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as aware UTC.

    On the spring-forward day a time in the skipped hour maps to the instant it would
    have been (02:30 becomes 03:30 CEST); in the repeated autumn hour the first is used.
    """
    naive = datetime.combine(day, clock)
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC)


def local_time_problem(day: date, clock: time, zone: ZoneInfo) -> str | None:
    """Why a local date and time is not a single real moment (DST), or None if it is."""
    naive = datetime.combine(day, clock)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        return f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks go forward)"
    return f"{naive:%Y-%m-%d %H:%M} happens twice in {zone.key} (the clocks go back)"


def reminder_times(
    rules: Iterable[ReminderRule],
    *,
    opens_at: datetime,
    closes_at: datetime,
    quiet: QuietRules,
    zone: ZoneInfo,
) -> list[datetime]:
    """The moments a round's reminders go out, sorted and without duplicates.

    A reminder that falls in quiet hours, on a disallowed weekend or holiday or in a
    blackout period moves to the next allowed moment; if that is not before the
    deadline, to the same clock time on the closest earlier allowed day. A moved
    reminder that lands on a day that has a reminder of its own folds into it (several
    reminders held by a blackout come out as one). Reminders not strictly between
    opening and closing are dropped.
    """
    planned = reminder_plan(rules, opens_at=opens_at, closes_at=closes_at, quiet=quiet, zone=zone)
    return sorted({r.sent_at for r in planned if r.sent_at is not None})


@dataclass(frozen=True)
class PlacedReminder:
    """One reminder rule of a round and when it goes out.

    ``nominal``: when the rule says; ``moment``: moved out of quiet hours and days off
    (None: no allowed moment while the round is open); ``folded``: dropped because
    another reminder goes out that day.
    """

    rule: ReminderRule
    nominal: datetime
    moment: datetime | None
    folded: bool = False

    @property
    def sent_at(self) -> datetime | None:
        return None if self.folded else self.moment


def reminder_plan(
    rules: Iterable[ReminderRule],
    *,
    opens_at: datetime,
    closes_at: datetime,
    quiet: QuietRules,
    zone: ZoneInfo,
) -> list[PlacedReminder]:
    """Each rule with its nominal moment and when it goes out (see ``reminder_times``)."""
    placed: list[PlacedReminder] = []
    for rule in rules:
        nominal = rule.moment(closes_at, zone)
        moment = _allowed_before(nominal, closes_at, quiet, zone)
        inside = moment is not None and opens_at < moment < closes_at
        placed.append(PlacedReminder(rule, nominal, moment if inside else None))
    # A moved reminder folds into a reminder that was not moved on the same local day,
    # and moved reminders landing on one day fold into the earliest of them.
    days: dict[date, list[tuple[bool, datetime]]] = {}
    for reminder in placed:
        if reminder.moment is not None:
            day = reminder.moment.astimezone(zone).date()
            days.setdefault(day, []).append((reminder.moment != reminder.nominal, reminder.moment))
    keep: set[datetime] = set()
    for entries in days.values():
        fixed = {moment for moved, moment in entries if not moved}
        keep |= fixed or {min(moment for _, moment in entries)}
    return [
        replace(reminder, folded=True)
        if reminder.moment is not None and reminder.moment not in keep
        else reminder
        for reminder in placed
    ]


def _allowed_before(
    moment: datetime, closes_at: datetime, quiet: QuietRules, zone: ZoneInfo
) -> datetime | None:
    forward = quiet.next_allowed(moment, zone)
    if forward < closes_at or quiet.allows(moment, zone):
        return forward  # an allowed moment is never moved (past the deadline: dropped)
    local = moment.astimezone(zone)
    clocks = [local.time()] + ([quiet.quiet_end] if quiet.quiet_end is not None else [])
    for back in range(quiet.search_days()):
        day = local.date() - timedelta(days=back)
        for clock in clocks:
            candidate = local_moment(day, clock, zone)
            if candidate < moment and quiet.allows(candidate, zone):
                return candidate
    return None


def _duration_nb(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for size, one, many in (
        (86400, "dag", "dager"),
        (3600, "time", "timer"),
        (60, "minutt", "minutter"),
    ):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {one if count == 1 else many}"
    return f"{seconds} sekunder"

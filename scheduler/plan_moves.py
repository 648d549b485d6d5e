"""Moving a planned round's dates off public holidays and out of blackout periods.

Pure (the zone is passed in). When a plan is read (``scheduler/plan.py``):

- an **opening** or a **deadline** that falls on a public holiday the round does not
  allow, or in a blackout period, moves to the next day on which members may be
  messaged (not a day off: no blackout, no disallowed weekend or holiday) at the same
  time of day. A deadline moves *forward*, never back, so members never get less time
  than the plan gave them; a bare-date deadline (23:59) thus becomes the end of the next
  working day. A date on an ordinary weekend is not moved: the weekday is plain to see
  when the plan is written, ``plan apply`` warns about a weekend opening, and plans
  applied before this existed keep their dates. Chains are followed: 17. mai 2027 is a
  Monday, so it moves to Tuesday 18; a blackout ending on a Friday moves to Monday.
- **reminders** are placed by ``dialogs.reminders.reminder_plan`` with the round's quiet
  rules (which know weekends, holidays and blackouts), as the cycle sends them.

Every move is described in Norwegian for ``plan apply --dry-run`` and the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dialogs.norwegian_calendar import weekday_date_nb
from dialogs.reminders import QuietRules, ReminderRule, local_moment, reminder_plan

WEEKEND = "helg"  # the reason dialogs.norwegian_calendar.day_off gives for a weekend


@dataclass(frozen=True)
class Move:
    """One date of a round that the calendar moved (``after`` None: a reminder not sent).

    ``field`` names it as the plan file does (``opens``, ``closes``, ``reminders[1]``).
    """

    field: str
    label: str
    before: datetime
    after: datetime | None
    reasons: tuple[str, ...]
    note: str = ""  # said after the reasons: why a moved reminder is not sent

    def describe(self, zone: ZoneInfo) -> str:
        """``Åpning flyttet fra mandag 17. mai 2027 kl. 09.00 til tirsdag 18. mai 2027
        kl. 09.00: helligdag (andre pinsedag og grunnlovsdag)``."""
        why = ", deretter ".join(self.reasons) + (f", og {self.note}" if self.note else "")
        if self.after is None:
            return f"{self.label} ({moment_nb(self.before, zone)}) sendes ikke: {why}"
        return (
            f"{self.label} flyttet fra {moment_nb(self.before, zone)} "
            f"til {moment_nb(self.after, zone)}: {why}"
        )


def moment_nb(moment: datetime, zone: ZoneInfo) -> str:
    """``fredag 2. juli 2027 kl. 09.00``."""
    local = moment.astimezone(zone)
    return f"{weekday_date_nb(local.date())} kl. {local:%H.%M}"


def move_date(
    moment: datetime, quiet: QuietRules, zone: ZoneInfo
) -> tuple[datetime, tuple[str, ...]]:
    """An opening or deadline moved off a holiday or out of a blackout (see the module).

    Returns the moment (unchanged if it need not move) and why it moved: the reason of
    every kind of day off it was moved past, in order (``Fellesferie (1.–31. juli)``,
    ``helg``).
    """
    local = moment.astimezone(zone)
    first = quiet.day_off(local.date())
    if first is None or first == WEEKEND:
        return moment, ()
    reasons: list[str] = []
    for offset in range(quiet.search_days()):
        day = local.date() + timedelta(days=offset)
        reason = quiet.day_off(day)
        if reason is None:
            return local_moment(day, local.time(), zone), tuple(reasons)
        if reason not in reasons:
            reasons.append(reason)
    raise AssertionError("no day without a day off found")  # pragma: no cover


def reminder_moves(
    rules: tuple[ReminderRule, ...],
    *,
    opens_at: datetime,
    closes_at: datetime,
    quiet: QuietRules,
    zone: ZoneInfo,
) -> list[Move]:
    """Reminders that do not go out when their rule says, and why.

    Only reminders whose nominal moment lies while the round is open: the others are
    warned about when the plan is read (they are never sent).
    """
    moves = []
    placed = reminder_plan(rules, opens_at=opens_at, closes_at=closes_at, quiet=quiet, zone=zone)
    for number, reminder in enumerate(placed):
        nominal = reminder.nominal
        if not opens_at < nominal < closes_at:
            continue
        if reminder.sent_at == nominal:
            continue
        note = ""
        if reminder.moment is None:
            note = "det er ingen tillatt tid igjen før fristen"
        elif reminder.folded:
            note = "en annen påminnelse går ut samme dag"
        label = f"Påminnelse {reminder.rule.describe()}"
        moves.append(
            Move(
                f"reminders[{number}]",
                label,
                nominal,
                reminder.sent_at,
                (_why_not(nominal, quiet, zone),),
                note,
            )
        )
    return moves


def _why_not(moment: datetime, quiet: QuietRules, zone: ZoneInfo) -> str:
    """Why members may not be messaged at ``moment``: the day off, else the quiet hours."""
    off = quiet.day_off(moment.astimezone(zone).date())
    if off is not None or quiet.quiet_start is None or quiet.quiet_end is None:
        return off or "stille tid"
    return f"stille tid ({quiet.quiet_start:%H.%M}–{quiet.quiet_end:%H.%M})"

"""The year's collection rounds ("årshjul") as a plain-text calendar for ``lyttepost plan show``.

Pure: no I/O, no database, no clock. The caller passes the rounds (with reminder moments
already computed), the zone and, if wanted, today's date, so the output is the same on
every machine and easy to test.

Layout (at most ``MAX_WIDTH`` columns, no colours, so it survives ``less``, e-mail and logs):

* a heading naming the year and the zone the times are in;
* twelve month grids, three side by side like ``cal -y``, Monday first, ISO week numbers on
  the left. Each day is a 3-character cell, the day number right-aligned in two columns and
  one marker column after it, with one space between cells, so marked and unmarked days stay
  aligned. Markers: ``Å`` the round opens, ``p`` a reminder goes out, ``F`` the deadline
  (frist); when several fall on one day the most important wins (F > Å > p). ``*`` marks
  today when today has no event (the legend names today's date in any case). Cancelled
  rounds are not marked; paused rounds are, since their dates are still the plan;
* a legend line;
* an agenda, one block per round that touches the year, in order of opening. Dates outside
  the year carry their year, so a round running from December into January reads right in
  both years' output.
"""

from __future__ import annotations

import calendar
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

MAX_WIDTH = 100

MARK_DEADLINE = "F"
MARK_OPEN = "Å"
MARK_REMINDER = "p"
MARK_TODAY = "*"
# Most important first: on a day with several events the first of these is shown.
MARK_PRIORITY = (MARK_DEADLINE, MARK_OPEN, MARK_REMINDER)

MONTH_NAMES = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip
MONTH_ABBR = (
    "jan.", "feb.", "mars", "apr.", "mai", "juni",
    "juli", "aug.", "sep.", "okt.", "nov.", "des.",
)  # fmt: skip
WEEKDAY_ABBR = ("ma.", "ti.", "on.", "to.", "fr.", "lø.", "sø.")

STATUS_NB = {
    "planned": "planlagt",
    "open": "åpen",
    "closed": "stengt",
    "cancelled": "avlyst",
}

_CELL = 3  # two digits for the day plus one marker column
_MONTH_WIDTH = 3 + 7 * _CELL + 6  # week column "53 ", seven cells, six separating spaces
_MONTH_GAP = "   "
_LABEL_WIDTH = 13  # "påminnelser" plus two spaces
_INDENT = "    "


@dataclass(frozen=True)
class CalendarRound:
    """What the calendar needs to know about one round; built by the CLI from the database."""

    round_id: int
    key: str | None  # plan key, e.g. "2027-1" (None for rounds made by hand)
    title: str
    status: str  # planned | open | closed | cancelled
    paused: bool
    opens_at: datetime  # aware UTC
    closes_at: datetime  # aware UTC
    reminders: tuple[datetime, ...]  # aware UTC, already computed
    audience: str  # already described, e.g. "alle 371 medlemmer", "Vestland (44)"


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` in ``zone``; naive input is refused because converting it would read the host's zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: calendar times must be timezone-aware")
    return moment.astimezone(zone)


def _events(round_: CalendarRound) -> Iterable[tuple[datetime, str]]:
    """Every dated event of a round with its marker."""
    yield round_.opens_at, MARK_OPEN
    for moment in round_.reminders:
        yield moment, MARK_REMINDER
    yield round_.closes_at, MARK_DEADLINE


def day_marks(year: int, rounds: Sequence[CalendarRound], zone: ZoneInfo) -> dict[date, str]:
    """The marker per local day of ``year`` (F > Å > p); days without events are absent.

    Cancelled rounds are left out: nothing will happen on their dates. Events of a round
    that belong to another year (by local date) are left out too.
    """
    marks: dict[date, str] = {}
    for round_ in rounds:
        if round_.status == "cancelled":
            continue
        for moment, mark in _events(round_):
            day = _local(moment, zone).date()
            if day.year != year:
                continue
            current = marks.get(day)
            if current is None or MARK_PRIORITY.index(mark) < MARK_PRIORITY.index(current):
                marks[day] = mark
    return marks


def rounds_in_year(
    year: int, rounds: Sequence[CalendarRound], zone: ZoneInfo
) -> list[CalendarRound]:
    """The rounds the agenda lists for ``year``, in order of opening.

    A round belongs to every year its open period (local dates, opening to deadline)
    touches, so a round from December into January shows up in both years, and to any
    year one of its events falls in (should a reminder lie outside the period).
    """
    first, last = date(year, 1, 1), date(year, 12, 31)
    chosen: list[CalendarRound] = []
    for round_ in rounds:
        opens = _local(round_.opens_at, zone).date()
        closes = _local(round_.closes_at, zone).date()
        overlaps = opens <= last and closes >= first
        has_event = any(_local(m, zone).year == year for m, _ in _events(round_))
        if overlaps or has_event:
            chosen.append(round_)
    return sorted(chosen, key=lambda r: (r.opens_at, r.round_id))


def format_day(moment: datetime, zone: ZoneInfo, year: int, *, weekday: bool = True) -> str:
    """``ti. 12. jan.`` in ``zone``; the year is added when it differs from ``year``."""
    local = _local(moment, zone)
    text = f"{local.day}. {MONTH_ABBR[local.month - 1]}"
    if weekday:
        text = f"{WEEKDAY_ABBR[local.weekday()]} {text}"
    if local.year != year:
        text = f"{text} {local.year}"
    return text


def format_time(moment: datetime, zone: ZoneInfo) -> str:
    """``kl. 09.00`` in ``zone`` (Norwegian notation, a full stop between hours and minutes)."""
    local = _local(moment, zone)
    return f"kl. {local.hour:02d}.{local.minute:02d}"


def format_moment(moment: datetime, zone: ZoneInfo, year: int) -> str:
    """``ti. 12. jan. kl. 09.00``: one event in the agenda."""
    return f"{format_day(moment, zone, year)} {format_time(moment, zone)}"


def format_reminders(moments: Sequence[datetime], zone: ZoneInfo, year: int) -> str:
    """``2. feb., 7. feb., 9. feb. kl. 09.00``: chronological, days sharing a time grouped.

    Only neighbouring reminders at the same local time share one ``kl.``, so the list
    stays in date order even when times vary.
    """
    if not moments:
        return "ingen"
    groups: list[tuple[str, list[str]]] = []
    for moment in sorted(moments):
        time = format_time(moment, zone)
        day = format_day(moment, zone, year, weekday=False)
        if groups and groups[-1][0] == time:
            groups[-1][1].append(day)
        else:
            groups.append((time, [day]))
    return "; ".join(f"{', '.join(days)} {time}" for time, days in groups)


def _month_lines(year: int, month: int, marks: dict[date, str], today: date | None) -> list[str]:
    """One month grid: title, weekday header, one line per week (each ``_MONTH_WIDTH`` wide)."""
    lines = [
        "   " + MONTH_NAMES[month - 1].center(_MONTH_WIDTH - 3).rstrip(),
        "uk " + " ".join(f"{abbr[:2]:<{_CELL}}" for abbr in WEEKDAY_ABBR),
    ]
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        cells = []
        for day in week:
            if day.month != month:
                cells.append(" " * _CELL)
                continue
            mark = marks.get(day, " ")
            if mark == " " and day == today:
                mark = MARK_TODAY
            cells.append(f"{day.day:>2}{mark}")
        # Rows run Monday to Sunday, so every day in a row has the same ISO week.
        lines.append(f"{week[0].isocalendar().week:>2} " + " ".join(cells))
    return [line.ljust(_MONTH_WIDTH) for line in lines]


def render_grid(year: int, marks: dict[date, str], today: date | None = None) -> list[str]:
    """The twelve month grids, three side by side in four bands, right-trimmed lines."""
    lines: list[str] = []
    for band in range(4):
        blocks = [_month_lines(year, band * 3 + m, marks, today) for m in (1, 2, 3)]
        height = max(len(block) for block in blocks)
        blocks = [block + [" " * _MONTH_WIDTH] * (height - len(block)) for block in blocks]
        if band:
            lines.append("")
        for row in zip(*blocks, strict=True):
            lines.append(_MONTH_GAP.join(row).rstrip())
    return lines


def legend(year: int, today: date | None) -> str:
    """The legend line; names today's date, since an event marker can hide the ``*``."""
    text = (
        f"Tegnforklaring: {MARK_OPEN} åpner, {MARK_REMINDER} påminnelse, {MARK_DEADLINE} frist"
        f" (samme dag: {MARK_DEADLINE} før {MARK_OPEN} før {MARK_REMINDER})"
    )
    if today is not None and today.year == year:
        day = f"{WEEKDAY_ABBR[today.weekday()]} {today.day}. {MONTH_ABBR[today.month - 1]}"
        text += f", {MARK_TODAY} i dag ({day})"
    return text


_NBSP = "\u00a0"
# Spaces inside "12. jan.", "des. 2026" and "kl. 09.00": a line break there would misread.
_UNBREAKABLE = re.compile(
    r"(?<=\d\.) (?=[a-zæøå])"  # "12. jan."
    r"|(?<=[a-zæøå]) (?=\d{4}\b)|(?<=[a-zæøå]\.) (?=\d{4}\b)"  # "mars 2026", "des. 2026"
    r"|(?<=kl\.) (?=\d)"  # "kl. 09.00"
)


def _wrap(first: str, rest: str, text: str, *, dates: bool = False) -> list[str]:
    """``text`` wrapped to ``MAX_WIDTH`` behind ``first``, continuation lines indented by ``rest``.

    With ``dates``, a date or time is never split over two lines.
    """
    if dates:
        text = _UNBREAKABLE.sub(_NBSP, text)
    lines = textwrap.wrap(
        text,
        width=MAX_WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
    ) or [first.rstrip()]
    return [line.replace(_NBSP, " ") for line in lines]


def _agenda_entry(round_: CalendarRound, zone: ZoneInfo, year: int) -> list[str]:
    """One round's agenda block: a heading line and indented detail lines."""
    status = STATUS_NB.get(round_.status, round_.status)
    if round_.paused:
        status += ", på pause"
    key = f" {round_.key}" if round_.key else ""
    number = f"#{round_.round_id}"
    lines = _wrap("", " " * (len(number) + 1), f"{number}{key} «{round_.title}» – {status}")
    details = (
        ("åpner", format_moment(round_.opens_at, zone, year), True),
        ("påminnelser", format_reminders(round_.reminders, zone, year), True),
        ("frist", format_moment(round_.closes_at, zone, year), True),
        ("målgruppe", round_.audience, False),
    )
    hanging = _INDENT + " " * _LABEL_WIDTH
    for label, value, dates in details:
        lines.extend(_wrap(f"{_INDENT}{label:<{_LABEL_WIDTH}}", hanging, value, dates=dates))
    return lines


def render_year(
    year: int,
    rounds: Sequence[CalendarRound],
    zone: ZoneInfo,
    *,
    today: date | None = None,
) -> str:
    """The whole årshjul for ``year``: heading, grids, legend and agenda, ``\\n``-terminated.

    ``today`` is the caller's local date (the module reads no clock); it is marked only
    when it falls in ``year``.
    """
    marks = day_marks(year, rounds, zone)
    lines = [f"Årshjul {year} (tider i {zone.key or zone})", ""]
    lines.extend(render_grid(year, marks, today))
    lines.extend(["", legend(year, today), ""])
    listed = rounds_in_year(year, rounds, zone)
    if not listed:
        lines.append(f"Ingen runder planlagt i {year}.")
    for index, round_ in enumerate(listed):
        if index:
            lines.append("")
        lines.extend(_agenda_entry(round_, zone, year))
    return "\n".join(lines) + "\n"

"""The Norwegian calendar the annual cycle respects: public holidays and blackout periods.

Pure: days are plain dates (the caller turns a moment into a local date in its zone).
Public holidays come from the ``holidays`` library (Norway, without ordinary Sundays,
which it would otherwise count as holidays when asked to), looked up once per year and
cached. Blackout periods are whole days an annual plan declares (``Fellesferie``,
``Jul og nyttår``); ``QuietRules`` in ``dialogs/reminders.py`` uses both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import holidays as holiday_calendars

from dialogs.dates import MONTHS_NB

WEEKDAYS_NB = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
SATURDAY = 5


@lru_cache(maxsize=32)
def _holidays_of(year: int) -> dict[date, str]:
    """Norway's public holidays in ``year`` with their Norwegian names."""
    calendar = holiday_calendars.country_holidays(
        "NO", years=year, language="no", include_sundays=False
    )
    return {day: str(name) for day, name in calendar.items()}


def holiday_name(day: date) -> str | None:
    """The public holiday on ``day`` in Norwegian (``andre pinsedag og grunnlovsdag``), or None.

    Ordinary Sundays are not holidays here (weekends are a rule of their own).
    """
    name = _holidays_of(day.year).get(day)
    if name is None:
        return None
    return " og ".join(_lower_first(part.strip()) for part in name.split(";"))


def is_holiday(day: date) -> bool:
    """Whether ``day`` is a Norwegian public holiday (17. mai, 2. påskedag, ...)."""
    return day in _holidays_of(day.year)


def _lower_first(name: str) -> str:
    """``Andre juledag`` -> ``andre juledag``; ``Kristi himmelfartsdag`` keeps its capital."""
    return name if name.startswith("Kristi") or not name else name[0].lower() + name[1:]


@dataclass(frozen=True)
class Blackout:
    """A named period of whole days (``first`` to ``last``, both included) with no outreach."""

    name: str
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("a blackout period cannot end before it starts")

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last

    def overlaps(self, first: date, last: date) -> bool:
        return self.first <= last and first <= self.last

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def describe(self) -> str:
        """``Fellesferie (1.–31. juli)``, ``Jul og nyttår (20. desember 2027–3. januar 2028)``."""
        return f"{self.name} ({span_nb(self.first, self.last)})"

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "from": self.first.isoformat(), "to": self.last.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Blackout:
        return cls(
            name=str(data["name"]),
            first=date.fromisoformat(str(data["from"])),
            last=date.fromisoformat(str(data["to"])),
        )


def span_nb(first: date, last: date) -> str:
    """``17. mai``, ``1.–31. juli``, ``30. juni–2. juli``, ``20. desember 2027–3. januar 2028``."""
    if first == last:
        return f"{first.day}. {MONTHS_NB[first.month - 1]}"
    if first.year != last.year:
        return (
            f"{first.day}. {MONTHS_NB[first.month - 1]} {first.year}–"
            f"{last.day}. {MONTHS_NB[last.month - 1]} {last.year}"
        )
    if first.month == last.month:
        return f"{first.day}.–{last.day}. {MONTHS_NB[last.month - 1]}"
    return f"{first.day}. {MONTHS_NB[first.month - 1]}–{last.day}. {MONTHS_NB[last.month - 1]}"


def day_off(
    day: date,
    *,
    weekends: bool = False,
    holidays: bool = False,
    blackouts: tuple[Blackout, ...] = (),
) -> str | None:
    """Why automation may not message members on ``day`` (Norwegian), or None if it may.

    ``weekends``/``holidays``: whether Saturdays and Sundays / public holidays are
    allowed. A blackout period is named first, then a weekend, then a holiday, so a
    Saturday that is also 1. mai is "helg" (weekends are the older, better known rule).
    """
    for blackout in blackouts:
        if blackout.covers(day):
            return blackout.describe()
    if not weekends and day.weekday() >= SATURDAY:
        return "helg"
    if not holidays:
        name = holiday_name(day)
        if name is not None:
            return f"helligdag ({name})"
    return None


def weekday_date_nb(day: date) -> str:
    """``mandag 17. mai 2027``."""
    return f"{WEEKDAYS_NB[day.weekday()]} {day.day}. {MONTHS_NB[day.month - 1]} {day.year}"

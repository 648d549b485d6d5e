"""The rounds ``lyttepost plan show`` draws: from a plan file, or as the database holds them.

``scheduler/calendar_view.py`` renders them and reads nothing; this module gathers
them, with reminders computed the way the cycle will send them and the audience
described in Norwegian.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.reminders import reminder_times
from dialogs.texts import antall
from scheduler.calendar_view import CalendarRound
from scheduler.cycle import timing_of
from scheduler.plan import Plan
from services.rounds import rounds_by_opening


def calendar_from_plan(plan: Plan, zone: ZoneInfo) -> list[CalendarRound]:
    """The plan's rounds as they would be scheduled (id 0: none exists yet)."""
    return [
        CalendarRound(
            round_id=0, key=p.key, title=p.title or p.survey, status="planned", paused=False,
            opens_at=p.opens_at, closes_at=p.closes_at,
            reminders=tuple(reminder_times(p.reminders, opens_at=p.opens_at,
                                           closes_at=p.closes_at, quiet=p.quiet, zone=zone)),
            audience=describe_audience(p.audience.describe(), None),
        )
        for p in plan.rounds
    ]  # fmt: skip


async def calendar_from_database(session: AsyncSession, zone: ZoneInfo) -> list[CalendarRound]:
    """Every round in the database, in order of opening, with its audience's size."""
    return [
        CalendarRound(
            round_id=r.id, key=r.plan_key, title=r.title, status=r.status,
            paused=r.paused_at is not None, opens_at=r.opens_at, closes_at=r.closes_at,
            reminders=tuple(timing_of(r).reminder_moments(zone)),
            audience=describe_audience(r.audience, size),
        )
        for r, size in await rounds_by_opening(session)
    ]  # fmt: skip


def default_year(rounds: list[CalendarRound], today: date, zone: ZoneInfo) -> int:
    """This year, or the plan's year when every round lies in another one."""
    years = {r.opens_at.astimezone(zone).year for r in rounds}
    return today.year if not years or today.year in years else min(years)


def describe_audience(stored: dict[str, Any], size: int | None) -> str:
    """``alle medlemmer (371)``, ``fylke 46 (44)``, ``kommuner (357)``, ``3 medlemmer``."""
    kind = stored.get("kind")
    if kind == "county":
        text = f"fylke {stored.get('county')}"
    elif kind == "member_type":
        text = {"kommune": "kommuner", "fylkeskommune": "fylkeskommuner"}.get(
            str(stored.get("member_type")), str(stored.get("member_type"))
        )
    elif kind == "orgs":
        codes = stored.get("codes", [])
        chosen = antall(len(codes), "utvalgt medlem", "utvalgte medlemmer")
        return f"{chosen} ({', '.join(codes[:5])}{' …' if len(codes) > 5 else ''})"
    else:
        text = "alle medlemmer"
    return f"{text} ({size})" if size is not None else text

"""What members read about KS's actions ("dere sa, vi gjorde"): notices and ``/tiltak``.

Pure: ``services/actions.py`` gathers the action, the organisation's own needs and
staff's assessment against the known criteria; this turns them into channel-neutral
messages in Norwegian bokmål. A notice names the organisation's own need, quoted short,
so the member recognises what they said; ``/tiltak`` lists every action their needs are
linked to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dialogs.criteria import CRITERIA, RATINGS
from dialogs.dates import MONTHS_NB
from dialogs.messages import OutgoingMessage

STATUSES: tuple[str, ...] = ("planned", "in_progress", "done", "dropped")
STATUS_NAMES: dict[str, str] = {
    "planned": "planlagt",
    "in_progress": "i gang",
    "done": "gjennomført",
    "dropped": "lagt bort",
}
QUOTE_LENGTH = 120  # a need is quoted at about this many characters
MORE_HINT = "Skriv /tiltak for å se hva KS gjør med behovene dere har meldt."


@dataclass(frozen=True)
class NeedQuote:
    """One of the organisation's needs, as it is named to them."""

    round_title: str
    area_label: str
    text: str  # empty when the free text is no longer kept (retention, erasure)


@dataclass(frozen=True)
class CriterionRating:
    """Staff's assessment of an action against criterion ``criterion`` (1-10)."""

    criterion: int
    rating: str  # met | partly | not
    reasoning: str


@dataclass(frozen=True)
class MemberAction:
    """An action as a member organisation sees it: what it is and which of their needs it
    answers."""

    title: str
    status: str
    description: str
    responsible_unit: str
    starts_on: date | None
    ends_on: date | None
    needs: tuple[NeedQuote, ...]
    criteria: tuple[CriterionRating, ...] = ()


def status_name(status: str) -> str:
    """``in_progress`` -> ``i gang``."""
    return STATUS_NAMES.get(status, status)


def shorten(text: str, limit: int = QUOTE_LENGTH) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters (with …)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut and not flat[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:–-") + "…"


def day_text(day: date) -> str:
    """``1. mars 2027``."""
    return f"{day.day}. {MONTHS_NB[day.month - 1]} {day.year}"


def period_text(starts_on: date | None, ends_on: date | None) -> str:
    """When an action runs, in words; empty when neither date is known."""
    if starts_on and ends_on:
        return f"{day_text(starts_on)}–{day_text(ends_on)}"
    if starts_on:
        return f"fra {day_text(starts_on)}"
    if ends_on:
        return f"til {day_text(ends_on)}"
    return ""


def _said(needs: Sequence[NeedQuote]) -> str:
    """``I runden «…» meldte dere behov om «…» (Helse og omsorg).``: the first need, and
    how many more there are."""
    first = needs[0]
    if first.text:
        said = (
            f"I runden «{first.round_title}» meldte dere behov om «{shorten(first.text)}» "
            f"({first.area_label})"
        )
    else:
        said = f"I runden «{first.round_title}» meldte dere et behov innen {first.area_label}"
    more = len(needs) - 1
    if more:
        said += f", og {more} behov til som tiltaket svarer på"
    return said + "."


# What a notice says KS has done, for the first notice an organisation gets about an action
# (it is linked to their need) and for a later change of status.
FIRST_NEWS = {
    "planned": "KS har planlagt et tiltak som skal svare på dette: «{title}».",
    "in_progress": "KS har startet et tiltak som svarer på dette: «{title}».",
    "done": "KS har gjennomført et tiltak som svarer på dette: «{title}».",
}
STATUS_NEWS = {
    "planned": "Tiltaket «{title}» er satt tilbake til planlagt.",
    "in_progress": "KS har startet: «{title}».",
    "done": "KS har gjennomført: «{title}».",
    "dropped": "KS går likevel ikke videre med tiltaket «{title}».",
}


def first_notice_possible(status: str) -> bool:
    """Whether an organisation newly linked to an action with this status is told (not of
    an action KS has laid aside)."""
    return status in FIRST_NEWS


def action_notice(
    *, title: str, status: str, needs: Sequence[NeedQuote], first: bool
) -> OutgoingMessage:
    """The short chat notice to one organisation: their need, and what KS did about it.

    ``first``: the organisation hears of the action for the first time (it was created
    with their need, or their need was linked to it); otherwise its status changed.
    """
    if not needs:
        raise ValueError("a notice names the organisation's own need")
    news = (FIRST_NEWS if first else STATUS_NEWS)[status].format(title=shorten(title, 150))
    return OutgoingMessage(text=f"{_said(needs)}\n{news}\n\n{MORE_HINT}")


def _criteria_lines(criteria: Sequence[CriterionRating]) -> list[str]:
    shown = sorted(
        (c for c in criteria if c.rating in ("met", "partly") and 1 <= c.criterion <= 10),
        key=lambda c: (c.rating != "met", c.criterion),
    )
    if not shown:
        return []
    lines = ["  Etter KS' kriterier for prioritering:"]
    for rating in shown:
        mark = "✓" if rating.rating == "met" else "◐"
        line = f"   {mark} {CRITERIA[rating.criterion - 1]}"
        if rating.rating == "partly":
            line += f" ({RATINGS['partly']})"
        reasoning = " ".join(rating.reasoning.split())
        if reasoning:
            line += f" – {shorten(reasoning, 200)}"
        lines.append(line)
    return lines


def actions_message(org_name: str, actions: Sequence[MemberAction]) -> OutgoingMessage:
    """``/tiltak``: the actions linked to the organisation's needs, newest news first as
    the caller orders them, each with its status, the needs it answers and the known
    criteria it meets or partly meets."""
    if not actions:
        return OutgoingMessage(
            text=(
                f"KS har ikke knyttet noen tiltak til behovene {org_name} har meldt ennå. "
                "Når KS gjør det, får dere beskjed her.\n\n"
                "/arshjul viser hva KS gjør med hver runde."
            )
        )
    lines = [f"Tiltak fra KS som svarer på behov {org_name} har meldt"]
    for action in actions:
        lines += ["", f"• «{action.title}» – {status_name(action.status)}"]
        facts = [
            part
            for part in (
                f"Ansvarlig i KS: {action.responsible_unit}" if action.responsible_unit else "",
                period_text(action.starts_on, action.ends_on),
            )
            if part
        ]
        if facts:
            lines.append("  " + " · ".join(facts))
        if action.description.strip():
            lines.append(f"  {shorten(action.description, 300)}")
        for need in action.needs:
            what = f"«{shorten(need.text)}»" if need.text else "et behov"
            lines.append(f"  Svarer på: {what} ({need.area_label}, runden «{need.round_title}»)")
        lines += _criteria_lines(action.criteria)
    lines += ["", "KS forteller dere her når et tiltak starter eller er gjennomført."]
    return OutgoingMessage(text="\n".join(lines))

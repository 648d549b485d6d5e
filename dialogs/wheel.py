"""The annual wheel (årshjul) as a member sees it: ``/arshjul``.

Pure: the caller gathers the rounds that concern the member's organisation; this
turns them into one channel-neutral message in Norwegian bokmål.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from dialogs.action_texts import status_name
from dialogs.dates import format_date, format_datetime
from dialogs.messages import OutgoingMessage

Answered = Literal["submitted", "started", "incomplete", "no"]


@dataclass(frozen=True)
class WheelNotice:
    """Something KS published about a round: its summary, or what KS does with the input."""

    title: str
    published_at: datetime


@dataclass(frozen=True)
class WheelAction:
    """An action of KS's that answers areas or needs of a round, and where it stands."""

    title: str
    status: str  # planned | in_progress | done | dropped


@dataclass(frozen=True)
class WheelRound:
    """One round of the year, from the member organisation's point of view."""

    title: str
    status: str  # planned | open | closed
    opens_at: datetime
    closes_at: datetime
    answered: Answered
    notices: tuple[WheelNotice, ...] = ()
    actions: tuple[WheelAction, ...] = ()  # what KS does with it (shown for held rounds)


def wheel_message(
    org_name: str, rounds: Sequence[WheelRound], now: datetime, zone: ZoneInfo
) -> OutgoingMessage:
    """Rounds open now, rounds to come and rounds held, for one organisation."""
    open_now = [r for r in rounds if r.status == "open"]
    coming = [r for r in rounds if r.status == "planned"]
    held = [r for r in rounds if r.status == "closed"]
    lines = [f"Årshjulet – KS' innhenting av behov hos {org_name}"]
    if open_now:
        lines += ["", "Åpen nå:"]
        for r in sorted(open_now, key=lambda r: r.closes_at):
            lines.append(f"• «{r.title}» – svarfrist {format_datetime(r.closes_at, zone)}")
            lines.append(f"  {_open_state(r.answered)}")
    if coming:
        lines += ["", "Kommer:"]
        for r in sorted(coming, key=lambda r: r.opens_at):
            lines.append(
                f"• «{r.title}» – åpner {format_date(r.opens_at, zone)}, "
                f"frist {format_date(r.closes_at, zone)}"
            )
    if held:
        lines += ["", "Gjennomført:"]
        for r in sorted(held, key=lambda r: r.closes_at, reverse=True):
            lines.append(
                f"• «{r.title}» – stengte {format_date(r.closes_at, zone)}: {_held_state(r.answered)}"
            )
            for notice in sorted(r.notices, key=lambda n: n.published_at):
                lines.append(f"  – {notice.title} ({format_date(notice.published_at, zone)})")
            if r.actions:
                lines.append("  Dette gjør KS med innspillene:")
                for action in r.actions:
                    lines.append(f"  – «{action.title}» ({status_name(action.status)})")
    if not rounds:
        lines += ["", "Det er ingen runder i årshjulet akkurat nå."]
    lines += ["", "KS deler oppsummeringen av hver runde med alle medlemmene."]
    if any(r.actions for r in held):
        lines.append("Skriv /tiltak for å se tiltakene som svarer på behovene dere har meldt.")
    return OutgoingMessage(text="\n".join(lines))


def _open_state(answered: Answered) -> str:
    return {
        "submitted": "✅ Dere har svart. Takk!",
        "started": "Påbegynt, ikke sendt inn ennå. Skriv /svar for å fortsette.",
        "incomplete": "Ikke sendt inn.",
        "no": "Dere har ikke svart ennå. Skriv /svar for å begynne.",
    }[answered]


def _held_state(answered: Answered) -> str:
    return {
        "submitted": "dere svarte",
        "started": "ikke sendt inn",
        "incomplete": "ikke sendt inn",
        "no": "dere svarte ikke",
    }[answered]

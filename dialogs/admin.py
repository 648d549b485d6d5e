"""Admins' chat commands: parsing their arguments and the texts of the replies.

Pure. Who may use them is decided against the database by the caller (default deny);
what they do is the same as the CLI's ``rounds`` commands (``services/lifecycle.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from dialogs.messages import Button, OutgoingMessage

Action = Literal["list", "status", "reschedule", "deadline", "pause", "resume", "cancel", "help"]

ADMIN_COMMANDS: dict[str, Action] = {
    "runder": "list",
    "rundestatus": "status",
    "flytt": "reschedule",
    "frist": "deadline",
    "pauserunde": "pause",
    "fortsettrunde": "resume",
    "avlys": "cancel",
    "adminhjelp": "help",
}
NEEDS_ROUND: set[Action] = {"status", "reschedule", "deadline", "pause", "resume", "cancel"}
NEEDS_MOMENT: set[Action] = {"reschedule", "deadline"}

PAYLOAD_PREFIX = "adm:"  # engine payloads use "a:" and "c:", round starts "r:"
CANCEL_PREFIX = "adm:cancel:"
KEEP_PAYLOAD = "adm:keep"

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$|^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_TIME = re.compile(r"^(?:kl\.?)?(\d{1,2})[:.](\d{2})$")


@dataclass(frozen=True)
class AdminRequest:
    """A parsed admin command."""

    action: Action
    round_id: int | None = None
    moment: datetime | None = None  # aware UTC


def parse_admin(name: str, argument: str, zone: ZoneInfo) -> AdminRequest | str:
    """The request, or a Norwegian usage text saying what was wrong."""
    action = ADMIN_COMMANDS[name]
    words = argument.split()
    if action not in NEEDS_ROUND:
        return AdminRequest(action)
    if not words or not words[0].isdigit() or len(words[0]) > 9:
        return usage(name)
    round_id = int(words[0])
    if action not in NEEDS_MOMENT:
        return AdminRequest(action, round_id)
    moment = _moment(words[1:], zone, end_of_day=action == "deadline")
    if moment is None:
        return usage(name)
    return AdminRequest(action, round_id, moment)


def _moment(words: list[str], zone: ZoneInfo, *, end_of_day: bool) -> datetime | None:
    if not 1 <= len(words) <= 2:
        return None
    day = _date(words[0])
    if day is None:
        return None
    clock = time(23, 59) if end_of_day else time(8, 0)
    if len(words) == 2:
        match = _TIME.match(words[1].lower())
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            return None
        clock = time(int(match[1]), int(match[2]))
    return datetime.combine(day, clock).replace(tzinfo=zone).astimezone(UTC)


def _date(text: str) -> date | None:
    match = _DATE.match(text)
    if match is None:
        return None
    year, month, day = (
        (match[1], match[2], match[3]) if match[1] else (match[6], match[5], match[4])
    )
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


USAGES = {
    "rundestatus": "/rundestatus RUNDE – svarprosent, per fylke og hvem som ikke har svart",
    "flytt": "/flytt RUNDE DATO [KL] – flytt åpningen av en planlagt runde (f.eks. /flytt 3 2027-04-12 09:00)",
    "frist": "/frist RUNDE DATO [KL] – ny svarfrist (f.eks. /frist 3 2027-05-02; uten klokkeslett 23.59)",
    "pauserunde": "/pauserunde RUNDE – stopp invitasjoner og påminnelser midlertidig",
    "fortsettrunde": "/fortsettrunde RUNDE – gjenoppta en runde på pause",
    "avlys": "/avlys RUNDE – avlys en runde (du blir bedt om å bekrefte)",
}


def usage(name: str) -> str:
    """How to write a command."""
    return f"Slik bruker du kommandoen:\n{USAGES[name]}\n\nSkriv /runder for å se rundene og numrene deres."


def help_text() -> OutgoingMessage:
    """The admin commands."""
    return OutgoingMessage(
        text="Kommandoer for administratorer:\n/runder – alle runder med status og svar\n"
        + "\n".join(USAGES.values())
        + "\n/arshjul – årshjulet slik medlemmene ser det"
    )


def refused() -> OutgoingMessage:
    """Someone without the admin role tried an admin command."""
    return OutgoingMessage(
        text=(
            "Beklager, den kommandoen er bare for administratorer i KS. "
            "Skriv /hjelp for å se hva du kan gjøre."
        )
    )


def confirm_cancel(round_id: int, title: str, invited: int) -> OutgoingMessage:
    """Cancelling is final: ask first."""
    return OutgoingMessage(
        text=(
            f"Vil du avlyse runde {round_id} «{title}»? Invitasjoner og påminnelser som ikke "
            f"er sendt, trekkes tilbake, og de {invited} som har fått invitasjon, får beskjed. "
            "Dette kan ikke angres."
        ),
        buttons=(
            (
                Button(label="Ja, avlys runden", payload=f"{CANCEL_PREFIX}{round_id}"),
                Button(label="Nei, behold den", payload=KEEP_PAYLOAD),
            ),
        ),
    )


def parse_cancel_payload(payload: str) -> int | None:
    """The round id of a confirmed cancel button, or None."""
    if not payload.startswith(CANCEL_PREFIX):
        return None
    rest = payload[len(CANCEL_PREFIX) :]
    return int(rest) if rest.isdigit() and len(rest) < 10 else None


def kept() -> OutgoingMessage:
    """The admin chose not to cancel."""
    return OutgoingMessage(text="Greit, runden er ikke avlyst.")


def done(text: str) -> OutgoingMessage:
    """The outcome of an admin action."""
    return OutgoingMessage(text=text)

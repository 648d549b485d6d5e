"""KS staff's chat commands: parsing their arguments and the texts of the replies.

Pure. They belong to staff accounts (a chat bound with a staff code), never to members'
contacts. Each command names the least role it needs (``ROLE_NEEDED``); the caller checks
it against the database (default deny). What they do is the same as the CLI's ``rounds``
and ``publications`` commands (``services/lifecycle.py``, ``services/publications.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal, cast
from zoneinfo import ZoneInfo

from dialogs.commands import STAFF_COMMANDS
from dialogs.messages import Button, OutgoingMessage
from dialogs.texts import antall, nb_number

Action = Literal[
    "list", "status", "reschedule", "deadline", "pause", "resume", "close", "cancel", "help",
    "report", "preview", "edit", "publish", "notice", "broadcast", "login",
]  # fmt: skip
Role = Literal["viewer", "staff", "admin"]  # as in services/staff.py, least first
ROLE_ORDER: tuple[Role, ...] = ("viewer", "staff", "admin")

# The staff commands and the action each means: from the one list in dialogs/commands.py.
ADMIN_COMMANDS: dict[str, Action] = {
    name: cast(Action, does) for name, does in STAFF_COMMANDS.items()
}
# Reading progress is for every role; publications need ``staff``; changing a round
# needs ``admin``. A command missing here would be refused (default deny).
ROLE_NEEDED: dict[Action, Role] = {
    "list": "viewer", "status": "viewer", "help": "viewer", "login": "viewer",
    "report": "staff", "preview": "staff", "edit": "staff", "publish": "staff",
    "notice": "staff", "broadcast": "staff",
    "reschedule": "admin", "deadline": "admin", "pause": "admin", "resume": "admin",
    "close": "admin", "cancel": "admin",
}  # fmt: skip
NEEDS_ROUND: set[Action] = {
    "status", "reschedule", "deadline", "pause", "resume", "close", "cancel", "report", "notice",
}  # fmt: skip
NEEDS_PUBLICATION: set[Action] = {"preview", "edit", "publish"}
NEEDS_MOMENT: set[Action] = {"reschedule", "deadline"}
NEEDS_TEXT: set[Action] = {"edit", "notice", "broadcast"}
# /publiser N [who]: the words an admin may use, and the segment each means. Without a
# word: the draft's own segment (a broadcast), or everyone invited to its round.
PUBLISH_TO = {"inviterte": "invited", "svarte": "respondents", "alle": "all"}

PAYLOAD_PREFIX = "adm:"  # engine payloads use "a:" and "c:", round starts "r:"
CANCEL_PREFIX = "adm:cancel:"
CLOSE_PREFIX = "adm:close:"
KEEP_PAYLOAD = "adm:keep"
PUBLISH_PREFIX = "adm:pub:"


def may(role: str, action: Action) -> bool:
    """Whether a staff member with ``role`` may do ``action`` (unknown: no)."""
    needed = ROLE_NEEDED.get(action)
    if needed is None or role not in ROLE_ORDER:
        return False
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(needed)


def payload_action(payload: str) -> Action | None:
    """What pressing an admin button does, for the role check: None for no known button."""
    if parse_publish_payload(payload) is not None:
        return "publish"
    if parse_close_payload(payload) is not None:
        return "close"
    if parse_cancel_payload(payload) is not None:
        return "cancel"
    if payload == KEEP_PAYLOAD:
        return "help"  # "no, leave it": changes nothing, any role may
    return None


_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$|^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_TIME = re.compile(r"^(?:kl\.?)?(\d{1,2})[:.](\d{2})$")


@dataclass(frozen=True)
class AdminRequest:
    """A parsed admin command."""

    action: Action
    round_id: int | None = None
    moment: datetime | None = None  # aware UTC
    publication_id: int | None = None
    text: str | None = None  # a draft's new text, a notice or a broadcast
    segment: str | None = None  # /publiser N svarte, /melding fylke:46 ...


def parse_admin(name: str, argument: str, zone: ZoneInfo) -> AdminRequest | str:
    """The request, or a Norwegian usage text saying what was wrong."""
    action = ADMIN_COMMANDS[name]
    head, _, rest = argument.strip().partition(" ")
    rest = rest.strip()
    if action == "broadcast":
        return AdminRequest(action, segment=head, text=rest) if head and rest else usage(name)
    if action not in NEEDS_ROUND | NEEDS_PUBLICATION:
        return AdminRequest(action)
    if not head.isdigit() or len(head) > 9:
        return usage(name)
    number = int(head)
    if action in NEEDS_TEXT:
        if not rest:
            return usage(name)
        if action == "edit":
            return AdminRequest(action, publication_id=number, text=rest)
        return AdminRequest(action, round_id=number, text=rest)
    if action == "publish":
        who = rest.lower()
        if who and who not in PUBLISH_TO:
            return usage(name)
        return AdminRequest(action, publication_id=number, segment=PUBLISH_TO.get(who, "default"))
    if action in NEEDS_PUBLICATION:
        return AdminRequest(action, publication_id=number)
    if action not in NEEDS_MOMENT:
        return AdminRequest(action, round_id=number)
    moment = _moment(rest.split(), zone, end_of_day=action == "deadline")
    if moment is None:
        return usage(name)
    return AdminRequest(action, round_id=number, moment=moment)


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
    "lukk": "/lukk RUNDE – steng en åpen runde nå, før fristen (du blir bedt om å bekrefte)",
    "avlys": "/avlys RUNDE – avlys en runde (du blir bedt om å bekrefte)",
    "rapport": "/rapport RUNDE – lag et utkast til oppsummering av en stengt runde og se det her",
    "forhandsvis": "/forhandsvis UTKAST – se et utkast akkurat slik medlemmene får det",
    "rediger": "/rediger UTKAST ny tekst – bytt ut teksten i et utkast",
    "publiser": "/publiser UTKAST [inviterte|svarte|alle] – send et utkast (du blir bedt om å bekrefte)",
    "kunngjoring": "/kunngjoring RUNDE tekst – utkast til melding om hva KS gjør med innspillene",
    "melding": "/melding HVEM tekst – utkast til melding til alle, fylke:46, kommune, fylkeskommune …",
}
ROLE_NB = {"viewer": "leser", "staff": "rådgiver", "admin": "administrator"}


def usage(name: str) -> str:
    """How to write a command."""
    return f"Slik bruker du kommandoen:\n{USAGES[name]}\n\nSkriv /runder for å se rundene og numrene deres."


def help_text(role: str = "admin", *, member: bool = True) -> OutgoingMessage:
    """The staff commands this role may use; ``member``: the chat is also a member's, so
    the member commands are there too (a staff-only chat has no survey to answer)."""
    lines = [usage_line for name, usage_line in USAGES.items() if may(role, ADMIN_COMMANDS[name])]
    parts = [
        f"Kommandoer for KS-ansatte (din rolle: {ROLE_NB.get(role, role)}):",
        "/runder – alle runder med status og svar",
        *lines,
        "/logginn – en lenke som logger deg inn i arbeidsflaten (gyldig i 15 minutter)",
    ]
    if member:
        parts.append("/arshjul – årshjulet slik medlemmene ser det")
    else:
        parts.append("/personvern – hvordan KS behandler opplysningene")
    return OutgoingMessage(text="\n".join(parts))


def staff_welcome(name: str, role: str) -> OutgoingMessage:
    """A chat was bound with a staff code, or /start in a staff member's chat."""
    return OutgoingMessage(
        text=(
            f"Hei, {name}! Denne chatten er koblet til KS-kontoen din "
            f"({ROLE_NB.get(role, role)}). Her kan du følge rundene, se utkast slik "
            "medlemmene får dem og logge inn i arbeidsflaten med /logginn.\n\n"
            "Skriv /hjelp for å se kommandoene dine."
        )
    )


def staff_only() -> OutgoingMessage:
    """Text or a member command in a chat that belongs to a staff member only."""
    return OutgoingMessage(
        text=(
            "Denne chatten er koblet til KS-kontoen din, ikke til en kontaktperson for et "
            "medlem, så her er det ingen undersøkelse å svare på. "
            "Skriv /hjelp for å se kommandoene dine."
        )
    )


def login_link(url: str, expires: str) -> OutgoingMessage:
    """/logginn: a single-use link to the workspace."""
    return OutgoingMessage(
        text=(
            f"Her er lenken som logger deg inn i arbeidsflaten:\n{url}\n\n"
            f"Den kan brukes én gang og gjelder til {expires}. Ikke del den med andre."
        )
    )


def no_workspace() -> OutgoingMessage:
    """/logginn where no workspace address is known."""
    return OutgoingMessage(
        text="Arbeidsflaten er ikke satt opp på denne serveren. Spør den som drifter Lyttepost."
    )


def refused() -> OutgoingMessage:
    """Someone without a staff account, or without the role, tried a staff command."""
    return OutgoingMessage(
        text=(
            "Beklager, den kommandoen er bare for administratorer i KS. "
            "Skriv /hjelp for å se hva du kan gjøre."
        )
    )


def confirm_cancel(round_id: int, title: str, invited: int) -> OutgoingMessage:
    """Cancelling is final: ask first."""
    told = {
        0: "Ingen har fått invitasjon ennå.",
        1: "Den ene som har fått invitasjon, får beskjed.",
    }.get(invited, f"De {nb_number(invited)} som har fått invitasjon, får beskjed.")
    return OutgoingMessage(
        text=(
            f"Vil du avlyse runde {round_id} «{title}»? Invitasjoner og påminnelser som ikke "
            f"er sendt, trekkes tilbake. {told} Dette kan ikke angres."
        ),
        buttons=(
            (
                Button(label="Ja, avlys runden", payload=f"{CANCEL_PREFIX}{round_id}"),
                Button(label="Nei, behold den", payload=KEEP_PAYLOAD),
            ),
        ),
    )


def confirm_close(
    round_id: int, title: str, closes: str, submitted: int, unfinished: int
) -> OutgoingMessage:
    """Closing before the deadline is final: say what happens, and to how many, and ask."""
    if unfinished == 1:
        started = (
            "Ett påbegynt svar blir tatt vare på og merket som ufullstendig, og den som "
            "begynte på det, får beskjed."
        )
    elif unfinished:
        started = (
            f"{nb_number(unfinished)} påbegynte svar blir tatt vare på og merket som "
            "ufullstendige, og de som begynte på dem, får beskjed."
        )
    else:
        started = "Ingen har påbegynte svar som ikke er sendt inn."
    return OutgoingMessage(
        text=(
            f"Vil du stenge runde {round_id} «{title}» nå, før fristen {closes}? "
            f"{antall(submitted, 'organisasjon', 'organisasjoner')} har sendt inn. {started} "
            "Invitasjoner og påminnelser som ikke er sendt, trekkes tilbake, og ingen kan "
            "svare etterpå. Dette kan ikke angres."
        ),
        buttons=(
            (
                Button(label="Ja, steng runden", payload=f"{CLOSE_PREFIX}{round_id}"),
                Button(label="Nei, la den være åpen", payload=KEEP_PAYLOAD),
            ),
        ),
    )


def confirm_publish(
    publication_id: int,
    title: str,
    who: str,
    reachable: int,
    organisations: int,
    unreachable: int,
    segment: str,
) -> OutgoingMessage:
    """Publishing reaches many: say how many, and ask first."""
    return OutgoingMessage(
        text=(
            f"Sende «{title}» til {who}? Det går til "
            f"{antall(reachable, 'kontaktperson', 'kontaktpersoner')} i "
            f"{antall(organisations, 'organisasjon', 'organisasjoner')}; "
            f"{nb_number(unreachable)} kan ikke nås i chat."
        ),
        buttons=(
            (
                Button(
                    label=f"Ja, send til {reachable}",
                    payload=f"{PUBLISH_PREFIX}{publication_id}:{segment}"[:64],
                ),
                Button(label="Nei, ikke nå", payload=KEEP_PAYLOAD),
            ),
        ),
    )


def parse_publish_payload(payload: str) -> tuple[int, str] | None:
    """(publication id, segment) of a confirmed publish button, or None."""
    if not payload.startswith(PUBLISH_PREFIX):
        return None
    number, _, segment = payload[len(PUBLISH_PREFIX) :].partition(":")
    return (int(number), segment) if number.isdigit() and len(number) < 10 and segment else None


def parse_cancel_payload(payload: str) -> int | None:
    """The round id of a confirmed cancel button, or None."""
    return _round_in(payload, CANCEL_PREFIX)


def parse_close_payload(payload: str) -> int | None:
    """The round id of a confirmed close button, or None."""
    return _round_in(payload, CLOSE_PREFIX)


def _round_in(payload: str, prefix: str) -> int | None:
    if not payload.startswith(prefix):
        return None
    rest = payload[len(prefix) :]
    return int(rest) if rest.isdigit() and len(rest) < 10 else None


def kept() -> OutgoingMessage:
    """The admin chose not to go ahead."""
    return OutgoingMessage(text="Greit, da lar vi det være.")


def done(text: str) -> OutgoingMessage:
    """The outcome of an admin action."""
    return OutgoingMessage(text=text)

"""Slash commands, parsed the same way on every channel, and the one list of them.

``COMMANDS`` is the single source: the command sets the conversation dispatches on, the
staff commands of ``dialogs/admin.py``, Telegram's command menus (``setMyCommands``) and
the Teams manifest's command list are all read from it, so they cannot drift apart.
Adding a command is one ``MenuCommand`` entry (and its handling in the conversation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from dialogs.events import ControlName
from dialogs.i18n import t

Audience = Literal["member", "staff"]

# What each platform accepts (Telegram: 1-32 of [a-z0-9_], descriptions 1-256, 100 commands
# per menu; Teams: titles up to 32, descriptions up to 128, 10 commands per list).
TELEGRAM_MAX_COMMANDS = 100
TEAMS_MAX_COMMANDS = 10
MAX_DESCRIPTION = 128  # the stricter of the two (Teams), so one text fits both, in every language


@dataclass(frozen=True)
class MenuCommand:
    """One command: its name, the line menus show, and what it does.

    ``description``: members' commands read theirs from the catalogue (``commands.<name>``
    in domain ``commands``), so ``describe()`` gives it in the active language; staff's
    are plain bokmål, as the staff workspace and staff's help (``/adminhjelp``) are.
    ``does`` is the meaning the conversation dispatches on (``answer``, ``status``, an
    engine control such as ``back``, or a staff action such as ``list``); ``aliases`` are
    other names typed to the same effect, never shown in a menu; ``menu``: shown in menus
    and help at all; ``teams``: also in the Teams manifest's list (Teams shows ten at
    most, so a rarely used command may stay out of it).
    """

    name: str
    description: str | Callable[[], str]
    does: str
    audience: Audience = "member"
    aliases: tuple[str, ...] = ()
    menu: bool = True
    teams: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def describe(self) -> str:
        """The line a menu shows, in the language being spoken (``dialogs.i18n.speaking``)."""
        return self.description() if callable(self.description) else self.description


def describe(command: MenuCommand) -> str:
    """``command``'s menu line in the active language (``MenuCommand.describe``)."""
    return command.describe()


CONTROLS: tuple[ControlName, ...] = ("back", "pause", "review", "submit", "skip")

# In menu order: members' first, as they use them, then staff's. Members' lines are in the
# catalogue (dialogs/locale/*/LC_MESSAGES/commands.po), staff's stay bokmål.
COMMANDS: tuple[MenuCommand, ...] = (
    MenuCommand("start", lambda: t("commands.start"), "start"),
    MenuCommand("svar", lambda: t("commands.svar"), "answer", aliases=("answer", "fortsett")),
    MenuCommand("status", lambda: t("commands.status"), "status"),
    MenuCommand("deleger", lambda: t("commands.deleger"), "delegate", aliases=("delegate",)),
    MenuCommand("kobling", lambda: t("commands.kobling"), "link", aliases=("link",)),
    # Navigation is on every question's buttons («Tilbake», «Pause», «Send inn»); Teams'
    # list (ten at most) leaves these out.
    MenuCommand("tilbake", lambda: t("commands.tilbake"), "back", aliases=("back",), teams=False),
    MenuCommand("oversikt", lambda: t("commands.oversikt"), "review", aliases=("review",)),
    MenuCommand("pause", lambda: t("commands.pause"), "pause", teams=False),
    MenuCommand("send", lambda: t("commands.send"), "submit", aliases=("submit",), teams=False),
    MenuCommand("arshjul", lambda: t("commands.arshjul"), "wheel", aliases=("årshjul", "aarshjul")),
    MenuCommand("tiltak", lambda: t("commands.tiltak"), "actions", aliases=("actions",)),
    MenuCommand("personvern", lambda: t("commands.personvern"), "privacy", aliases=("privacy",)),
    # Teams' list is full (ten): /sprak is typed there, and offered after registration.
    MenuCommand("sprak", lambda: t("commands.sprak"), "language", aliases=("språk", "language"), teams=False),
    MenuCommand("hjelp", lambda: t("commands.hjelp"), "help", aliases=("help",)),
    # Typed all the same, but offered as a button, so no menu shows it.
    MenuCommand("hopp", lambda: t("commands.hopp"), "skip", aliases=("skip",), menu=False),
    MenuCommand("runder", "Alle runder med status og svar", "list", "staff"),
    MenuCommand("rundestatus", "Svarprosent for en runde: /rundestatus RUNDE", "status", "staff"),
    MenuCommand("flytt", "Flytt åpningen av en planlagt runde: /flytt RUNDE DATO", "reschedule", "staff"),
    MenuCommand("frist", "Ny svarfrist: /frist RUNDE DATO", "deadline", "staff"),
    MenuCommand("pauserunde", "Stopp invitasjoner og påminnelser midlertidig", "pause", "staff"),
    MenuCommand("fortsettrunde", "Gjenoppta en runde på pause", "resume", "staff"),
    MenuCommand("lukk", "Steng en åpen runde før fristen", "close", "staff"),
    MenuCommand("avlys", "Avlys en runde", "cancel", "staff"),
    MenuCommand("rapport", "Utkast til oppsummering av en stengt runde", "report", "staff"),
    MenuCommand("forhandsvis", "Se et utkast slik medlemmene får det", "preview", "staff"),
    MenuCommand("rediger", "Bytt ut teksten i et utkast", "edit", "staff"),
    MenuCommand("publiser", "Send et utkast til medlemmene", "publish", "staff"),
    MenuCommand("kunngjoring", "Utkast til melding om hva KS gjør med innspillene", "notice", "staff"),
    MenuCommand("melding", "Utkast til melding til alle eller et utvalg", "broadcast", "staff"),
    MenuCommand("logginn", "Lenke som logger deg inn i arbeidsflaten", "login", "staff"),
    MenuCommand("adminhjelp", "Kommandoene for KS-ansatte", "help", "staff"),
)  # fmt: skip


def names_doing(does: str, audience: Audience = "member") -> frozenset[str]:
    """Every name (aliases too) of the commands that do ``does`` for ``audience``."""
    return frozenset(
        name for c in COMMANDS if c.does == does and c.audience == audience for name in c.names
    )


def menu_commands(audience: Audience) -> tuple[MenuCommand, ...]:
    """The commands a menu shows for ``audience``, in order."""
    return tuple(c for c in COMMANDS if c.audience == audience and c.menu)


def teams_commands() -> tuple[MenuCommand, ...]:
    """The Teams manifest's list: members' commands (a manifest cannot show staff's to
    staff only; they find theirs with /adminhjelp)."""
    return tuple(c for c in menu_commands("member") if c.teams)


# Typed navigation commands and the engine control each one means.
CONTROL_COMMANDS: dict[str, ControlName] = {
    name: control for control in CONTROLS for name in sorted(names_doing(control))
}
START_COMMANDS = names_doing("start")
ANSWER_COMMANDS = names_doing("answer")
STATUS_COMMANDS = names_doing("status")
HELP_COMMANDS = names_doing("help")
WHEEL_COMMANDS = names_doing("wheel")
ACTIONS_COMMANDS = names_doing("actions")  # KS's actions linked to the organisation's needs
PRIVACY_COMMANDS = names_doing("privacy")
DELEGATE_COMMANDS = names_doing("delegate")  # a colleague answers on the organisation's behalf
LINK_COMMANDS = names_doing("link")  # bind a chat on the other channel to the same contact
LANGUAGE_COMMANDS = names_doing("language")  # the contact's own language (services/language_choice)
MEMBER_COMMANDS = frozenset(name for c in COMMANDS if c.audience == "member" for name in c.names)
STAFF_COMMANDS: dict[str, str] = {c.name: c.does for c in COMMANDS if c.audience == "staff"}


@dataclass(frozen=True)
class Command:
    """A parsed ``/name argument`` (name lower-cased, ``@botname`` suffix removed)."""

    name: str
    argument: str


def parse_command(text: str) -> Command | None:
    """The command in a message, or None if it is not one."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, argument = stripped[1:].partition(" ")
    head = head.split("\n", 1)[0]
    name = head.split("@", 1)[0].lower()
    if not name or not all(ch.isalnum() or ch == "_" for ch in name):
        return None
    return Command(name=name, argument=argument.strip())


# Control buttons and the command that does the same, for channels that show
# commands instead of buttons (the console).
COMMAND_FOR_CONTROL_PAYLOAD: dict[str, str] = {
    "c:back": "tilbake",
    "c:skip": "hopp",
    "c:pause": "pause",
    "c:review": "oversikt",
    "c:submit": "send",
}

"""Slash commands members can type, parsed the same way on every channel."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.events import ControlName

# Typed navigation commands and the engine control each one means.
CONTROL_COMMANDS: dict[str, ControlName] = {
    "tilbake": "back",
    "back": "back",
    "pause": "pause",
    "oversikt": "review",
    "review": "review",
    "send": "submit",
    "submit": "submit",
    "hopp": "skip",
    "skip": "skip",
}
START_COMMANDS = {"start"}
ANSWER_COMMANDS = {"svar", "answer", "fortsett"}
STATUS_COMMANDS = {"status"}
HELP_COMMANDS = {"hjelp", "help"}
WHEEL_COMMANDS = {"arshjul", "årshjul", "aarshjul"}
PRIVACY_COMMANDS = {"personvern", "privacy"}
DELEGATE_COMMANDS = {"deleger", "delegate"}  # a colleague answers on the organisation's behalf
LINK_COMMANDS = {"kobling", "link"}  # bind a chat on the other channel to the same contact
MEMBER_COMMANDS = frozenset(
    {*START_COMMANDS, *ANSWER_COMMANDS, *STATUS_COMMANDS, *HELP_COMMANDS, *WHEEL_COMMANDS,
     *PRIVACY_COMMANDS, *CONTROL_COMMANDS, *DELEGATE_COMMANDS, *LINK_COMMANDS}
)  # fmt: skip


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

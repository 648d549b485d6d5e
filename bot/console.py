"""The console channel: the same conversation in a terminal, for local use and demos.

Answer buttons are shown as numbers (type the number to press); control buttons are
shown as the command that does the same (``/tilbake``), so numbers typed as answers
to number questions are never mistaken for a button. The console chat is bound to a
contact directly (the operator chose who to be), so no code is needed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from dialogs.commands import COMMAND_FOR_CONTROL_PAYLOAD
from dialogs.messages import Button, OutgoingMessage

CHANNEL = "console"


def _answer_rows(message: OutgoingMessage) -> list[tuple[str | None, list[Button]]]:
    """Each button row as (its label, if a matrix row, and the buttons to number)."""
    rows: list[tuple[str | None, list[Button]]] = []
    for index, row in enumerate(message.buttons):
        label = None
        if index in message.labelled_rows and len(row) > 1:
            label, row = row[0].label, row[1:]
        rows.append((label, list(row)))
    return rows


def _numbered(message: OutgoingMessage) -> list[Button]:
    return [
        b
        for _, row in _answer_rows(message)
        for b in row
        if b.payload not in COMMAND_FOR_CONTROL_PAYLOAD
    ]


@dataclass
class ConsoleTransport:
    """Prints messages; remembers the numbered buttons last shown."""

    write: Callable[[str], None] = print
    channel: str = CHANNEL
    buttons: list[Button] = field(default_factory=list)
    last_message: OutgoingMessage | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def deliver(self, address: str, message: OutgoingMessage, replace_id: str | None) -> str:
        if message.edit_only:  # a terminal cannot edit: only the answer, on one line
            self.write("   " + message.text.rsplit("\n", 1)[-1])
            return replace_id or ""
        self.write(render(message))
        self.last_message = message
        if message.buttons:
            self.buttons = _numbered(message)
        return str(next(self._ids))

    def press_for(self, typed: str) -> str | None:
        """The payload of the button numbered ``typed``, if it is such a number."""
        text = typed.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            return self.buttons[int(text) - 1].payload
        return None


def render(message: OutgoingMessage) -> str:
    """A message as terminal text: numbered answer buttons, control buttons as commands."""
    lines = ["", message.text]
    number = 1
    commands = []
    for label, row in _answer_rows(message):
        shown = [f"{label}:"] if label else []
        for button in row:
            command = COMMAND_FOR_CONTROL_PAYLOAD.get(button.payload)
            if command is not None:
                commands.append(f"/{command}")
                continue
            shown.append(f"[{number}] {button.label}")
            number += 1
        if shown and shown != [f"{label}:"]:
            lines.append("   ".join(shown))
    if commands:
        lines.append("   " + "   ".join(commands))
    for attachment in message.attachments:
        lines.append(f"(vedlegg: {attachment.filename})")
    return "\n".join(lines)

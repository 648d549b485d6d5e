"""Channel-neutral outgoing messages.

The engine and the services produce these; each channel adapter renders them
(inline keyboards on Telegram, cards on Teams, numbered options in the console).
They are plain, JSON-serialisable data because they wait in the outbox.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

_FROZEN = ConfigDict(frozen=True, extra="forbid")

# Button payloads travel as Telegram callback_data, which is limited to 64 bytes.
MAX_PAYLOAD_BYTES = 64


class Button(BaseModel):
    """A button the member can press; ``payload`` comes back as a ``Press`` event."""

    model_config = _FROZEN

    label: str
    payload: str


class Attachment(BaseModel):
    """A file to send with a message (charts, reports); ``path`` is on the sender's disk."""

    model_config = _FROZEN

    kind: Literal["photo", "document"]
    path: str
    filename: str
    caption: str | None = None


class OutgoingMessage(BaseModel):
    """One message to a member.

    ``key`` names the message so that a later message can ``replaces`` it (for example
    the toggled state of a multiple-choice question): the channel edits the earlier
    message where it can, and sends a new one where it cannot.
    Text is plain text: channels must not interpret it as markup.
    """

    model_config = _FROZEN

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    key: str | None = None
    replaces: str | None = None
    attachments: tuple[Attachment, ...] = ()

    def all_buttons(self) -> list[Button]:
        """Buttons in reading order, for channels that number them."""
        return [button for row in self.buttons for button in row]

"""Channel-neutral outgoing messages.

The engine and the services produce these; each channel adapter renders them
(inline keyboards on Telegram, cards on Teams, numbered options in the console).
They are plain, JSON-serialisable data because they wait in the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """A file to send (a chart, a report), stored in the database under ``file_id``."""

    model_config = _FROZEN

    kind: Literal["photo", "document"]
    file_id: int
    filename: str
    caption: str | None = None


class OutgoingMessage(BaseModel):
    """One message to a member.

    ``key`` names the message so that a later message can ``replaces`` it (for example
    the toggled state of a multiple-choice question): the channel edits the earlier
    message where it can, and sends a new one where it cannot. An ``edit_only`` message
    (an answered question losing its buttons) is never sent as a new message: if the
    earlier one is unknown or cannot be edited, it is dropped, since a copy would only
    make the member scroll.
    Text is plain text: channels must not interpret it as markup.
    ``labelled_rows`` is a layout hint: in these button rows (indexes) the first button
    is the row's label (a matrix row), which a channel may show as a heading instead.
    """

    model_config = _FROZEN

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    key: str | None = None
    replaces: str | None = None
    edit_only: bool = False
    attachments: tuple[Attachment, ...] = ()
    labelled_rows: tuple[int, ...] = ()

    def all_buttons(self) -> list[Button]:
        """Buttons in reading order, for channels that number them."""
        return [button for row in self.buttons for button in row]


@dataclass(frozen=True)
class ChannelLimits:
    """How much one platform call can carry."""

    text: int
    caption: int


# Telegram: 4096 characters of text, 1024 of caption. Teams allows far more; the
# console has no limit worth naming.
CHANNEL_LIMITS = {
    "telegram": ChannelLimits(text=4096, caption=1024),
    "teams": ChannelLimits(text=20_000, caption=20_000),
}
DEFAULT_LIMITS = ChannelLimits(text=4096, caption=1024)


def split_text(text: str, limit: int) -> list[str]:
    """Split long text at paragraph, line or word boundaries (mid-word only as a last resort)."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), 0)
        if cut < limit // 2:
            cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return [part for part in parts if part]


def one_call_each(message: OutgoingMessage, channel: str) -> list[OutgoingMessage]:
    """The message as parts that each take exactly one platform call, in order.

    Long text is split (buttons, ``key`` and ``replaces`` stay with the last part); each
    attachment becomes its own part, and a caption too long for the channel goes as
    text before its file. The outbox stores parts, so pacing counts every call, photos
    and documents included.
    """
    limits = CHANNEL_LIMITS.get(channel, DEFAULT_LIMITS)
    if message.edit_only:  # an edit is one call; a second part would be a new message
        return [message.model_copy(update={"text": message.text[: limits.text]})]
    parts: list[OutgoingMessage] = []
    if message.text or not message.attachments:
        chunks = split_text(message.text, limits.text)
        for chunk in chunks[:-1]:
            parts.append(OutgoingMessage(text=chunk))
        parts.append(message.model_copy(update={"text": chunks[-1], "attachments": ()}))
    for attachment in message.attachments:
        caption = attachment.caption
        if caption is not None and len(caption) > limits.caption:
            parts.extend(OutgoingMessage(text=chunk) for chunk in split_text(caption, limits.text))
            caption = None
        parts.append(
            OutgoingMessage(
                text="", attachments=(attachment.model_copy(update={"caption": caption}),)
            )
        )
    return parts

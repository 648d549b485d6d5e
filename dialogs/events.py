"""Channel-neutral inbound events the engine understands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ControlName = Literal["back", "skip", "pause", "review", "submit"]


@dataclass(frozen=True)
class Begin:
    """Start the survey, or resume it where the member left off."""


@dataclass(frozen=True)
class TextEntered:
    """Free text typed by the member (not a command)."""

    text: str


@dataclass(frozen=True)
class Pressed:
    """A button press carrying the button's payload."""

    payload: str


@dataclass(frozen=True)
class Control:
    """A navigation command typed by the member (``/tilbake``, ``/pause`` ...)."""

    name: ControlName


@dataclass(frozen=True)
class RoundClosed:
    """The round closed before the member submitted."""


@dataclass(frozen=True)
class Reopen:
    """Open a submitted response again to change it, while its round is open."""


Event = Begin | TextEntered | Pressed | Control | RoundClosed | Reopen

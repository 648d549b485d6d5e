"""The state of one member's response, as the engine sees it.

Plain data that round-trips through JSON, because it is stored in the database
after every step and must survive a crash or a restart days later.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dialogs.model import AnswerValue

Phase = Literal[
    "not_started",  # created, nothing asked yet
    "answering",  # ``current`` is the question on screen
    "reviewing",  # the overview of all answers is on screen, with submit
    "paused",  # the member paused; ``current`` is where they resume
    "submitted",  # sent in; changed only by reopening it while the round is open
    "closed",  # the round closed before submission; answers kept as incomplete
]


class ResponseState(BaseModel):
    """Where a member is in a survey and what they have answered."""

    model_config = ConfigDict(extra="forbid")

    phase: Phase = "not_started"
    current: str | None = None
    answers: dict[str, AnswerValue] = Field(default_factory=dict)
    history: list[str] = Field(default_factory=list)
    selection: list[str] = Field(default_factory=list)  # multi: ticked; ranking: picked, in order
    grid: dict[str, int] = Field(default_factory=dict)  # matrix: the rows answered so far
    editing: bool = False
    paused_from: Literal["answering", "reviewing"] | None = None
    # A submitted response opened again for changes: the services keep the submitted
    # version in force (reports, counts) until this one is sent in again.
    reopened: bool = False
    # Last round's answers to the same survey (filled when the response is created), and
    # the questions the member confirmed as "still true" from them.
    previous: dict[str, AnswerValue] = Field(default_factory=dict)
    kept: list[str] = Field(default_factory=list)

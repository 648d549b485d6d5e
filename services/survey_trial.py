"""Trying a survey before it is registered: one step of the real engine, with the state
carried by the caller (the workspace keeps it in the page), nothing stored.

It is the engine members meet (``dialogs.engine.step``), fed the events a chat would
give it: typed text, a pressed button, or a typed navigation command (/tilbake ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from dialogs import i18n
from dialogs.commands import CONTROL_COMMANDS, parse_command
from dialogs.definition import SurveyDefinitionError, load_survey_text
from dialogs.engine import StepContext, step
from dialogs.events import Begin, Control, Event, Pressed, TextEntered
from dialogs.messages import OutgoingMessage
from dialogs.state import ResponseState

MAX_STATE_CHARS = 200_000


@dataclass(frozen=True)
class TrialStep:
    """The replies a member would get, and the state to carry to the next step."""

    messages: list[OutgoingMessage]
    state: str  # ResponseState as JSON
    submitted: bool
    restarted: bool = False  # the carried state was unusable: the trial began again


def event_for(*, text: str | None, pressed: str | None) -> Event:
    """What a chat would make of the input: a button, a command, or text."""
    if pressed:
        return Pressed(pressed[:200])
    if text is not None and text.strip():
        command = parse_command(text)
        if command is not None and command.name in CONTROL_COMMANDS:
            return Control(CONTROL_COMMANDS[command.name])
        return TextEntered(text)
    return Begin()


def trial_step(
    definition: str,
    state_json: str,
    event: Event,
    *,
    tester: str,
    org_name: str = "Prøvekommune",
    language: str | None = None,
) -> TrialStep:
    """One step of ``definition`` (YAML, as stored); ``SurveyDefinitionError`` if it does
    not compile. A missing or broken state starts the survey from the beginning. The
    survey speaks ``language`` (default: the language spoken now), as a member reading it
    would meet it: its texts in that language, each falling back to bokmål."""
    speaks = language or i18n.language()
    survey = load_survey_text(definition, "prøve").in_language(speaks)
    restarted = False
    state = ResponseState()
    if state_json:
        try:
            if len(state_json) > MAX_STATE_CHARS:
                raise ValueError("too long")
            state = ResponseState.model_validate_json(state_json)
        except (ValidationError, ValueError):
            state, event, restarted = ResponseState(), Begin(), True
    context = StepContext(
        org_name=org_name, contact_name=tester, closes="om to uker (prøve)", language=speaks
    )
    result = step(survey, state, event, context)
    return TrialStep(result.messages, result.state.model_dump_json(), result.submitted, restarted)


__all__ = ["SurveyDefinitionError", "TrialStep", "event_for", "trial_step"]

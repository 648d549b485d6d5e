"""Small surveys and helpers for the engine tests, built directly from the model."""

from __future__ import annotations

from collections.abc import Sequence

from dialogs.engine import StepContext, StepResult, step
from dialogs.events import Begin, Control, ControlName, Event, Pressed, TextEntered
from dialogs.messages import OutgoingMessage
from dialogs.model import Condition, Option, Question, Survey
from dialogs.state import ResponseState

CONTEXT = StepContext(
    org_name="Drammen kommune", contact_name="Kari Nordmann", closes="15. desember 2026"
)

AREAS = (
    Option(value="helse", label="Helse og omsorg"),
    Option(value="skole", label="Skole"),
    Option(value="klima", label="Klima og miljø"),
    Option(value="digital", label="Digitalisering"),
)


def _why(area: str, label: str) -> Question:
    return Question(
        id=f"why_{area}",
        type="text",
        text=f"Hva trenger {{org_name}} mest innen {label.lower()}?",
        label=f"Behov: {label}",
        when=Condition(question="areas", includes=area),
        max_length=300,
        group=area,
        template="why",
    )


def full_survey() -> Survey:
    """Every question type, follow-ups per area and a yes/no branch."""
    return Survey(
        key="kvartal",
        version=1,
        title="Kvartalsvis behov",
        intro="Hei {contact_name}! Dette er kvartalsundersøkelsen for {org_name}. Frist: {closes}. {ukjent} blir stående.",
        receipt="Takk! Svaret for {org_name} er sendt inn.",
        questions=(
            Question(
                id="areas",
                type="multi",
                text="Hvilke områder er viktigst for {org_name} nå?",
                label="Prioriterte områder",
                options=AREAS,
                min_select=1,
                max_select=3,
            ),
            _why("helse", "Helse og omsorg"),
            _why("skole", "Skole"),
            Question(
                id="urgency",
                type="scale",
                text="Hvor presserende er behovene?",
                scale_min_label="lite",
                scale_max_label="svært",
            ),
            Question(id="help", type="yesno", text="Trenger dere hjelp fra KS?"),
            Question(
                id="help_kind",
                type="single",
                text="Hva slags hjelp?",
                when=Condition(question="help", equals=True),
                options=(
                    Option(value="rad", label="Råd"),
                    Option(value="kurs", label="Kurs"),
                    Option(value="penger", label="Økonomisk støtte"),
                ),
            ),
            Question(
                id="staff",
                type="number",
                text="Hvor mange årsverk jobber med dette?",
                number_min=0,
                number_max=100000,
                unit="årsverk",
                required=False,
            ),
            Question(
                id="share",
                type="number",
                text="Hvor stor andel av budsjettet går til dette?",
                number_min=0,
                number_max=100,
                integer=False,
                unit="%",
                required=False,
            ),
            Question(
                id="comment",
                type="text",
                text="Noe mer du vil si?",
                help="Skriv gjerne kort. {ikke_et_felt} står som det er.",
                max_length=800,
                required=False,
            ),
        ),
    )


def variants_survey() -> Survey:
    """The less common settings: optional multi, wide scale, open numbers, long minimums."""
    return Survey(
        key="varianter",
        version=2,
        title="Varianter",
        intro="Hei {contact_name}.",
        receipt="Takk, {contact_name}!",
        questions=(
            Question(
                id="tools",
                type="multi",
                text="Hvilke verktøy bruker dere?",
                options=AREAS,
                min_select=0,
                required=False,
            ),
            Question(
                id="score",
                type="scale",
                text="Hvor fornøyd er dere?",
                scale_min=0,
                scale_max=10,
                scale_max_label="svært",
            ),
            Question(
                id="low",
                type="text",
                text="Hvorfor så lavt?",
                min_length=10,
                max_length=500,
                when=Condition(question="score", at_most=4),
            ),
            Question(
                id="budget",
                type="number",
                text="Budsjett i kroner?",
                integer=False,
                unit="kr",
                when=Condition(
                    any=[
                        Condition(question="tools", includes="digital"),
                        Condition(not_=Condition(question="tools", answered=True)),
                    ]
                ),
            ),
            Question(
                id="pick",
                type="single",
                text="Velg en",
                options=(Option(value="1", label="2"), Option(value="x", label="Én")),
                required=False,
            ),
        ),
    )


def one_question_survey(question: Question) -> Survey:
    """A survey with a single question, for testing one type in isolation."""
    return Survey(
        key="en",
        version=1,
        title="Ett spørsmål",
        intro="Hei!",
        receipt="Takk for svaret!",
        questions=(question,),
    )


def begun(survey: Survey) -> ResponseState:
    """The state right after Begin."""
    return step(survey, ResponseState(), Begin(), CONTEXT).state


def press(payload: str) -> Pressed:
    return Pressed(payload)


def say(text: str) -> TextEntered:
    return TextEntered(text)


def control(name: ControlName) -> Control:
    return Control(name)


def run(
    survey: Survey, events: Sequence[Event], state: ResponseState | None = None
) -> tuple[ResponseState, list[StepResult]]:
    """Apply events in order; returns the final state and every result."""
    current = state if state is not None else ResponseState()
    results = []
    for event in events:
        result = step(survey, current, event, CONTEXT)
        results.append(result)
        current = result.state
    return current, results


def last(result: StepResult) -> OutgoingMessage:
    """The last message of a step."""
    assert result.messages, "the engine always answers"
    return result.messages[-1]


def payloads(message: OutgoingMessage) -> list[str]:
    """Every button payload of a message, in reading order."""
    return [button.payload for button in message.all_buttons()]


def labels(message: OutgoingMessage) -> list[str]:
    """Every button label of a message, in reading order."""
    return [button.label for button in message.all_buttons()]

"""The conversation engine, exhaustively: every question type, navigation and phase."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import pytest

from dialogs import texts
from dialogs.engine import (
    StepResult,
    is_engine_payload,
    parse_number,
    step,
)
from dialogs.events import Begin, Control, Event, Pressed, RoundClosed, TextEntered
from dialogs.messages import MAX_PAYLOAD_BYTES, OutgoingMessage
from dialogs.model import Question, Survey
from dialogs.render import fill
from dialogs.state import ResponseState
from tests.engine_fixtures import (
    CONTEXT,
    begun,
    control,
    full_survey,
    labels,
    last,
    one_question_survey,
    payloads,
    press,
    run,
    say,
    variants_survey,
)

SURVEY = full_survey()

# A complete walk: helse only, help yes, comment skipped.
WALK: list[Event] = [
    Begin(),
    press("t:areas:helse"),
    press("n:areas"),
    say("Flere sykepleiere"),
    press("a:urgency:4"),
    press("a:help:ja"),
    press("a:help_kind:kurs"),
    say("1 000"),
    say("12,5"),
    control("skip"),
]


def reviewing() -> ResponseState:
    """The full survey answered, with the review on screen."""
    state, _ = run(SURVEY, WALK)
    assert state.phase == "reviewing"
    return state


def at(question_id: str) -> ResponseState:
    """Walk the standard answers until ``question_id`` is on screen."""
    state = ResponseState()
    for event in WALK:
        state = step(SURVEY, state, event, CONTEXT).state
        if state.current == question_id and state.phase == "answering":
            return state
    raise AssertionError(f"never reached {question_id}")


def act(state: ResponseState, event: Event, survey: Survey = SURVEY) -> StepResult:
    return step(survey, state, event, CONTEXT)


def assert_unchanged(before: ResponseState, result: StepResult) -> None:
    """Invalid input: state as it was, and one reply explaining why."""
    assert result.state == before
    assert len(result.messages) == 1
    assert result.messages[0].text
    assert not result.submitted


def problem(result: StepResult) -> str:
    """The complaint in the first reply, which must also ask the question again, buttons and
    all, so a member who reads only the last message never has to scroll up."""
    message = result.messages[0]
    complaint, _, question = message.text.partition("\n\n")
    assert question and message.buttons, f"the question is not asked again: {message.text!r}"
    return complaint


def transcript(
    survey: Survey, steps: Sequence[tuple[Event, str]], state: ResponseState | None = None
) -> ResponseState:
    """Run (event, expected substring of the last message) pairs; returns the final state."""
    current = state if state is not None else ResponseState()
    for number, (event, expected) in enumerate(steps, start=1):
        result = step(survey, current, event, CONTEXT)
        message = last(result)
        text = "\n".join([message.text, *labels(message)])
        assert expected in text, f"step {number} ({event}): {expected!r} not in {text!r}"
        current = result.state
    return current


# -- payloads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("a:q:v", True),
        ("t:q:v", True),
        ("n:q", True),
        ("c:back", True),
        ("e:q", True),
        ("a:", True),
        ("r:12", False),
        ("x:1", True),
        ("k:q", True),
        ("z:1", False),
        ("a", False),
        ("", False),
        ("ab:c", False),
        ("A:q:v", False),
    ],
)
def test_is_engine_payload(payload: str, expected: bool) -> None:
    assert is_engine_payload(payload) is expected


def test_every_button_payload_is_ours_and_fits_telegram() -> None:
    state = ResponseState()
    seen: list[str] = []
    for event in WALK:
        result = act(state, event)
        state = result.state
        for message in result.messages:
            seen.extend(payloads(message))
    assert seen
    for payload in seen:
        assert is_engine_payload(payload)
        assert len(payload.encode()) <= MAX_PAYLOAD_BYTES


# -- begin and placeholders ------------------------------------------------------------


def test_begin_sends_the_intro_then_the_first_question() -> None:
    result = act(ResponseState(), Begin())
    intro, question = result.messages
    assert intro.text == (
        "Hei Kari Nordmann! Dette er kvartalsundersøkelsen for Drammen kommune. "
        "Frist: 15. desember 2026. {ukjent} blir stående."
    )
    assert not intro.buttons
    assert question.key == "q:areas"
    assert question.replaces is None
    assert question.text.startswith(
        "Spørsmål 1 · om lag 7 igjen\nHvilke områder er viktigst for Drammen kommune nå?"
    )
    assert result.state.phase == "answering"
    assert result.state.current == "areas"
    assert not result.submitted


def test_fill_touches_only_the_three_placeholders() -> None:
    text = "{org_name}/{contact_name}/{closes} {org} {ORG_NAME} { org_name } {{x}} {}"
    assert fill(text, CONTEXT) == (
        "Drammen kommune/Kari Nordmann/15. desember 2026 {org} {ORG_NAME} { org_name } {{x}} {}"
    )


def test_placeholder_values_are_not_refilled() -> None:
    context = type(CONTEXT)(org_name="{closes}", contact_name="\\1", closes="frist")
    assert fill("{org_name} {contact_name}", context) == "{closes} \\1"


def test_help_text_is_shown_and_filled_without_touching_other_braces() -> None:
    state = at("comment")
    message = act(state, Begin()).messages[-1]
    assert "Skriv gjerne kort. {ikke_et_felt} står som det er." in message.text


def test_begin_while_answering_resends_the_same_question() -> None:
    state = at("urgency")
    first = act(state, Begin())
    again = act(first.state, Begin())
    assert [m.text for m in first.messages] == [m.text for m in again.messages]
    assert first.messages[0].key == "q:urgency"
    assert first.state == state


def test_events_before_begin_start_the_survey() -> None:
    result = act(ResponseState(), say("hei"))
    assert result.state.phase == "answering"
    assert result.messages[-1].key == "q:areas"


def test_empty_survey_goes_straight_to_a_submittable_review() -> None:
    survey = Survey(key="tom", version=1, title="Tom", intro="Hei", receipt="Takk", questions=())
    result = act(ResponseState(), Begin(), survey)
    assert result.state.phase == "reviewing"
    assert "c:submit" in payloads(result.messages[-1])
    done = act(result.state, control("submit"), survey)
    assert done.submitted and done.state.phase == "submitted"


# -- question rendering ------------------------------------------------------------------


def test_single_question_has_one_option_per_row_and_controls_last() -> None:
    message = act(at("help_kind"), Begin()).messages[0]
    assert message.buttons[:3] == tuple(
        (b,)
        for b in message.all_buttons()[:3]  # one per row
    )
    assert payloads(message) == [
        "a:help_kind:rad",
        "a:help_kind:kurs",
        "a:help_kind:penger",
        "c:back",
        "c:pause",
    ]
    assert texts.HINT_SINGLE in message.text
    assert [b.label for b in message.buttons[-1]] == [texts.BACK_BUTTON, texts.PAUSE_BUTTON]


def test_scale_question_has_one_row_of_numbers_and_labels_in_the_hint() -> None:
    message = act(at("urgency"), Begin()).messages[0]
    assert [b.label for b in message.buttons[0]] == ["1", "2", "3", "4", "5"]
    assert "1 = lite, 5 = svært" in message.text


def test_wide_scale_is_split_over_rows() -> None:
    survey = one_question_survey(
        Question(id="s", type="scale", text="Hvor?", scale_min=0, scale_max=10)
    )
    message = act(ResponseState(), Begin(), survey).messages[-1]
    numbers = [b for row in message.buttons[:-1] for b in row]
    assert [b.label for b in numbers] == [str(n) for n in range(11)]
    assert all(len(row) <= 7 for row in message.buttons)
    assert "Velg fra 0 til 10." in message.text


def test_yesno_question_has_a_ja_nei_row() -> None:
    message = act(at("help"), Begin()).messages[0]
    assert [(b.label, b.payload) for b in message.buttons[0]] == [
        ("Ja", "a:help:ja"),
        ("Nei", "a:help:nei"),
    ]


def test_multi_question_shows_checkboxes_and_next() -> None:
    message = act(ResponseState(), Begin()).messages[-1]
    assert labels(message)[:5] == [
        "☐ Helse og omsorg",
        "☐ Skole",
        "☐ Klima og miljø",
        "☐ Digitalisering",
        texts.NEXT_BUTTON,
    ]
    assert payloads(message)[4] == "n:areas"
    assert "Velg 1–3, og trykk «Neste»." in message.text


def test_first_question_has_no_back_button_and_required_no_skip() -> None:
    message = act(ResponseState(), Begin()).messages[-1]
    assert "c:back" not in payloads(message)
    assert "c:skip" not in payloads(message)
    assert payloads(message)[-1] == "c:pause"


def test_optional_question_has_skip() -> None:
    message = act(at("staff"), Begin()).messages[0]
    assert payloads(message)[-3:] == ["c:back", "c:skip", "c:pause"]
    assert "Skriv et helt tall fra 0 til 100 000 årsverk." in message.text


def test_text_and_number_hints() -> None:
    assert "Skriv svaret ditt (maks 300 tegn)." in act(at("why_helse"), Begin()).messages[0].text
    assert "Skriv et tall fra 0 til 100 %." in act(at("share"), Begin()).messages[0].text
    assert texts.hint_text(20, 800) == "Skriv svaret ditt (minst 20 og maks 800 tegn)."
    assert texts.hint_number(None, None, True, None) == "Skriv et helt tall."
    assert texts.hint_number(0, None, False, "kr") == "Skriv et tall (minst 0 kr)."
    assert texts.hint_number(None, 9.5, False, None) == "Skriv et tall (høyst 9,5)."


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (1, 3, "Velg 1–3, og trykk «Neste»."),
        (2, 2, "Velg 2, og trykk «Neste»."),
        (1, None, "Velg ett eller flere, og trykk «Neste»."),
        (2, None, "Velg minst 2, og trykk «Neste»."),
        (0, None, "Velg de som passer, og trykk «Neste»."),
        (0, 2, "Velg inntil 2, og trykk «Neste»."),
    ],
)
def test_multi_hints(low: int, high: int | None, expected: str) -> None:
    assert texts.hint_multi(low, high) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (1000, "1000"),
        (10000, "10 000"),
        (-1234567, "-1 234 567"),
        (12.5, "12,5"),
        (100.0, "100"),
        (0.1, "0,1"),
        (1e20, "100 000 000 000 000 000 000"),
    ],
)
def test_nb_number(value: float, expected: str) -> None:
    assert texts.nb_number(value) == expected


def test_progress_shows_the_position_and_an_estimate_that_does_not_jump() -> None:
    state, results = run(SURVEY, WALK[:4])
    firsts = [r.messages[-1].text.split("\n", 1)[0] for r in results]
    # Before the areas are chosen, their follow-ups count as if three were chosen.
    assert firsts[0] == "Spørsmål 1 · om lag 7 igjen"
    assert firsts[2] == "Spørsmål 2 · om lag 5 igjen"  # helse only: one follow-up
    assert firsts[3] == "Spørsmål 3 · om lag 4 igjen"


# -- single choice ---------------------------------------------------------------------


def test_single_press_records_and_advances() -> None:
    result = act(at("help_kind"), press("a:help_kind:penger"))
    assert result.state.answers["help_kind"] == "penger"
    assert result.state.current == "staff"
    assert result.messages[-1].key == "q:staff"


@pytest.mark.parametrize("typed", ["2", "kurs", "KURS", "  Kurs. ", "«Kurs»"])
def test_single_typed_by_number_label_or_value(typed: str) -> None:
    assert act(at("help_kind"), say(typed)).state.answers["help_kind"] == "kurs"


def test_single_typed_label_with_special_letters() -> None:
    assert act(at("help_kind"), say("økonomisk STØTTE")).state.answers["help_kind"] == "penger"
    assert act(at("help_kind"), say("rad")).state.answers["help_kind"] == "rad"


@pytest.mark.parametrize("typed", ["0", "4", "-1", "banan", "", "   ", "²", "1 2", "x" * 100_000])
def test_single_typed_invalid(typed: str) -> None:
    state = at("help_kind")
    result = act(state, say(typed))
    assert_unchanged(state, result)
    assert problem(result) == texts.single_invalid(3)


def test_single_press_unknown_option() -> None:
    state = at("help_kind")
    result = act(state, press("a:help_kind:nope"))
    assert_unchanged(state, result)
    assert result.messages[0].text.startswith(texts.UNKNOWN_BUTTON)


# -- scale --------------------------------------------------------------------------------


@pytest.mark.parametrize(("payload", "expected"), [("a:urgency:1", 1), ("a:urgency:5", 5)])
def test_scale_press(payload: str, expected: int) -> None:
    result = act(at("urgency"), press(payload))
    assert result.state.answers["urgency"] == expected
    assert type(result.state.answers["urgency"]) is int


@pytest.mark.parametrize(
    "payload",
    [
        "a:urgency:0",
        "a:urgency:6",
        "a:urgency:x",
        "a:urgency:3.5",
        "a:urgency:-1",
        "a:urgency:99999999",
    ],
)
def test_scale_press_out_of_range(payload: str) -> None:
    state = at("urgency")
    assert_unchanged(state, act(state, press(payload)))


@pytest.mark.parametrize(("typed", "expected"), [("3", 3), (" 5 ", 5), ("1", 1)])
def test_scale_typed(typed: str, expected: int) -> None:
    assert act(at("urgency"), say(typed)).state.answers["urgency"] == expected


@pytest.mark.parametrize("typed", ["0", "6", "tre", "3.5", "3,5", "", "٣", "1" * 5000])
def test_scale_typed_invalid(typed: str) -> None:
    state = at("urgency")
    result = act(state, say(typed))
    assert_unchanged(state, result)
    assert problem(result) == "Svar med et tall fra 1 til 5."


def test_scale_from_zero() -> None:
    survey = one_question_survey(
        Question(id="s", type="scale", text="Hvor?", scale_min=0, scale_max=10)
    )
    state = begun(survey)
    assert act(state, say("0"), survey).state.answers["s"] == 0
    assert act(state, press("a:s:10"), survey).state.answers["s"] == 10


# -- yes/no -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (press("a:help:ja"), True),
        (press("a:help:nei"), False),
        (say("Ja"), True),
        (say("nei!"), False),
        (say("j"), True),
        (say("N"), False),
        (say("1"), True),
        (say("2"), False),
    ],
)
def test_yesno(event: Event, expected: bool) -> None:
    result = act(at("help"), event)
    assert result.state.answers["help"] is expected


@pytest.mark.parametrize(
    "event", [press("a:help:yes"), press("a:help:true"), say("kanskje"), say("3"), say("")]
)
def test_yesno_invalid(event: Event) -> None:
    state = at("help")
    assert_unchanged(state, act(state, event))


def test_yesno_branches() -> None:
    yes = act(at("help"), press("a:help:ja"))
    assert yes.state.current == "help_kind"
    no = act(at("help"), press("a:help:nei"))
    assert no.state.current == "staff"


# -- free text ----------------------------------------------------------------------------


def test_text_is_stripped_and_stored() -> None:
    result = act(at("why_helse"), say("  Flere fastleger.\n "))
    assert result.state.answers["why_helse"] == "Flere fastleger."


@pytest.mark.parametrize("typed", ["", "   ", "\n\t"])
def test_text_empty(typed: str) -> None:
    state = at("why_helse")
    result = act(state, say(typed))
    assert_unchanged(state, result)
    assert problem(result) == texts.TEXT_EMPTY


def test_text_at_the_limit_is_accepted() -> None:
    assert act(at("why_helse"), say("x" * 300)).state.answers["why_helse"] == "x" * 300


def test_text_too_long_says_length_and_limit() -> None:
    state = at("why_helse")
    result = act(state, say("x" * 301))
    assert_unchanged(state, result)
    assert "301 tegn" in result.messages[0].text and "maks 300 tegn" in result.messages[0].text


def test_oversized_text_is_refused_politely() -> None:
    state = at("why_helse")
    result = act(state, say("å" * 100_000))
    assert_unchanged(state, result)
    assert "100 000 tegn" in result.messages[0].text


def test_text_too_short() -> None:
    survey = one_question_survey(
        Question(id="t", type="text", text="Fortell", min_length=10, max_length=50)
    )
    state = begun(survey)
    result = act(state, say("  kort  "), survey)
    assert_unchanged(state, result)
    assert problem(result) == "Svaret ditt er 4 tegn. Skriv minst 10 tegn."
    assert act(state, say("akkurat ti"), survey).state.phase == "reviewing"


# -- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "integer", "expected"),
    [
        ("12", True, Decimal("12")),
        ("12,5", False, Decimal("12.5")),
        ("12.5", False, Decimal("12.5")),
        ("1 000", True, Decimal("1000")),
        ("1\u00a0000", True, Decimal("1000")),
        ("1.000", True, Decimal("1000")),
        ("1.000", False, Decimal("1.000")),
        ("1.000.000", False, Decimal("1000000")),
        ("1.234,5", False, Decimal("1234.5")),
        ("1,234.5", False, Decimal("1234.5")),
        ("-3", True, Decimal("-3")),
        ("\u22123", True, Decimal("-3")),
        ("+7", True, Decimal("7")),
        ("0", True, Decimal("0")),
        ("007", True, Decimal("7")),
    ],
)
def test_parse_number(typed: str, integer: bool, expected: Decimal) -> None:
    assert parse_number(typed, integer=integer) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        " ",
        "abc",
        "1e5",
        "nan",
        "inf",
        "-",
        "1,2,3",
        "1..2",
        ",5",
        "5,",
        "12 kr",
        "١٢",
        "1" * 41,
        "1.2.3",
        "1,000,00.5",
        "--3",
        "3-",
    ],
)
def test_parse_number_rejects(typed: str) -> None:
    assert parse_number(typed, integer=False) is None


def test_parse_number_strips_the_unit() -> None:
    assert parse_number("40 %", integer=False, unit="%") == Decimal("40")
    assert parse_number("500 Årsverk", integer=True, unit="årsverk") == Decimal("500")


def test_number_integer_stored_as_int() -> None:
    result = act(at("staff"), say("1 000"))
    assert result.state.answers["staff"] == 1000
    assert type(result.state.answers["staff"]) is int


def test_number_decimal_stored_as_float_and_whole_as_int() -> None:
    half = act(at("share"), say("12,5"))
    assert half.state.answers["share"] == 12.5 and type(half.state.answers["share"]) is float
    whole = act(at("share"), say("40 %"))
    assert whole.state.answers["share"] == 40 and type(whole.state.answers["share"]) is int


@pytest.mark.parametrize(
    ("question", "typed", "message"),
    [
        ("staff", "12,5", texts.NUMBER_NOT_INTEGER),
        ("staff", "abc", texts.number_invalid(True)),
        ("share", "abc", texts.number_invalid(False)),
        ("staff", "-3", "Tallet må være fra 0 til 100 000 årsverk."),
        ("staff", "100001", "Tallet må være fra 0 til 100 000 årsverk."),
        ("share", "100,5", "Tallet må være fra 0 til 100 %."),
        ("share", "9" * 40, "Tallet må være fra 0 til 100 %."),
        ("share", "9" * 100_000, texts.number_invalid(False)),
    ],
)
def test_number_invalid(question: str, typed: str, message: str) -> None:
    state = at(question)
    result = act(state, say(typed))
    assert_unchanged(state, result)
    assert problem(result) == message


def test_number_bounds_are_inclusive_and_open_ended() -> None:
    assert act(at("staff"), say("0")).state.answers["staff"] == 0
    assert act(at("staff"), say("100 000")).state.answers["staff"] == 100000
    survey = one_question_survey(Question(id="n", type="number", text="Tall?", number_min=-5))
    state = begun(survey)
    assert act(state, say("-5"), survey).state.answers["n"] == -5
    low = act(state, say("-6"), survey)
    assert problem(low) == "Tallet må være minst -5."
    assert act(state, say("123456789"), survey).state.answers["n"] == 123456789
    survey = one_question_survey(
        Question(id="n", type="number", text="Tall?", number_max=9.5, integer=False)
    )
    assert problem(act(begun(survey), say("9,6"), survey)) == "Tallet kan være høyst 9,5."


def test_number_buttons_are_not_answers() -> None:
    state = at("staff")
    result = act(state, press("a:staff:5"))
    assert_unchanged(state, result)
    assert result.messages[0].text.startswith(texts.UNKNOWN_BUTTON)


# -- multiple choice -------------------------------------------------------------------------


def test_toggle_replaces_the_question_message() -> None:
    state = begun(SURVEY)
    result = act(state, press("t:areas:skole"))
    assert len(result.messages) == 1
    message = result.messages[0]
    assert message.key == "q:areas" and message.replaces == "q:areas"
    assert labels(message)[:2] == ["☐ Helse og omsorg", "☑ Skole"]
    assert result.state.selection == ["skole"]
    assert "areas" not in result.state.answers
    off = act(result.state, press("t:areas:skole"))
    assert off.state.selection == []
    assert labels(off.messages[0])[1] == "☐ Skole"


def test_toggle_respects_max_select() -> None:
    state, _ = run(
        SURVEY,
        [press("t:areas:helse"), press("t:areas:skole"), press("t:areas:klima")],
        begun(SURVEY),
    )
    result = act(state, press("t:areas:digital"))
    assert_unchanged(state, result)
    assert problem(result) == texts.multi_full(3)
    assert result.messages[0].replaces is None


def test_next_needs_min_select() -> None:
    state = begun(SURVEY)
    result = act(state, press("n:areas"))
    assert_unchanged(state, result)
    assert problem(result) == texts.multi_too_few(1)


def test_next_records_selection_in_option_order() -> None:
    state, _ = run(
        SURVEY, [press("t:areas:digital"), press("t:areas:skole"), press("n:areas")], begun(SURVEY)
    )
    assert state.answers["areas"] == ["skole", "digital"]
    assert state.selection == []
    assert state.current == "why_skole"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1, 3", ["helse", "klima"]),
        ("3,1", ["helse", "klima"]),
        ("1 og 2", ["helse", "skole"]),
        ("2 4", ["skole", "digital"]),
        ("4", ["digital"]),
        ("Skole, digitalisering", ["skole", "digital"]),
        ("klima og miljø", ["klima"]),
        ("1, 1, 1", ["helse"]),
        ("1;2", ["helse", "skole"]),
    ],
)
def test_multi_typed(typed: str, expected: list[str]) -> None:
    result = act(begun(SURVEY), say(typed))
    assert result.state.answers["areas"] == expected
    assert result.state.phase == "answering" and result.state.current != "areas"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1, 2, 3, 4", texts.multi_too_many(3)),
        ("0", texts.multi_invalid(4)),
        ("5", texts.multi_invalid(4)),
        ("banan", texts.multi_invalid(4)),
        ("1, banan", texts.multi_invalid(4)),
        ("", texts.multi_invalid(4)),
        (", ,", texts.multi_invalid(4)),
        ("1,2,3,4," * 20_000, texts.multi_too_many(3)),
        ("9," * 50_000, texts.multi_invalid(4)),
    ],
)
def test_multi_typed_invalid(typed: str, message: str) -> None:
    state = begun(SURVEY)
    result = act(state, say(typed))
    assert_unchanged(state, result)
    assert problem(result) == message


def test_multi_typed_neste_confirms_the_selection() -> None:
    state = act(begun(SURVEY), press("t:areas:klima")).state
    assert act(state, say("Neste")).state.answers["areas"] == ["klima"]
    empty = begun(SURVEY)
    assert_unchanged(empty, act(empty, say("neste")))


def test_multi_with_exact_count_and_optional_empty() -> None:
    exact = one_question_survey(
        Question(
            id="m",
            type="multi",
            text="To?",
            options=SURVEY.questions[0].options,
            min_select=2,
            max_select=2,
        )
    )
    state = begun(exact)
    assert problem(act(state, say("1"), exact)) == texts.multi_too_few(2)
    assert problem(act(state, say("1,2,3"), exact)) == "Du kan velge maks 2."
    assert act(state, say("1,2"), exact).state.answers["m"] == ["helse", "skole"]
    optional = one_question_survey(
        Question(
            id="m", type="multi", text="Noen?", options=SURVEY.questions[0].options, min_select=0
        )
    )
    result = act(begun(optional), press("n:m"), optional)
    assert result.state.answers["m"] == []
    assert "1. Noen? (ingen valgt)" in result.messages[-1].text


def test_toggle_unknown_option_and_wrong_kinds() -> None:
    state = begun(SURVEY)
    for payload in ["t:areas:nope", "a:areas:helse", "t:areas", "n:areas:x"]:
        result = act(state, press(payload))
        assert_unchanged(state, result)
        assert result.messages[0].text.startswith(texts.UNKNOWN_BUTTON)
    at_help = at("help")
    assert act(at_help, press("n:help")).messages[0].text.startswith(texts.UNKNOWN_BUTTON)
    assert act(at_help, press("t:help:ja")).messages[0].text.startswith(texts.UNKNOWN_BUTTON)


def test_entering_a_multi_question_starts_from_its_answer() -> None:
    state = at("why_helse")
    back = act(state, control("back"))
    assert back.state.current == "areas"
    assert back.state.selection == ["helse"]
    assert labels(back.messages[0])[0] == "☑ Helse og omsorg"
    assert "Nåværende svar: Helse og omsorg" in back.messages[0].text


def test_pending_selection_is_dropped_when_leaving_without_next() -> None:
    state = act(begun(SURVEY), press("t:areas:skole")).state
    reviewed = act(state, control("review"))
    assert reviewed.state.selection == []
    again = act(reviewed.state, press("e:areas"))
    assert again.state.selection == []


# -- conditions, edits and pruning --------------------------------------------------------------


def test_follow_ups_follow_the_chosen_areas() -> None:
    state = transcript(
        SURVEY,
        [
            (Begin(), "Spørsmål 1 · om lag 7 igjen"),
            (press("t:areas:skole"), "☑ Skole"),
            (press("t:areas:helse"), "☑ Helse og omsorg"),
            (press("n:areas"), "2 · om lag 6 igjen\nHva trenger Drammen kommune mest innen helse"),
            (say("Fastleger"), "3 · om lag 5 igjen\nHva trenger Drammen kommune mest innen skole?"),
            (say("Lærere"), "Spørsmål 4 · om lag 4 igjen\nHvor presserende"),
        ],
    )
    assert state.answers == {
        "areas": ["helse", "skole"],
        "why_helse": "Fastleger",
        "why_skole": "Lærere",
    }


def test_editing_an_area_asks_new_follow_ups_then_returns_to_review() -> None:
    state = transcript(
        SURVEY,
        [
            (press("e:areas"), "Nåværende svar: Helse og omsorg"),
            (press("t:areas:helse"), "☐ Helse og omsorg"),
            (press("t:areas:skole"), "☑ Skole"),
            (press("n:areas"), "innen skole?"),
            (say("Flere lærere"), texts.REVIEW_HEADER),
        ],
        state=reviewing(),
    )
    assert state.phase == "reviewing" and not state.editing
    review = act(state, Begin()).messages[0].text
    assert "Behov: Skole: Flere lærere" in review
    assert "Behov: Helse" not in review
    assert state.answers["why_helse"] == "Flere sykepleiere"  # kept until submission
    done = act(state, control("submit"))
    assert done.submitted
    assert "why_helse" not in done.state.answers
    assert done.state.answers["why_skole"] == "Flere lærere"
    assert done.state.answers == SURVEY.effective_answers(state.answers)


def test_switching_help_off_hides_and_prunes_the_follow_up() -> None:
    state = transcript(
        SURVEY,
        [(press("e:help"), "Nåværende svar: Ja"), (press("a:help:nei"), texts.REVIEW_HEADER)],
        state=reviewing(),
    )
    assert "Hva slags hjelp" not in act(state, Begin()).messages[0].text
    done = act(state, Pressed("c:submit"))
    assert "help_kind" not in done.state.answers
    assert done.state.answers["help"] is False


def test_switching_help_back_on_keeps_the_old_follow_up_answer() -> None:
    state, _ = run(
        SURVEY,
        [press("e:help"), press("a:help:nei"), press("e:help"), press("a:help:ja")],
        reviewing(),
    )
    assert state.phase == "reviewing"  # help_kind still has its answer, nothing new to ask
    assert "Hva slags hjelp? Kurs" in act(state, Begin()).messages[0].text


def test_back_skips_questions_that_are_no_longer_asked() -> None:
    state, _ = run(SURVEY, [Begin(), press("t:areas:skole"), press("n:areas"), say("Lærere")])
    assert state.current == "urgency"
    back = act(state, control("back"))
    assert back.state.current == "why_skole"
    assert act(back.state, control("back")).state.current == "areas"


def test_back_then_change_reroutes_and_keeps_later_answers() -> None:
    state = at("urgency")  # areas = [helse], why_helse answered
    state = transcript(
        SURVEY,
        [
            (control("back"), "Nåværende svar: Flere sykepleiere"),
            (control("back"), "Nåværende svar: Helse og omsorg"),
            (press("t:areas:skole"), "☑ Skole"),
            (press("n:areas"), "Nåværende svar: Flere sykepleiere"),  # re-answering: next in order
            (say("Flere sykepleiere"), "innen skole?"),  # the new follow-up
            (say("Lærere"), "Hvor presserende"),
        ],
        state=state,
    )
    assert state.current == "urgency"
    assert state.history == ["areas", "why_helse", "why_skole"]


def test_back_from_the_first_question() -> None:
    state = begun(SURVEY)
    result = act(state, control("back"))
    assert_unchanged(state, result)
    assert problem(result) == texts.FIRST_QUESTION


def test_back_from_review_goes_to_the_last_asked_question() -> None:
    result = act(reviewing(), Pressed("c:back"))
    assert result.state.phase == "answering"
    assert result.state.current == "comment"
    assert "Nåværende svar: (hoppet over)" in result.messages[0].text
    assert act(result.state, control("skip")).state.phase == "reviewing"


def test_back_after_an_edit_goes_to_the_previous_question() -> None:
    state, _ = run(SURVEY, [press("e:areas"), press("n:areas"), control("back")], reviewing())
    assert state.current == "comment"
    assert act(state, control("back")).state.current == "share"


# -- skip ---------------------------------------------------------------------------------------


def test_skip_optional_stores_none() -> None:
    result = act(at("staff"), Pressed("c:skip"))
    assert result.state.answers["staff"] is None
    assert result.state.current == "share"


def test_skip_required_is_refused() -> None:
    state = at("help")
    result = act(state, control("skip"))
    assert_unchanged(state, result)
    assert problem(result) == texts.MUST_ANSWER


def test_skip_in_review_explains_the_review() -> None:
    state = reviewing()
    assert_unchanged(state, act(state, control("skip")))


# -- pause and resume ------------------------------------------------------------------------


def test_pause_and_resume_while_answering() -> None:
    state = act(at("urgency"), press("c:pause"))
    assert state.state.phase == "paused" and state.state.paused_from == "answering"
    assert "15. desember 2026" in state.messages[0].text and "/svar" in state.messages[0].text
    resumed = transcript(
        SURVEY,
        [
            (press("a:urgency:3"), texts.STALE_PAUSED),
            (control("back"), texts.PAUSED_REMINDER),
            (control("skip"), texts.PAUSED_REMINDER),
            (control("pause"), "Svarene dine er lagret"),
            (Begin(), "Hvor presserende"),
        ],
        state=state.state,
    )
    assert resumed.phase == "answering" and resumed.current == "urgency"
    assert resumed.paused_from is None
    assert "urgency" not in resumed.answers
    welcome = act(state.state, Begin()).messages
    assert welcome[0].text == texts.WELCOME_BACK
    assert welcome[1].key == "q:urgency"


def test_writing_an_answer_while_paused_resumes_and_answers_the_question() -> None:
    paused = act(at("urgency"), press("c:pause")).state
    answered = act(paused, say("3"))
    assert answered.state.phase == "answering" and answered.state.paused_from is None
    assert answered.state.answers["urgency"] == 3 and answered.state.current != "urgency"
    wrong = act(paused, say("9"))  # an unusable answer: resumed, and asked again in place
    assert wrong.state.phase == "answering" and wrong.state.current == "urgency"
    assert (
        problem(wrong) == "Svar med et tall fra 1 til 5." and "urgency" not in wrong.state.answers
    )
    from_review = act(act(reviewing(), Pressed("c:pause")).state, say("hei"))
    assert from_review.state.phase == "reviewing" and from_review.state.paused_from is None


def test_pause_keeps_a_pending_selection() -> None:
    state, _ = run(SURVEY, [press("t:areas:klima"), control("pause"), Begin()], begun(SURVEY))
    assert state.selection == ["klima"]


def test_pause_and_resume_from_review() -> None:
    paused = act(reviewing(), Pressed("c:pause")).state
    assert paused.paused_from == "reviewing"
    result = act(paused, Begin())
    assert result.messages[0].text == texts.WELCOME_BACK_REVIEW
    assert result.messages[1].key == "review"
    assert result.state.phase == "reviewing"


def test_review_submit_and_edit_buttons_work_while_paused() -> None:
    paused = act(reviewing(), control("pause")).state
    assert act(paused, Pressed("c:review")).state.phase == "reviewing"
    assert act(paused, Pressed("c:submit")).submitted
    edit = act(paused, press("e:urgency"))
    assert edit.state.phase == "answering" and edit.state.current == "urgency"
    from_question = act(at("help"), control("pause")).state
    assert act(from_question, control("submit")).state.phase == "reviewing"  # confirmation first


# -- review ------------------------------------------------------------------------------------


def test_review_lists_every_asked_question_with_its_answer() -> None:
    state, _ = run(SURVEY, [press("e:why_helse"), say("Lang tekst " * 25)], reviewing())
    message = act(state, Begin()).messages[0]
    assert message.key == "review"
    lines = message.text.split("\n")
    assert lines[0] == texts.REVIEW_HEADER
    assert lines[2] == "1. Prioriterte områder: Helse og omsorg"
    assert lines[3].startswith("2. Behov: Helse og omsorg: Lang tekst Lang")
    assert lines[3].endswith("…") and len(lines[3]) < 260
    assert lines[4:10] == [
        "3. Hvor presserende er behovene? 4",
        "4. Trenger dere hjelp fra KS? Ja",
        "5. Hva slags hjelp? Kurs",
        "6. Hvor mange årsverk jobber med dette? 1000 årsverk",
        "7. Hvor stor andel av budsjettet går til dette? 12,5 %",
        "8. Noe mer du vil si? (hoppet over)",
    ]
    assert lines[-1] == texts.REVIEW_READY


def test_review_buttons() -> None:
    message = act(reviewing(), Begin()).messages[0]
    assert [len(row) for row in message.buttons] == [5, 3, 2]
    assert labels(message)[:8] == [f"Endre {n}" for n in range(1, 9)]
    assert payloads(message)[:8] == [
        "e:areas",
        "e:why_helse",
        "e:urgency",
        "e:help",
        "e:help_kind",
        "e:staff",
        "e:share",
        "e:comment",
    ]
    assert payloads(message)[8:] == ["c:submit", "c:pause"]


def test_early_review_marks_missing_answers_and_hides_submit() -> None:
    result = act(at("help"), Control("review"))
    message = result.messages[0]
    assert result.state.phase == "reviewing"
    assert "3. Hvor presserende er behovene? 4" in message.text
    assert "4. Trenger dere hjelp fra KS? – ikke besvart" in message.text
    assert "7. Noe mer du vil si? – ikke besvart" in message.text  # help_kind not asked yet
    assert "Du må svare på spørsmål 4 før du kan sende inn." in message.text
    assert "c:submit" not in payloads(message)
    assert "c:pause" in payloads(message)


def test_review_missing_lists_several() -> None:
    assert texts.review_missing([2, 5, 7]).startswith("Du må svare på spørsmål 2, 5 og 7 før")


def test_text_typed_in_review_gets_a_hint() -> None:
    state = reviewing()
    result = act(state, say("ferdig"))
    assert_unchanged(state, result)
    assert result.messages[0].text == texts.review_typed(True)
    early = act(at("help"), control("review")).state
    assert act(early, say("hei")).messages[0].text == texts.review_typed(False)


def test_review_survives_question_labels_with_placeholders_and_long_texts() -> None:
    survey = one_question_survey(
        Question(id="t", type="text", text="Hva mener {org_name} om " + "svært " * 30 + "mye?")
    )
    state, _ = run(survey, [Begin(), say("Mye")])
    line = act(state, Begin(), survey).messages[0].text.split("\n")[2]
    assert line.startswith("1. Hva mener Drammen kommune om svært")
    assert "…: Mye" in line


# -- edit ---------------------------------------------------------------------------------------


def test_edit_shows_the_answer_and_returns_to_review() -> None:
    result = act(reviewing(), press("e:urgency"))
    state = result.state
    assert state.phase == "answering" and state.current == "urgency" and state.editing
    message = result.messages[0]
    assert "Nåværende svar: 4" in message.text
    assert "c:review" in payloads(message)
    done = act(state, press("a:urgency:2"))
    assert done.state.phase == "reviewing" and not done.state.editing
    assert done.state.answers["urgency"] == 2
    answered, review = done.messages
    assert answered == OutgoingMessage(
        text="Hvor presserende er behovene?\n\n✓ Svar: 2", replaces="q:urgency", edit_only=True
    )
    assert "3. Hvor presserende er behovene? 2" in review.text


def test_edit_can_be_left_without_changing() -> None:
    state = act(reviewing(), press("e:urgency")).state
    result = act(state, Pressed("c:review"))
    assert result.state.phase == "reviewing" and not result.state.editing
    assert result.state.answers == reviewing().answers


def test_edit_unknown_or_hidden_question() -> None:
    state = reviewing()
    unknown = act(state, press("e:nope"))
    assert_unchanged(state, unknown)
    assert unknown.messages[0].text.startswith(texts.UNKNOWN_BUTTON)
    hidden = act(state, press("e:why_skole"))
    assert_unchanged(state, hidden)
    assert hidden.messages[0].text == texts.NOT_APPLICABLE


def test_edit_from_an_old_review_while_answering() -> None:
    state = act(at("help"), press("e:areas")).state
    assert state.current == "areas" and state.editing
    result = act(state, press("n:areas"))
    assert result.state.current == "help"  # first unanswered question


# -- submit ----------------------------------------------------------------------------------------


def test_submit_while_answering_shows_the_review_first() -> None:
    result = act(at("staff"), Control("submit"))
    assert result.state.phase == "reviewing"
    assert not result.submitted
    assert result.messages[0].key == "review"


def test_submit_incomplete_goes_to_what_is_missing() -> None:
    state = act(at("help"), control("review")).state
    result = act(state, control("submit"))
    missing, question = result.messages
    assert missing.text.startswith("Noen spørsmål mangler svar:\n• Trenger dere hjelp fra KS?")
    assert question.key == "q:help"
    assert result.state.editing and result.state.current == "help"
    after = transcript(
        SURVEY,
        [
            (press("a:help:ja"), "Hva slags hjelp?"),  # the new follow-up is asked
            (press("a:help_kind:rad"), "Hvor mange årsverk"),  # optional, never seen
            (control("skip"), "Hvor stor andel"),
            (control("skip"), "Noe mer"),
            (control("skip"), texts.REVIEW_READY),
        ],
        state=result.state,
    )
    assert act(after, control("submit")).submitted


def test_submit_complete() -> None:
    state = reviewing()
    result = act(state, Pressed("c:submit"))
    assert result.submitted
    assert result.state.phase == "submitted"
    review, receipt = result.messages
    assert review.replaces == "review" and review.edit_only and not review.buttons
    assert "3. Hvor presserende er behovene? 4" in review.text
    assert review.text.endswith(texts.REVIEW_SUBMITTED)
    assert receipt == OutgoingMessage(text="Takk! Svaret for Drammen kommune er sendt inn.")
    assert result.state.answers == SURVEY.effective_answers(state.answers)
    assert result.state.current is None and not result.state.editing


@pytest.mark.parametrize(
    "event",
    [
        Begin(),
        say("hei"),
        press("a:urgency:1"),
        press("c:submit"),
        Control("back"),
        RoundClosed(),
        press("zzz"),
        press("e:areas"),
    ],
)
def test_after_submission_everything_says_so(event: Event) -> None:
    done = act(reviewing(), control("submit")).state
    result = act(done, event)
    assert_unchanged(done, result)
    assert result.messages[0].text == texts.already_submitted("Drammen kommune")
    assert "/status" in result.messages[0].text


# -- round closed ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", [ResponseState(), at("help"), reviewing(), act(at("help"), control("pause")).state]
)
def test_round_closed_keeps_answers(state: ResponseState) -> None:
    result = act(state, RoundClosed())
    assert result.state.phase == "closed"
    assert result.state.answers == state.answers
    assert result.messages[0].text == texts.round_closed("Drammen kommune")
    assert not result.submitted
    for event in [
        Begin(),
        say("3"),
        press("c:submit"),
        control("submit"),
        RoundClosed(),
        press("e:help"),
    ]:
        after = act(result.state, event)
        assert_unchanged(result.state, after)
        assert after.messages[0].text == texts.round_closed("Drammen kommune")


# -- stale and malformed input -----------------------------------------------------------------------


def test_stale_press_while_answering() -> None:
    state = at("help")
    for payload in ["a:urgency:2", "t:areas:skole", "n:areas", "a:help_kind:kurs"]:
        result = act(state, press(payload))
        assert_unchanged(state, result)
        assert problem(result) == texts.STALE_ANSWERING


def test_stale_press_while_reviewing() -> None:
    state = reviewing()
    for payload in ["a:urgency:2", "t:areas:skole", "n:areas"]:
        result = act(state, press(payload))
        assert_unchanged(state, result)
        assert result.messages[0].text == texts.STALE_REVIEWING


@pytest.mark.parametrize(
    "payload",
    [
        "a:",
        "a:nope:1",
        "t:x",
        "zzz",
        "",
        "c:",
        "c:dance",
        "c:back:now",
        "e:",
        "n:",
        "e:a:b",
        "a:help:ja:extra",
        "a::ja",
        "a:help:",
        ":::",
        "a:" + "x" * 5000,
        "a:help:" + "ja" * 2500,
        "t:areas:" + "x" * 5000,
        "e:" + "x" * 5000,
        "a:hjælp:🙂",
        "a:help:ja\x00",
    ],
)
def test_malformed_payloads(payload: str) -> None:
    for state in [at("help"), reviewing(), act(at("help"), control("pause")).state]:
        result = act(state, press(payload))
        assert_unchanged(state, result)


def test_unknown_event_type() -> None:
    @dataclass(frozen=True)
    class Odd:
        pass

    state = at("help")
    result = step(SURVEY, state, Odd(), CONTEXT)  # type: ignore[arg-type]
    assert_unchanged(state, result)
    assert result.messages[0].text == texts.UNKNOWN_INPUT


# -- purity, persistence, repair -----------------------------------------------------------------------

FULL_WALK: list[Event] = [
    *WALK,
    press("e:areas"),
    press("t:areas:skole"),
    press("n:areas"),
    say("Lærere"),
    control("back"),
    control("back"),
    control("pause"),
    say("hei"),
    Begin(),
    control("review"),
    press("c:pause"),
    Begin(),
    press("e:help"),
    press("a:help:nei"),
    press("c:submit"),
    Begin(),
]


def test_steps_never_mutate_their_input_and_round_trip_through_json() -> None:
    state = ResponseState()
    submitted = 0
    for event in FULL_WALK:
        before = state.model_dump_json()
        kept = state.model_copy(deep=True)
        result = step(SURVEY, state, event, CONTEXT)
        assert state.model_dump_json() == before
        assert state == kept
        assert result.state is not state
        restored = ResponseState.model_validate_json(result.state.model_dump_json())
        assert restored == result.state
        assert ResponseState.model_validate(result.state.model_dump(mode="json")) == result.state
        assert {type(v) for v in restored.answers.values()} == {
            type(v) for v in result.state.answers.values()
        }
        submitted += result.submitted
        state = result.state
    assert submitted == 1
    assert state.phase == "submitted"
    assert state.answers == {
        "areas": ["helse", "skole"],
        "why_helse": "Flere sykepleiere",
        "why_skole": "Lærere",
        "urgency": 4,
        "help": False,
        "staff": 1000,
        "share": 12.5,
        "comment": None,
    }


def test_a_resumed_state_from_json_continues_identically() -> None:
    state = at("urgency")
    restored = ResponseState.model_validate_json(state.model_dump_json())
    assert act(state, press("a:urgency:3")) == act(restored, press("a:urgency:3"))


def test_odd_states_are_repaired_not_fatal() -> None:
    odd = ResponseState(
        phase="answering",
        current="gone",
        answers={"areas": ["helse"], "old": "x"},
        history=["gone", "areas", "areas"],
        selection=["nope"],
    )
    result = act(odd, Begin())
    assert result.state.current == "why_helse"
    assert result.state.history == ["areas"]
    assert result.state.selection == []
    paused = ResponseState(
        phase="paused", current="areas", paused_from=None, selection=["nope", "skole"]
    )
    resumed = act(paused, Begin())
    assert resumed.state.phase == "answering" and resumed.state.selection == ["skole"]
    everything = ResponseState(phase="answering", current=None, answers=reviewing().answers)
    assert act(everything, Begin()).state.phase == "reviewing"
    paused_done = ResponseState(
        phase="paused", paused_from="answering", current="nope", answers=reviewing().answers
    )
    assert act(paused_done, Begin()).messages[-1].key == "review"


# -- random walks ---------------------------------------------------------------------------------------

TYPED = [
    "1",
    "2",
    "3",
    "1, 3",
    "neste",
    "ja",
    "nei",
    "Skole",
    "12,5",
    "1 000",
    "-3",
    "",
    "   ",
    "Vi trenger flere folk.",
    "x" * 301,
    "y" * 100_000,
    "{org_name}",
    "🙂",
    "/svar",
]
GARBAGE = [
    "a:",
    "a:nope:1",
    "t:x",
    "zzz",
    "c:dance",
    "e:",
    "n:",
    "a:" + "x" * 5000,
    "e:why_skole",
    "e:help_kind",
]
CONTROLS = ["back", "skip", "pause", "review", "submit"]


def assert_consistent(survey: Survey, state: ResponseState) -> None:
    """The invariants every stored state keeps."""
    asked = [q.id for q in survey.asked_questions(state.answers)]
    known = [q.id for q in survey.questions]
    on_question = state.phase == "answering" or (
        state.phase == "paused" and state.paused_from == "answering"
    )
    if on_question:
        assert state.current in asked, (state.phase, state.current, asked)
    if state.phase == "paused":
        assert state.paused_from in ("answering", "reviewing")
    else:
        assert state.paused_from is None
    current = survey.question(state.current) if state.current else None
    if state.selection:
        assert on_question and current is not None and current.type == "multi"
        values = [o.value for o in current.options]
        assert state.selection == [v for v in values if v in state.selection]
        assert current.max_select is None or len(state.selection) <= current.max_select
    assert len(state.history) == len(set(state.history))
    assert all(qid in known for qid in state.history)
    if state.phase == "answering":
        assert all(known.index(qid) < known.index(state.current or "") for qid in state.history)
    if state.phase == "submitted":
        assert state.answers == survey.effective_answers(state.answers)
        assert all(
            not (q.required and state.answers.get(q.id) is None)
            for q in survey.asked_questions(state.answers)
        )
    if state.editing:
        assert state.phase in ("answering", "paused", "closed")
    for qid, value in state.answers.items():
        question = survey.question(qid)
        assert question is not None
        if value is None:
            continue
        if question.type == "multi":
            assert isinstance(value, list) and all(question.option(v) for v in value)
        elif question.type == "single":
            assert question.option(str(value)) is not None
        elif question.type == "yesno":
            assert isinstance(value, bool)
        elif question.type == "scale":
            assert isinstance(value, int) and question.scale_min <= value <= question.scale_max
        elif question.type == "text":
            assert isinstance(value, str) and 0 < len(value) <= question.max_length
        else:
            assert isinstance(value, int | float) and not isinstance(value, bool)


def random_event(rng: random.Random, shown: list[str], seen: list[str]) -> Event:
    roll = rng.random()
    if roll < 0.5 and shown:
        return Pressed(rng.choice(shown))
    if roll < 0.65:
        return TextEntered(rng.choice(TYPED))
    if roll < 0.75:
        return Control(rng.choice(CONTROLS))  # type: ignore[arg-type]
    if roll < 0.8:
        return Begin()
    if roll < 0.81:
        return RoundClosed()
    if roll < 0.9 and seen:
        return Pressed(rng.choice(seen))  # stale buttons from earlier messages
    return Pressed(rng.choice(GARBAGE))


@pytest.mark.parametrize("survey", [SURVEY, variants_survey()], ids=["full", "variants"])
@pytest.mark.parametrize("seed", range(10))
def test_random_event_sequences_never_raise_and_stay_consistent(survey: Survey, seed: int) -> None:
    rng = random.Random(seed)
    submissions = 0
    phases: set[str] = set()
    for _ in range(60):
        state = ResponseState()
        shown: list[str] = []
        seen: list[str] = []
        for _ in range(100):
            event = random_event(rng, shown, seen)
            before = state.model_dump_json()
            result = step(survey, state, event, CONTEXT)
            assert state.model_dump_json() == before
            assert result.messages, event
            for message in result.messages:
                assert message.text.strip()
                for payload in payloads(message):
                    assert is_engine_payload(payload)
            if result.submitted:
                submissions += 1
                assert state.phase != "submitted" and result.state.phase == "submitted"
            assert_consistent(survey, result.state)
            assert ResponseState.model_validate_json(result.state.model_dump_json()) == result.state
            with_buttons = [m for m in result.messages if m.buttons]
            if with_buttons:
                shown = payloads(with_buttons[-1])
                seen.extend(shown)
            phases.add(result.state.phase)
            state = result.state
    assert submissions > 0  # the walks do reach the end
    assert phases == {"answering", "paused", "reviewing", "submitted", "closed"}


# -- less common settings ----------------------------------------------------------------------


def test_variants_walk_with_transcript() -> None:
    survey = variants_survey()
    state = transcript(
        survey,
        [
            (Begin(), "Spørsmål 1 · om lag 3 igjen\nHvilke verktøy bruker dere?"),
            (control("skip"), "Velg fra 0 til 10 (10 = svært)."),
            (press("a:score:3"), "minst 10 og maks 500 tegn"),
            (say("dårlig"), "Svaret ditt er 6 tegn. Skriv minst 10 tegn."),
            (say("for dårlig støtte"), "Skriv et tall (kr)."),  # tools skipped: budget asked
            (say("1 234 567,5 kr"), "Spørsmål 5 · snart ferdig\nVelg en"),
            (say("2"), "5. Velg en: 2"),  # a label that looks like a number wins
            (press("e:pick"), "Nåværende svar: 2"),
            (say("1"), "5. Velg en: 2"),  # position 1 is the same option
            (press("e:tools"), "Velg de som passer"),
            (press("t:tools:skole"), "☑ Skole"),
            (press("n:tools"), texts.REVIEW_READY),  # budget is no longer asked
        ],
    )
    assert state.answers["budget"] == 1234567.5
    done = act(state, control("submit"), survey)
    assert "budget" not in done.state.answers
    assert last(done).text == "Takk, Kari Nordmann!"


def test_large_numbers_read_the_norwegian_way_in_the_review() -> None:
    survey = variants_survey()
    state, _ = run(
        survey, [Begin(), control("skip"), press("a:score:8"), say("1234567,5"), say("Én")]
    )
    assert "3. Budsjett i kroner? 1 234 567,5 kr" in act(state, Begin(), survey).messages[0].text
    assert state.answers["pick"] == "x"


def test_begin_while_reviewing_shows_the_review_again() -> None:
    state = reviewing()
    result = act(state, Begin())
    assert result.state == state
    assert [m.key for m in result.messages] == ["review"]

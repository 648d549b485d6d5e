"""The engine's part of issue 13's "Changing and reusing answers": a submitted response
opened again while the round is open, and "still true?" from last round. Plain calls."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialogs import texts
from dialogs.engine import StepContext, StepResult, step
from dialogs.events import Begin, Event, Pressed, Reopen, RoundClosed
from dialogs.model import AnswerValue, Option, Question
from dialogs.state import ResponseState
from dialogs.still_true import fits
from tests.engine_fixtures import (
    CONTEXT,
    control,
    full_survey,
    labels,
    last,
    one_question_survey,
    payloads,
    press,
    say,
)
from tests.type_fixtures import ranking_and_matrix_survey

SURVEY = full_survey()
EDITABLE = replace(CONTEXT, editable_until="15. desember 2026 kl. 23:59")

# helse only, help yes, comment skipped; then submitted.
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
ANSWERS: dict[str, AnswerValue] = {
    "areas": ["helse"],
    "why_helse": "Flere sykepleiere",
    "urgency": 4,
    "help": True,
    "help_kind": "kurs",
    "staff": 1000,
    "share": 12.5,
    "comment": None,
}


def act(state: ResponseState, event: Event, context: StepContext = EDITABLE) -> StepResult:
    return step(SURVEY, state, event, context)


def run(
    survey: object, events: list[Event], state: ResponseState | None = None
) -> tuple[ResponseState, list[StepResult]]:
    """Apply events in order with changes allowed (``survey`` is always SURVEY)."""
    current = state if state is not None else ResponseState()
    results = []
    for event in events:
        result = act(current, event)
        results.append(result)
        current = result.state
    return current, results


def submitted(context: StepContext = EDITABLE) -> tuple[ResponseState, StepResult]:
    state, _ = run(SURVEY, WALK)
    result = act(state, control("submit"), context)
    assert result.submitted
    return result.state, result


def problem(result: StepResult) -> str:
    """The complaint in the first reply, which must also ask the question again, buttons and
    all, so a member who reads only the last message never has to scroll up."""
    message = result.messages[0]
    complaint, _, question = message.text.partition("\n\n")
    assert question and message.buttons, f"the question is not asked again: {message.text!r}"
    return complaint


# -- edit after submit ------------------------------------------------------------------


def test_receipt_says_until_when_the_answers_can_be_changed() -> None:
    _, result = submitted()
    assert last(result).text.endswith(texts.editable_until("15. desember 2026 kl. 23:59"))
    _, fixed = submitted(CONTEXT)
    assert "endre svarene" not in last(fixed).text


def test_reopen_shows_the_review_with_an_edit_button_per_answer_and_submit() -> None:
    state, _ = submitted()
    result = act(state, Reopen())
    assert result.state.phase == "reviewing"
    assert result.state.reopened
    assert not result.submitted
    assert "15. desember 2026 kl. 23:59" in result.messages[0].text
    review = last(result)
    assert "Flere sykepleiere" in review.text
    assert [p for p in payloads(review) if p.startswith("e:")] == [f"e:{qid}" for qid in ANSWERS]
    assert "c:submit" in payloads(review)
    assert "Endre 1" in labels(review)


def test_reopen_when_changes_are_off_says_it_is_submitted() -> None:
    state, _ = submitted(CONTEXT)
    result = act(state, Reopen(), CONTEXT)
    assert result.state == state
    assert last(result).text == texts.already_submitted(CONTEXT.org_name)


def test_other_input_after_submission_points_to_svar_when_changes_are_allowed() -> None:
    state, _ = submitted()
    result = act(state, say("hei"))
    assert result.state == state
    assert "/svar" in last(result).text


def test_resubmitting_replaces_the_answers_and_says_so() -> None:
    state, _ = submitted()
    state, results = run(SURVEY, [Reopen(), press("e:urgency"), press("a:urgency:2")], state)
    assert state.phase == "reviewing" and state.reopened
    result = act(state, control("submit"))
    assert result.submitted
    assert result.state.phase == "submitted"
    assert not result.state.reopened
    assert result.state.answers["urgency"] == 2
    assert last(result).text.startswith(texts.CHANGES_SUBMITTED)
    assert texts.editable_until("15. desember 2026 kl. 23:59") in last(result).text


def test_a_reopened_response_can_be_paused_and_resumed() -> None:
    state, _ = submitted()
    state, _ = run(SURVEY, [Reopen(), press("e:urgency"), control("pause")], state)
    assert state.phase == "paused" and state.reopened
    result = act(state, Reopen())  # /svar again
    assert result.state.phase == "answering" and result.state.current == "urgency"
    assert result.state.reopened
    assert "a:urgency:1" in payloads(last(result))
    state, _ = run(SURVEY, [press("a:urgency:5")], result.state)
    assert state.phase == "reviewing"
    result = act(state, control("submit"))
    assert result.submitted and result.state.answers["urgency"] == 5


def test_closing_while_reopened_keeps_the_submission() -> None:
    """The phase goes back to submitted, not closed: the sent-in version stands."""
    state, _ = submitted()
    state, _ = run(SURVEY, [Reopen(), press("e:urgency")], state)
    result = act(state, RoundClosed())
    assert result.state.phase == "submitted"
    assert not result.state.reopened and result.state.current is None
    assert not result.submitted
    assert last(result).text == texts.round_closed_while_reopened(CONTEXT.org_name)


# -- still true? ------------------------------------------------------------------------


def second_round(previous: dict[str, AnswerValue] | None = None) -> ResponseState:
    return ResponseState(previous=dict(ANSWERS if previous is None else previous))


def test_begin_shows_last_rounds_answer_with_keep_and_change() -> None:
    result = act(second_round(), Begin())
    assert texts.STILL_TRUE_INTRO in [m.text for m in result.messages]
    prompt = last(result)
    assert "Sist svarte dere: Helse og omsorg" in prompt.text
    assert "Er det fortsatt riktig?" in prompt.text
    assert payloads(prompt) == ["k:areas", "x:areas", "c:pause"]
    assert labels(prompt)[:2] == [texts.KEEP_BUTTON, texts.CHANGE_BUTTON]
    assert prompt.key == "q:areas"


def test_unchanged_walk_takes_one_press_per_question() -> None:
    """Begin, one press per asked question ("Ja, fortsatt riktig", or "Hopp over" for what
    was skipped last time) and submit: N + 2 presses, nothing typed. At some 5 seconds to
    read a short answer and press, under two minutes allows about 20 presses; the test
    survey asks 8 questions here (10 presses), the shipped one at most 15 for three areas."""
    presses = 1
    result = act(second_round(), Begin())
    while result.state.phase == "answering":
        qid = result.state.current
        buttons = payloads(last(result))
        assert f"k:{qid}" in buttons or (ANSWERS[str(qid)] is None and "c:skip" in buttons)
        result = act(result.state, press(f"k:{qid}" if f"k:{qid}" in buttons else "c:skip"))
        presses += 1
    assert result.state.phase == "reviewing"
    result = act(result.state, control("submit"))
    presses += 1
    assert result.submitted
    assert result.state.answers == ANSWERS
    assert presses == len(SURVEY.asked_questions(ANSWERS)) + 2 <= 20
    assert sorted(result.state.kept) == sorted(k for k, v in ANSWERS.items() if v is not None)


def test_skipped_last_time_is_asked_afresh() -> None:
    state, _ = run(
        SURVEY,
        [Begin(), *[press(f"k:{q}") for q in ("areas", "why_helse", "urgency", "help")]],
        second_round(),
    )
    state, _ = run(SURVEY, [press("k:help_kind"), press("k:staff"), press("k:share")], state)
    assert state.current == "comment"
    result = act(state, Begin())
    assert "k:comment" not in payloads(last(result))
    assert "c:skip" in payloads(last(result))


def test_change_shows_the_ordinary_question_starting_from_last_rounds_choice() -> None:
    state = act(second_round(), Begin()).state
    result = act(state, press("x:areas"))
    message = last(result)
    assert message.replaces == "q:areas"
    assert "n:areas" in payloads(message)
    assert f"{texts.CHECKED} Helse og omsorg" in labels(message)
    result = act(result.state, press("t:areas:skole"))
    result = act(result.state, press("n:areas"))
    assert result.state.answers["areas"] == ["helse", "skole"]
    assert "areas" not in result.state.kept
    assert result.state.current == "why_helse"
    assert "k:why_helse" in payloads(last(result))


def test_free_text_need_asks_whether_it_is_still_the_most_important() -> None:
    state, _ = run(SURVEY, [Begin(), press("k:areas")], second_round())
    prompt = last(act(state, Begin()))
    assert "Sist skrev dere: «Flere sykepleiere»" in prompt.text
    assert "fortsatt det viktigste behovet" in prompt.text
    assert payloads(prompt) == ["k:why_helse", "x:why_helse", "c:back", "c:pause"]
    assert texts.hint_text(1, 300) not in prompt.text


def test_other_free_text_asks_whether_it_still_holds() -> None:
    state, _ = run(SURVEY, [Begin()], second_round({**ANSWERS, "comment": "Takk"}))
    state = state.model_copy(
        update={
            "answers": {k: v for k, v in ANSWERS.items() if k != "comment"},
            "current": "comment",
        }
    )
    prompt = last(act(state, Begin()))
    assert "Sist skrev dere: «Takk»" in prompt.text and "Gjelder dette fortsatt?" in prompt.text
    assert "c:skip" in payloads(prompt)


def test_typing_on_a_still_true_prompt_answers_normally() -> None:
    state, _ = run(SURVEY, [Begin(), press("k:areas")], second_round())
    result = act(state, say("Flere helsesykepleiere"))
    assert result.state.answers["why_helse"] == "Flere helsesykepleiere"
    assert result.state.kept == ["areas"]
    assert result.state.current == "urgency"


def test_invalid_typing_on_a_still_true_prompt_asks_the_ordinary_question() -> None:
    state, _ = run(SURVEY, [Begin(), press("k:areas"), press("k:why_helse")], second_round())
    assert state.current == "urgency"
    result = act(state, say("9"))
    assert problem(result) == texts.scale_invalid(1, 5)
    assert "a:urgency:1" in payloads(result.messages[0])


def test_back_from_a_still_true_prompt_shows_the_kept_answer() -> None:
    state, _ = run(SURVEY, [Begin(), press("k:areas")], second_round())
    result = act(state, control("back"))
    assert result.state.current == "areas"
    assert texts.current_answer("Helse og omsorg") in last(result).text
    assert "n:areas" in payloads(last(result))


def test_a_keep_button_of_another_question_is_stale() -> None:
    state, _ = run(SURVEY, [Begin(), press("k:areas")], second_round())
    result = act(state, press("k:areas"))
    assert result.state == state
    assert texts.STALE_ANSWERING in result.messages[0].text


def test_previous_answers_that_no_longer_fit_are_ignored() -> None:
    previous: dict[str, AnswerValue] = {"areas": ["helse", "borte"], "urgency": 9}
    result = act(second_round(previous), Begin())
    assert "Sist svarte" not in last(result).text
    assert "n:areas" in payloads(last(result))
    state, _ = run(SURVEY, [press("t:areas:helse"), press("n:areas"), say("Mer")], result.state)
    assert state.current == "urgency"
    assert "Sist svarte" not in last(act(state, Begin())).text
    result = act(state, press("k:urgency"))
    assert result.state == state  # no previous answer that fits: not a button of ours now


def test_pause_and_resume_on_a_still_true_prompt() -> None:
    state, _ = run(SURVEY, [Begin(), press("k:areas"), control("pause")], second_round())
    result = act(state, Begin())
    assert result.state.current == "why_helse"
    assert "k:why_helse" in payloads(last(result))


SINGLE = Question(
    id="q",
    type="single",
    text="Velg",
    options=(Option(value="a", label="A"), Option(value="b", label="B")),
)


@pytest.mark.parametrize(
    ("question", "value", "expected"),
    [
        (SINGLE, "a", True),
        (SINGLE, "c", False),
        (SINGLE, ["a"], False),
        (Question(id="q", type="yesno", text="?"), True, True),
        (Question(id="q", type="yesno", text="?"), "ja", False),
        (Question(id="q", type="scale", text="?"), 5, True),
        (Question(id="q", type="scale", text="?"), 6, False),
        (Question(id="q", type="scale", text="?"), True, False),
        (Question(id="q", type="text", text="?", max_length=5), "abcde", True),
        (Question(id="q", type="text", text="?", max_length=5), "abcdef", False),
        (Question(id="q", type="number", text="?", number_max=10), 10, True),
        (Question(id="q", type="number", text="?", number_max=10), 10.5, False),
        (Question(id="q", type="number", text="?", integer=False), 10.5, True),
        (Question(id="q", type="number", text="?"), 2.5, False),
        (
            Question(id="q", type="multi", text="?", options=SINGLE.options, max_select=1),
            ["a", "b"],
            False,
        ),
        (Question(id="q", type="multi", text="?", options=SINGLE.options), ["b", "a"], True),
        (Question(id="q", type="multi", text="?", options=SINGLE.options), [], False),
        (SINGLE, None, False),
    ],
)
def test_fits(question: Question, value: AnswerValue, expected: bool) -> None:
    assert fits(question, value) is expected


def test_a_changed_question_type_is_asked_afresh() -> None:
    survey = one_question_survey(Question(id="q", type="scale", text="Hvor mye?"))
    state = ResponseState(previous={"q": "a"})
    result = step(survey, state, Begin(), EDITABLE)
    assert "Sist svarte" not in last(result).text
    assert "a:q:1" in payloads(last(result))


def test_a_ranking_and_a_matrix_are_kept_when_the_same_areas_are_chosen_again() -> None:

    survey = ranking_and_matrix_survey()
    previous: dict[str, AnswerValue] = {
        "omrader": ["klima", "helse"],
        "rekkefolge": ["helse", "klima"],
        "hast": {"klima": 2, "helse": 5},
        "kanaler": ["chat", "mote"],
    }
    state = ResponseState(previous=previous)
    result = step(survey, state, Begin(), EDITABLE)
    for qid in ("omrader", "rekkefolge", "hast"):
        shown = result.messages[-1]
        assert "Sist svarte dere" in shown.text, qid
        assert f"k:{qid}" in [b.payload for b in shown.all_buttons()]
        result = step(survey, result.state, Pressed(f"k:{qid}"), EDITABLE)
    assert result.state.answers["hast"] == {"klima": 2, "helse": 5}
    assert result.state.answers["rekkefolge"] == ["helse", "klima"]


def test_a_ranking_of_other_areas_than_last_time_is_asked_afresh() -> None:

    survey = ranking_and_matrix_survey()
    previous: dict[str, AnswerValue] = {
        "omrader": ["klima", "helse"],
        "rekkefolge": ["helse", "klima"],
        "hast": {"klima": 2, "helse": 5},
    }
    result = step(survey, ResponseState(previous=previous), Begin(), EDITABLE)
    result = step(survey, result.state, Pressed("x:omrader"), EDITABLE)
    # "Endre" starts from last time's choice (klima, helse): klima out, skole in.
    for payload in ("t:omrader:klima", "t:omrader:skole", "n:omrader"):
        result = step(survey, result.state, Pressed(payload), EDITABLE)
    assert result.state.answers["omrader"] == ["helse", "skole"]
    shown = result.messages[-1]
    assert result.state.current == "rekkefolge" and "Sist svarte dere" not in shown.text
    assert "k:rekkefolge" not in [b.payload for b in shown.all_buttons()]
